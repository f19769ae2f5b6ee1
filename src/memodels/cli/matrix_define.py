"""Defining matrices from their elements in a session ([P] matrix define, [P] matrix
input, [P] matrix rownames): the forms listed in :mod:`memodels.cli.cmd_matrix`."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import StataSyntaxError
from .common import SessionError
from .parsing import NAME_RX

if TYPE_CHECKING:
    from ..session import Session

_ASSIGN = re.compile(r"^\s*(?:(def(?:i(?:n(?:e)?)?)?|in(?:p(?:u(?:t)?)?)?)\s+)?"
                     r"([A-Za-z_]\w*)\s*=\s*(.+?)\s*$", re.DOTALL)
_NAMES = re.compile(r"^\s*(colnames|colname|coln|rownames|rowname|rown)\s+([A-Za-z_]\w*)\s*="
                    r"\s*(.+?)\s*$", re.DOTALL)


def _element(text: str, session: Session, literal_only: bool) -> float:
    t = text.strip()
    if t in (".", "") or re.fullmatch(r"\.[a-z]", t):
        if t == "":
            raise SessionError("matrix: an element is empty", 198)
        return float("nan")
    try:
        return float(t)
    except ValueError:
        pass
    if literal_only:
        raise SessionError(f"matrix input: {t!r} is not a number (matrix input takes "
                           "numbers only; use matrix define for expressions)", 198)
    from .cmd_display import evaluate_scalar

    value = evaluate_scalar(t, session)
    if isinstance(value, str):
        raise SessionError("type mismatch: a matrix element must be numeric", 109)
    return float(value)


def _split_top(text: str, sep: str) -> list[str]:
    out, depth, start = [], 0, 0
    for i, c in enumerate(text):
        if c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        elif c == sep and depth == 0:
            out.append(text[start:i])
            start = i + 1
    out.append(text[start:])
    return out


def _literal(body: str, session: Session, is_input: bool) -> pd.DataFrame:
    rows = _split_top(body, "\\")
    values: list[list[float]] = []
    for row in rows:
        if is_input and "," not in row:
            items = row.split()
        else:
            items = _split_top(row, ",")
        values.append([_element(x, session, is_input) for x in items])
    widths = {len(r) for r in values}
    if len(widths) != 1:
        raise SessionError("matrix: rows have different numbers of columns "
                           "(conformability error)", 503)
    k = widths.pop()
    return pd.DataFrame(values, index=[f"r{i + 1}" for i in range(len(values))],
                        columns=[f"c{j + 1}" for j in range(k)])


def _as_frame(value) -> pd.DataFrame:
    if isinstance(value, pd.Series):
        return value.to_frame(name="y1").T
    if isinstance(value, pd.DataFrame):
        return value.copy()
    arr = np.atleast_2d(np.asarray(value, dtype=float))
    return pd.DataFrame(arr, index=[f"r{i + 1}" for i in range(arr.shape[0])],
                        columns=[f"c{j + 1}" for j in range(arr.shape[1])])


def _function(expr: str, session: Session) -> pd.DataFrame | None:
    m = re.fullmatch(r"I\(\s*(.+?)\s*\)", expr)
    if m:
        n = int(_element(m.group(1), session, False))
        if n < 1:
            raise SessionError("I(): the dimension must be positive", 198)
        return _as_frame(np.eye(n))
    m = re.fullmatch(r"J\(\s*(.+?)\s*,\s*(.+?)\s*,\s*(.+?)\s*\)", expr)
    if m:
        r, c = (int(_element(m.group(k), session, False)) for k in (1, 2))
        if r < 1 or c < 1:
            raise SessionError("J(): the dimensions must be positive", 198)
        return _as_frame(np.full((r, c), _element(m.group(3), session, False)))
    m = re.fullmatch(r"diag\(\s*([A-Za-z_]\w*)\s*\)", expr)
    if m:  # a row or column vector -> diagonal matrix; a square matrix -> itself
        if m.group(1) not in session.matrices:
            raise SessionError(f"matrix {m.group(1)} not found", 111)
        frame = _as_frame(session.matrices[m.group(1)])
        if 1 not in frame.shape:
            raise SessionError("diag(): a row or column vector is required", 503)
        return _as_frame(np.diag(frame.to_numpy(float).ravel()))
    m = re.fullmatch(r"([A-Za-z_]\w*)\s*(')?", expr)
    if m and m.group(1) in session.matrices:
        frame = _as_frame(session.matrices[m.group(1)])
        return frame.T if m.group(2) else frame
    if m:
        raise SessionError(f"matrix {m.group(1)} not found", 111)
    return None


def mkmat(session: Session, rest: str) -> str:
    """``mkmat varlist [if] [in], matrix(name)`` ([P] matrix mkmat): the variables as the
    columns of a matrix (rows with a missing value are left out, as Stata does)."""
    from ..syntax.options import OptionTable
    from ..syntax.varlist import resolve_varlist
    from .parsing import arg, parse_opts, qualifier_mask, split_qualifiers

    data = session.require_data()
    parts = split_qualifiers(rest)
    names = resolve_varlist(parts.body, [str(c) for c in data.columns])
    if not names:
        raise SessionError("mkmat: varlist required", 100)
    opts = parse_opts(parts.options, OptionTable([arg("matrix", 3)]), "mkmat")
    target = opts.get("matrix", names[0] if len(names) == 1 else None)
    if target is None:
        raise SessionError("mkmat: matrix() required with several variables", 198)
    block = data.loc[qualifier_mask(data, parts), names].apply(pd.to_numeric, errors="coerce")
    block = block.dropna()
    frame = pd.DataFrame(block.to_numpy(float), columns=names,
                         index=[f"r{i + 1}" for i in range(len(block))])
    session.matrices[str(target).strip()] = frame
    return ""


def define_matrix(session: Session, rest: str) -> str:
    """``matrix [define|input] A = ...``, ``matrix colnames|rownames A = ...``,
    ``matrix drop``, ``matrix dir``."""
    text = rest.strip()
    words = text.split()
    if words and words[0] == "drop":
        for nm in words[1:]:
            if nm == "_all":
                session.matrices.clear()
            else:
                session.matrices.pop(nm, None)
        return ""
    if words and words[0] == "dir":
        return "\n".join(f"{nm}[{_as_frame(v).shape[0]},{_as_frame(v).shape[1]}]"
                         for nm, v in sorted(session.matrices.items()))
    m = _NAMES.match(text)
    if m:
        which, name, names = m.groups()
        if name not in session.matrices:
            raise SessionError(f"matrix {name} not found", 111)
        frame = _as_frame(session.matrices[name])
        labels = names.split()
        size = frame.shape[1] if which.startswith("col") else frame.shape[0]
        if len(labels) != size:
            raise SessionError(f"matrix {which} {name}: {size} names required "
                               f"({len(labels)} given)", 503)
        if which.startswith("col"):
            frame.columns = labels
        else:
            frame.index = labels
        session.matrices[name] = _store(frame)
        return ""
    m = _ASSIGN.match(text)
    if m is None:
        raise StataSyntaxError(f"matrix {text}: syntax is matrix [define] name = (...), "
                               "matrix input name = (...), matrix name = e(b)|e(V)|r(name), "
                               "matrix colnames|rownames name = ..., matrix list name")
    verb, name, expr = m.groups()
    if not NAME_RX.match(name):
        raise SessionError(f"{name} invalid name", 198)
    is_input = bool(verb) and verb.startswith("in")
    if expr.startswith("(") and expr.endswith(")"):
        frame = _literal(expr[1:-1], session, is_input)
    elif is_input:
        raise SessionError("matrix input: the matrix must be given in parentheses", 198)
    else:
        found = _function(expr, session)
        if found is None:
            raise StataSyntaxError(f"matrix {name} = {expr}: matrix expressions are limited "
                                   "to (elements), I(n), J(r,c,v), a matrix name and its "
                                   "transpose, e(b), e(V) and r(name)")
        frame = found
    session.matrices[name] = _store(frame)
    return ""


def _store(frame: pd.DataFrame):
    """A row vector is kept as a labelled vector (for ``from()``), others as frames."""
    if frame.shape[0] == 1 and frame.shape[1] > 1:
        return pd.Series(frame.iloc[0].to_numpy(float), index=list(frame.columns))
    return frame


__all__ = ["define_matrix", "mkmat"]
