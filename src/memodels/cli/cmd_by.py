"""The ``by`` and ``bysort`` prefixes and ``sort`` ([D] by, [D] sort, [U] 11.5 by varlist:
construct).

``by varlist [(varlist2)] [, sort]: command`` runs ``command`` on each group of
observations with equal values of ``varlist`` (the data must be sorted by them, else
Stata's "not sorted" r(5)); ``bysort varlist [(varlist2)]: command`` (or ``by ..., sort``)
sorts first, by ``varlist`` then ``varlist2``.  Within a group ``_n`` and ``_N`` count
the group's observations, so ``by id (week): generate first = _n == 1`` works as in
Stata.  Allowed commands: ``generate``, ``replace``, ``drop``, ``keep``, ``summarize``,
``list`` and the estimation commands (the last group's fit stays in ``e()``); others are
refused with Stata's r(190).  Missing values of a by-variable form their own group.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..syntax.varlist import resolve_varlist
from .common import SessionError
from .parsing import split_options, split_qualifiers

if TYPE_CHECKING:
    from ..session import Session

_BYABLE = ("generate", "replace", "drop", "keep", "summarize", "list")


def _split_by(rest: str) -> tuple[str, str]:
    """``"id (week), sort: gen ..."`` -> (``"id (week), sort"``, ``"gen ..."``)."""
    depth = 0
    for i, c in enumerate(rest):
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == ":" and depth == 0:
            return rest[:i].strip(), rest[i + 1:].strip()
    raise SessionError("by: a colon is required after the by-variables (by varlist: "
                       "command)", 198)


def sort_frame(data: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """``data`` sorted by ``keys`` (stable; missing values last, as Stata sorts them)."""
    return data.sort_values(keys, kind="stable", na_position="last").reset_index(drop=True)


def _is_sorted(data: pd.DataFrame, keys: list[str]) -> bool:
    return data[keys].reset_index(drop=True).equals(sort_frame(data[keys], keys))


def sort(session: Session, rest: str) -> str:
    """``sort varlist``: sort the observations (missing values last)."""
    data = session.require_data()
    body, options = split_options(rest)
    if options:
        raise SessionError("sort: options not allowed", 198)
    keys = resolve_varlist(body, [str(c) for c in data.columns])
    if not keys:
        raise SessionError("sort: varlist required", 100)
    session.data = sort_frame(data, keys)
    return ""


def _label(data: pd.DataFrame, keys: list[str], row: pd.Series) -> str:
    parts = []
    for k in keys:
        v = row[k]
        if isinstance(v, float | np.floating):
            text = "." if np.isnan(v) else f"{v:g}"
        else:
            text = str(v)
        parts.append(f"{k} = {text}")
    return "-> " + ", ".join(parts)


def by(session: Session, word: str, rest: str) -> str:
    """``by``/``bysort`` prefix (see the module docstring)."""
    from ..session import resolve_command, split_prefixes

    data = session.require_data()
    spec, command = _split_by(rest)
    spec, options = split_options(spec)
    sort_opt = False
    if options:
        if options.strip() not in ("sort", "so", "sor"):
            raise SessionError(f"by: option {options.strip()} not allowed (sort is)", 198)
        sort_opt = True
    m = re.match(r"^([^()]*?)\s*(?:\(([^()]*)\))?$", spec)
    if m is None or not m.group(1).strip():
        raise SessionError("by: varlist required", 100)
    columns = [str(c) for c in data.columns]
    keys = resolve_varlist(m.group(1), columns)
    within = resolve_varlist(m.group(2), columns) if m.group(2) else []
    prefixes, inner = split_prefixes(command)
    cmd_word = re.match(r"[A-Za-z_]\w*", inner)
    if cmd_word is None:
        raise SessionError("by: command required after the colon", 198)
    name, estimation = resolve_command(cmd_word.group(0))
    if not estimation and name not in _BYABLE:
        raise SessionError(f"{cmd_word.group(0)} may not be combined with by", 190)
    if split_qualifiers(inner[cmd_word.end():]).in_range is not None and not estimation:
        raise SessionError("in may not be combined with by", 190)
    order = keys + within
    if word in ("bysort", "bys") or sort_opt:
        data = sort_frame(data, order)
    elif not _is_sorted(data, order):
        raise SessionError("not sorted", 5)
    groups = data.groupby(keys, sort=False, dropna=False).indices
    pieces: list[pd.DataFrame] = []
    outputs: list[str] = []
    original = session.data
    changes_before = data
    try:
        for idx in groups.values():
            sub = data.iloc[np.sort(idx)].reset_index(drop=True)
            session.data = sub
            text = session.execute(command)
            if name in ("generate", "replace", "drop", "keep"):
                pieces.append(session.data)
            else:
                head = "-" * 78 + "\n" + _label(sub, keys, sub.iloc[0])
                outputs.append(head + ("\n\n" + text.strip("\n") if text.strip() else ""))
    except Exception:
        session.data = original
        raise
    if name in ("generate", "replace", "drop", "keep"):
        new = pd.concat(pieces, ignore_index=True) if pieces else data.iloc[:0]
        session.data = new
        return _data_message(name, changes_before, new, inner)
    session.data = data
    return "\n".join(outputs)


def _data_message(name: str, before: pd.DataFrame, after: pd.DataFrame, inner: str) -> str:
    """The message of generate/replace/drop/keep for the whole data, as Stata prints it
    once after ``by``."""
    if name in ("drop", "keep"):
        deleted = len(before) - len(after)
        if deleted == 0 and list(before.columns) != list(after.columns):
            return ""
        return f"({deleted:,} observation{'s' if deleted != 1 else ''} deleted)"
    var = re.match(r"[A-Za-z_]\w*\s+(?:(?:byte|int|long|float|double|str\d+)\s+)?"
                   r"([A-Za-z_]\w*)", inner)
    col = var.group(1) if var else None
    if col is None or col not in after.columns:
        return ""
    if name == "generate":
        if pd.api.types.is_numeric_dtype(after[col].dtype):
            missing = int(after[col].isna().sum())
            return (f"({missing:,} missing value{'s' if missing != 1 else ''} generated)"
                    if missing else "")
        return ""
    old, new = before[col], after[col]
    if pd.api.types.is_numeric_dtype(new.dtype):
        a, b = old.to_numpy(float), new.to_numpy(float)
        same = (a == b) | (np.isnan(a) & np.isnan(b))
    else:
        same = old.astype(str).to_numpy() == new.astype(str).to_numpy()
    changed = int((~same).sum())
    return f"({changed:,} real change{'s' if changed != 1 else ''} made)"




def statsby(session: Session, rest: str) -> str:
    """``statsby [_b | _se | _b _se], by(varlist) clear: command`` ([D] statsby): the
    command is run on each group and the data are replaced by one observation per group
    with the group's values and the coefficients (``_b_name``) and/or standard errors
    (``_se_name``) of memodels' e(b) (variance components as reported, ``var(...)``;
    Stata's e(b) holds them as log standard deviations), names formed as Stata forms them
    (non-alphanumeric characters as ``_``)."""
    from ..syntax.options import OptionTable
    from .parsing import arg, flag, parse_opts

    data = session.require_data()
    head, colon, command = rest.partition(":")
    if not colon or not command.strip():
        raise SessionError("statsby: the command follows a colon (statsby, by(g) clear: "
                           "mixed ...)", 198)
    exps, options = split_options(head)
    opts = parse_opts(options, OptionTable([arg("by"), flag("clear"), flag("nodots")]),
                      "statsby")
    if not opts.get("by"):
        raise SessionError("statsby: by() required", 198)
    if not opts.get("clear"):
        raise SessionError("statsby: the data in memory would be replaced; specify clear",
                           4)
    what = exps.split() or ["_b"]
    for w in what:
        if w not in ("_b", "_se"):
            raise SessionError(f"statsby: {w}: only _b and _se are supported", 198)
    keys = resolve_varlist(str(opts["by"]), [str(c) for c in data.columns])
    rows = []
    try:
        for _, idx in data.groupby(keys, sort=True, dropna=False).indices.items():
            sub = data.iloc[np.sort(idx)].reset_index(drop=True)
            session.data = sub
            session.execute("quietly " + command.strip())
            res = session.require_e()
            row = {k: sub[k].iloc[0] for k in keys}
            for w in what:
                values = res.params if w == "_b" else res.bse
                for name, v in values.items():
                    row[w + "_" + re.sub(r"\W", "_", str(name)).strip("_")] = float(v)
            rows.append(row)
    except Exception:
        session.data = data
        raise
    session.data = pd.DataFrame(rows)
    return f"(statsby: {len(rows)} groups)"


__all__ = ["by", "sort", "sort_frame", "statsby"]
