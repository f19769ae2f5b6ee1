"""Parsing pieces of Stata command lines for the session's commands ([U] 11 Language
syntax): ``[varlist] [if exp] [in range] [, options]``, numlists, ``at()`` lists and
option tables with Stata's abbreviations (reusing :mod:`memodels.syntax`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import OptionError, StataSyntaxError
from ..syntax.expressions import evaluate_condition, parse_expression
from ..syntax.options import OptionDef, OptionTable, apply_def, iter_option_items, set_option
from ..syntax.tokens import split_top_level
from ..syntax.varlist import resolve_name

NAME_RX = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,31}$")
_KEYWORD = re.compile(r"(?<![\w.])(if|in)(?![\w.])")


@dataclass(frozen=True)
class Parts:
    """A command's arguments cut into ``body [if exp] [in range] [, options]``."""

    body: str
    if_expr: str | None
    in_range: str | None
    options: str


def split_options(text: str) -> tuple[str, str]:
    """``"x y if z, opt(1)"`` -> (``"x y if z"``, ``"opt(1)"``) at the first top-level
    comma."""
    pieces = split_top_level(text, ",")
    if len(pieces) == 1:
        return text.strip(), ""
    return pieces[0][1].strip(), text[pieces[1][0]:].strip()


def _keyword_positions(text: str) -> list[tuple[int, str]]:
    """Top-level ``if``/``in`` keywords (outside parentheses, brackets and quotes)."""
    found: list[tuple[int, str]] = []
    depth = 0
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = text.find('"', i + 1)
            i = n if j < 0 else j + 1
            continue
        if c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        elif depth == 0 and c in "i":
            m = _KEYWORD.match(text, i)
            if m and (i == 0 or text[i - 1].isspace()):
                found.append((i, m.group(1)))
                i = m.end()
                continue
        i += 1
    return found


def split_qualifiers(text: str, *, options: bool = True) -> Parts:
    """Cut ``body [if exp] [in range] [, options]`` (``if`` and ``in`` in either order)."""
    before, opts = split_options(text) if options else (text.strip(), "")
    marks = _keyword_positions(before)
    if not marks:
        return Parts(before, None, None, opts)
    body = before[: marks[0][0]].strip()
    if_expr = in_range = None
    bounds = [m[0] for m in marks] + [len(before)]
    for (pos, word), end in zip(marks, bounds[1:], strict=True):
        chunk = before[pos + len(word): end].strip()
        if not chunk:
            what = "an expression" if word == "if" else "a range"
            raise StataSyntaxError(f"{word} requires {what}")
        if word == "if":
            if if_expr is not None:
                raise StataSyntaxError("if may not be specified twice")
            if_expr = chunk
        else:
            if in_range is not None:
                raise StataSyntaxError("in may not be specified twice")
            in_range = chunk
    return Parts(body, if_expr, in_range, opts)


def _bound(tok: str, n: int) -> int:
    t = tok.strip()
    if t in ("f", "F"):
        return 0
    if t in ("l", "L"):
        return n - 1
    try:
        v = int(t)
    except ValueError:
        raise StataSyntaxError(f"invalid in range element {t!r}") from None
    if v == 0:
        raise StataSyntaxError("observation number 0 in in range is invalid")
    return v - 1 if v > 0 else n + v


def in_mask(spec: str, n: int) -> np.ndarray:
    """``in f/l``, ``in 5``, ``in 1/10``, ``in -5/l`` -> a boolean mask over n rows."""
    lo_txt, _, hi_txt = spec.partition("/")
    lo = _bound(lo_txt, n)
    hi = _bound(hi_txt, n) if hi_txt else lo
    if lo < 0 or hi >= n or lo > hi:
        raise StataSyntaxError(f"in {spec}: observation numbers out of range (1 to {n})")
    mask = np.zeros(n, dtype=bool)
    mask[lo : hi + 1] = True
    return mask


def qualifier_mask(data: pd.DataFrame, parts: Parts) -> np.ndarray:
    """The rows selected by ``if`` and ``in`` (all rows when neither is given)."""
    mask = np.ones(len(data), dtype=bool)
    if parts.in_range is not None:
        mask &= in_mask(parts.in_range, len(data))
    if parts.if_expr is not None:
        node = parse_expression(parts.if_expr, [str(c) for c in data.columns])
        mask &= np.asarray(evaluate_condition(node, data), dtype=bool)
    return mask


# ------------------------------------------------------------------ numlists
_NUMLIST_ITEM = re.compile(r"^(-?[\d.]+(?:e[+-]?\d+)?)(?:(/|\(|\[)(-?[\d.]+)[)\]]?"
                           r"(-?[\d.]+(?:e[+-]?\d+)?)?)?$", re.IGNORECASE)


def _range(a: float, step: float, b: float) -> list[float]:
    if step == 0 or (b - a) * step < 0:
        raise StataSyntaxError(f"invalid numlist range {a:g}({step:g}){b:g}")
    k = int(np.floor((b - a) / step + 1e-9))
    return [round(a + i * step, 12) for i in range(k + 1)]


def numlist(text: str) -> list[float]:
    """Stata's numlist: ``1 2 3``, ``1/5``, ``20(5)70``, ``0[.5]2`` and mixtures."""
    out: list[float] = []
    for item in re.split(r"[\s,]+", text.strip()):
        if not item:
            continue
        m = _NUMLIST_ITEM.match(item)
        try:
            if m is None:
                raise ValueError
            a = float(m.group(1))
            if m.group(2) is None:
                out.append(a)
            elif m.group(2) == "/":
                out += _range(a, 1.0 if float(m.group(3)) >= a else -1.0, float(m.group(3)))
            else:
                out += _range(a, float(m.group(3)), float(m.group(4)))
        except (ValueError, TypeError):
            raise StataSyntaxError(f"invalid numlist {text.strip()!r} (near {item!r})") from None
    if not out:
        raise StataSyntaxError("numlist required")
    return out


