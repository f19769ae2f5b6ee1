"""Data commands of a session: ``use``, ``webuse``, ``stset``, ``generate``, ``replace``,
``drop``, ``keep``, ``set`` and the ignored ``version``/``log`` ([D] use, [D] generate,
[D] drop, [ST] stset).  Expressions are evaluated by
:mod:`memodels.syntax.expressions` (Stata's operators, missing values and functions)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import OptionError, StataSyntaxError
from ..syntax.expressions import evaluate, parse_expression
from ..syntax.options import OptionTable
from ..syntax.varlist import resolve_varlist
from .cmd_display import display, substitute
from .cmd_list import list_, summarize
from .cmd_program import time_series_operators
from .common import SessionError
from .parsing import (
    NAME_RX,
    Parts,
    arg,
    flag,
    parse_opts,
    qualifier_mask,
    split_options,
    split_qualifiers,
    to_float,
)

if TYPE_CHECKING:
    from ..session import Session

_ASSIGN = re.compile(r"^\s*(?:(byte|int|long|float|double|str\d+|strL)\s+)?([A-Za-z_]\w*)\s*"
                     r"=(?!=)(.*)$", re.DOTALL)


# ----------------------------------------------------------------------- use
def _filename(body: str) -> str:
    name = body.strip()
    if len(name) >= 2 and name[0] == name[-1] == '"':
        name = name[1:-1]
    if not name:
        raise SessionError("a file name is required", 198)
    return name


def use(session: Session, rest: str) -> str:
    """``use FILE [, clear]``: a .csv, .dta or .parquet file (:func:`memodels.read_data`)."""
    from ..io import load_data_file

    body, options = split_options(rest)
    parse_opts(options, OptionTable([flag("clear")]), "use")
    session.data = load_data_file(_filename(body))
    return ""


def webuse(session: Session, rest: str) -> str:
    """``webuse NAME [, clear]``: one of the datasets shipped with memodels."""
    from ..datasets import load

    body, options = split_options(rest)
    parse_opts(options, OptionTable([flag("clear")]), "webuse")
    session.data = load(_filename(body).removesuffix(".dta"))
    return ""


STSET_OPTIONS = OptionTable([arg("failure", 1), arg("id"), arg("origin", 1), arg("enter", 2),
                             arg("scale", 2, to_float)])


def _time_value(text: str) -> str | float:
    try:
        return float(text)
    except ValueError:
        return text


def stset(session: Session, rest: str) -> str:
    """``stset time [, failure(var[==numlist]) id(var) origin(...) enter(...) scale(#)]``."""
    from ..survival.stset import stset as st_set

    data = session.require_data()
    body, options = split_options(rest)
    opts = parse_opts(options, STSET_OPTIONS, "stset")
    words = body.split()
    if len(words) != 1:
        raise SessionError("stset: one time variable required")
    kwargs = {k: (_time_value(v) if k in ("origin", "enter") else v) for k, v in opts.items()
              if k != "failure"}
    out = st_set(data, words[0], opts.get("failure"), **kwargs)
    session.data = out
    st = out.st
    return "\n".join([*st.header_lines(), "",
                      f"{st.n_subjects:,} subjects, {st.n_failures:,} failures, total "
                      f"analysis time at risk {st.total_time:g}"])


# ----------------------------------------------------------------- generate
def _evaluate(expr: str, data: pd.DataFrame) -> np.ndarray:
    node = parse_expression(expr, [str(c) for c in data.columns])
    values = evaluate(node, data)
    if values.dtype == bool:
        return values.astype(float)
    return values


def _assignment(rest: str, command: str) -> tuple[str, str, Parts]:
    m = _ASSIGN.match(rest)
    if m is None:
        raise SessionError(f"{command}: syntax is {command} newvar = exp [if] [in]")
    parts = split_qualifiers(m.group(3))
    if parts.options:
        raise OptionError(f"{command}: options not allowed")
    if not parts.body:
        raise SessionError(f"{command}: expression required after =")
    return m.group(2), parts.body, parts


def generate(session: Session, rest: str) -> str:
    """``generate newvar = exp [if] [in]``; missing (or "") where the condition fails.
    ``_b[]``, ``_se[]`` (every Stata spelling, ``_b[lns1_1_1:_cons]`` included),
    ``e(ll)``-style scalars and ``r()`` results are replaced by their values first, as
    in ``display`` ([U] 13.5 Accessing coefficients and standard errors)."""
    data = session.require_data()
    name, expr, parts = _assignment(substitute(rest, session), "generate")
    if not NAME_RX.match(name):
        raise SessionError(f"{name} invalid name")
    if name in data.columns:
        raise SessionError(f"variable {name} already defined", 110)
    expr, frame = time_series_operators(session, expr, data)
    values = _evaluate(expr, frame)
    mask = qualifier_mask(data, parts)
    if values.dtype == object:
        data[name] = np.where(mask, values, "")
        return ""
    data[name] = np.where(mask, values, np.nan)
    missing = int(np.isnan(data[name].to_numpy(float)).sum())
    return f"({missing:,} missing value{'s' if missing != 1 else ''} generated)" if missing \
        else ""


def replace(session: Session, rest: str) -> str:
    """``replace var = exp [if] [in]``; reports the number of real changes (``_b[]``,
    ``_se[]``, ``e()`` and ``r()`` as in :func:`generate`)."""
    data = session.require_data()
    name, expr, parts = _assignment(substitute(rest, session), "replace")
    if name not in data.columns:
        raise SessionError(f"variable {name} not found", 111)
    expr, frame = time_series_operators(session, expr, data)
    values = _evaluate(expr, frame)
    mask = qualifier_mask(data, parts)
    old = data[name]
    is_str = not pd.api.types.is_numeric_dtype(old.dtype)
    if is_str != (values.dtype == object):
        raise SessionError("type mismatch", 109)
    if is_str:
        before = old.astype(object).where(old.notna(), "").to_numpy(dtype=object)
        after = np.where(mask, values, before)
        changed = int((after != before).sum())
        data[name] = after
        return f"({changed:,} real change{'s' if changed != 1 else ''} made)"
    before = old.to_numpy(dtype=float, na_value=np.nan)
    after = np.where(mask, values, before)
    same = (before == after) | (np.isnan(before) & np.isnan(after))
    changed = int((~same).sum())
    to_missing = int((~same & np.isnan(after)).sum())
    data[name] = after
    text = f"({changed:,} real change{'s' if changed != 1 else ''} made"
    return text + (f", {to_missing:,} to missing)" if to_missing else ")")


# ---------------------------------------------------------------- drop, keep
def _drop_keep(session: Session, rest: str, keep: bool) -> str:
    data = session.require_data()
    command = "keep" if keep else "drop"
    parts = split_qualifiers(rest)
    if parts.options:
        raise OptionError(f"{command}: options not allowed")
    if parts.if_expr is None and parts.in_range is None:
        if not parts.body:
            raise SessionError(f"{command}: varlist or if/in required")
        names = resolve_varlist(parts.body, [str(c) for c in data.columns])
        if keep:
            session.data = data[[c for c in data.columns if c in names]].copy()
        else:
            session.data = data.drop(columns=names)
        return ""
    if parts.body:
        raise SessionError(f"{command}: give a varlist or if/in, not both")
    mask = qualifier_mask(data, parts)
    selected = mask if keep else ~mask
    deleted = int((~selected).sum())
    session.data = data.loc[selected].copy()
    return f"({deleted:,} observation{'s' if deleted != 1 else ''} deleted)"


def drop(session: Session, rest: str) -> str:
    """``drop varlist`` or ``drop if exp`` / ``drop in range``."""
    return _drop_keep(session, rest, keep=False)


def keep(session: Session, rest: str) -> str:
    """``keep varlist`` or ``keep if exp`` / ``keep in range``."""
    return _drop_keep(session, rest, keep=True)


# ----------------------------------------------------------------------- set
_SET_IGNORED = ("more", "matsize", "rmsg", "maxvar", "varabbrev", "type")


def set_(session: Session, rest: str) -> str:
    """``set seed #`` (numpy's global generator); ``set linesize #`` (the width the
    estimation tables may stretch to, see ``lstretch``); ``set more``... ignored."""
    words = rest.split()
    if not words:
        raise SessionError("set: setting required (e.g. set seed 12345)")
    if words[0] == "seed":
        if len(words) != 2 or not words[1].isdigit():
            raise SessionError("set seed: a nonnegative integer is required")
        session.seed = int(words[1])
        np.random.seed(session.seed % 2**32)
        return ""
    if words[0] == "linesize":  # the width the tables may stretch to (lstretch)
        if len(words) != 2 or not words[1].isdigit() or not 40 <= int(words[1]) <= 255:
            raise SessionError("set linesize: an integer between 40 and 255 is required",
                               198)
        session.linesize = int(words[1])
        return ""
    if words[0] in _SET_IGNORED:
        return ""
    raise StataSyntaxError(f"set {words[0]} is not supported (set seed # is)")


def ignored(session: Session, rest: str) -> str:
    """``version``, ``log using`` ...: accepted and ignored (the log is the output)."""
    return ""


__all__ = ["display", "drop", "generate", "ignored", "keep", "list_", "replace", "set_",
           "stset", "summarize", "use", "webuse"]