def tidy_number(v: float) -> int | float:
    """1.0 -> 1 (for labels); other values unchanged."""
    return int(v) if float(v).is_integer() and abs(v) < 2**53 else float(v)


# ------------------------------------------------------------------ at() lists
_AT_ITEM = re.compile(r"\s*([A-Za-z_]\w*)\s*=\s*(\((?:[^()]|\([^()]*\))*\)|[^\s()=]+)\s*")


def parse_assignments(text: str, columns: Sequence[str], what: str) -> dict[str, list[Any]]:
    """``female=0 age=(20(5)70)`` -> ``{"female": [0], "age": [20, 25, ..., 70]}``;
    values of string or categorical variables stay strings."""
    out: dict[str, list[Any]] = {}
    pos = 0
    text = text.strip()
    if text.startswith("("):
        raise OptionError(f"{what}((statistic) varlist) is not supported; give values: "
                          f"{what}(var=# ...)")
    while pos < len(text):
        m = _AT_ITEM.match(text, pos)
        if m is None:
            raise OptionError(f"{what}({text}): invalid near {text[pos:]!r}; use "
                              f"{what}(var=# var=(numlist) ...)")
        found = resolve_name(m.group(1), columns)
        if len(found) != 1:
            raise OptionError(f"{what}(): {m.group(1)} must name one variable")
        raw = m.group(2)
        raw = raw[1:-1] if raw.startswith("(") else raw
        out[found[0]] = [raw]
        pos = m.end()
    if not out:
        raise OptionError(f"{what}() requires var=value")
    return out


def typed_values(raw: dict[str, list[Any]], data: pd.DataFrame | None) -> dict[str, list[Any]]:
    """Expand the raw value texts of :func:`parse_assignments`: numlists for numeric
    variables, words for string or categorical ones."""
    out: dict[str, list[Any]] = {}
    for var, (text,) in raw.items():
        col = data[var] if data is not None and var in data.columns else None
        numeric = col is None or (pd.api.types.is_numeric_dtype(col.dtype)
                                  and not isinstance(col.dtype, pd.CategoricalDtype))
        if numeric:
            out[var] = [tidy_number(v) for v in numlist(text)]
        else:
            out[var] = [w.strip('"') for w in text.split()]
    return out


# ------------------------------------------------------------------ options
def flag(name: str, k: int = 0) -> OptionDef:
    """An option without argument, abbreviable to its first ``k`` letters."""
    return OptionDef(name, k, "none")


def arg(name: str, k: int = 0, convert: Any = None) -> OptionDef:
    """An option with a required argument."""
    return OptionDef(name, k, "required", convert)


def optional_arg(name: str, k: int = 0) -> OptionDef:
    """An option whose argument may be omitted."""
    return OptionDef(name, k, "optional")


def to_level(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise OptionError(f"level({text}) invalid") from None
    if not 10 <= v <= 99.99:
        raise OptionError(f"level({text}) must be between 10 and 99.99")
    return v


def to_int(text: str) -> int:
    try:
        return int(float(text))
    except ValueError:
        raise OptionError(f"{text!r} is not an integer") from None


def to_float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise OptionError(f"{text!r} is not a number") from None


LEVEL = arg("level", 3, to_level)


def parse_opts(text: str, table: OptionTable, command: str) -> dict[str, Any]:
    """Options against ``table`` (abbreviations allowed); an unknown one is an error
    naming the command."""
    out: dict[str, Any] = {}
    for name, value in iter_option_items(text):
        d = table.find(name)
        if d is None:
            raise OptionError(f"{command}: option {name} not allowed")
        key, parsed = apply_def(d, value, name)
        set_option(out, d, key, parsed)
    return out


def new_names(body: str, columns: Sequence[str], command: str) -> list[str]:
    """New variable names (a trailing ``*`` makes a stub); existing names are errors."""
    names = body.split()
    if not names:
        raise StataSyntaxError(f"{command}: new variable name required")
    for nm in names:
        base = nm[:-1] if nm.endswith("*") else nm
        if not NAME_RX.match(base):
            raise StataSyntaxError(f"{command}: {nm} invalid name")
        if nm == base and nm in columns:
            raise StataSyntaxError(f"variable {nm} already defined")
    return names


def expand_names(names: list[str], k: int, columns: Sequence[str], what: str) -> list[str]:
    """``["re*"]`` -> ``["re1", ..., "rek"]``; an explicit list must have k names."""
    if len(names) == 1 and names[0].endswith("*"):
        stub = names[0][:-1]
        out = [f"{stub}{i + 1}" for i in range(k)]
    elif any(n.endswith("*") for n in names):
        raise StataSyntaxError(f"{what}: a stub (name*) must be the only name")
    else:
        out = list(names)
    if len(out) != k:
        s = "s" if k != 1 else ""
        raise StataSyntaxError(f"{what}: {k} new variable{s} needed ({len(out)} given); give "
                               f"{k} name{s} or a stub such as x*")
    for nm in out:
        if nm in columns:
            raise StataSyntaxError(f"variable {nm} already defined")
    return out


__all__ = [
    "LEVEL", "Parts", "arg", "expand_names", "flag", "in_mask", "new_names", "numlist",
    "optional_arg", "parse_assignments", "parse_opts", "qualifier_mask", "split_options",
    "split_qualifiers", "tidy_number", "to_float", "to_int", "to_level", "typed_values",
]
