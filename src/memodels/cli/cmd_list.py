"""``list`` and ``summarize`` in a session ([D] list, [R] summarize), minimal: Stata's
boxed list (a separator every 5 rows, or where ``sepby()`` variables change; ``noobs``,
``clean``, ``separator(#)``) and the summary table (Obs, Mean, Std. Dev., Min, Max)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..output import numfmt
from ..syntax.options import OptionTable
from ..syntax.varlist import resolve_varlist
from .parsing import arg, flag, parse_opts, qualifier_mask, split_qualifiers, to_int

if TYPE_CHECKING:
    from ..session import Session

LIST_OPTIONS = OptionTable([arg("sepby", 4), arg("separator", 3, to_int), flag("noobs"),
                            flag("clean")])


def _cells(col: pd.Series) -> tuple[list[str], bool]:
    """The displayed values of a column, and whether it is numeric (right-aligned)."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        return ["" if pd.isna(v) else str(v) for v in col], False
    if pd.api.types.is_bool_dtype(col.dtype):
        return [str(int(v)) for v in col], True
    if pd.api.types.is_numeric_dtype(col.dtype):
        return [numfmt.g9(float(v)) for v in col.to_numpy(dtype=float, na_value=np.nan)], True
    return ["" if pd.isna(v) else str(v) for v in col], False


def _varlist(data: pd.DataFrame, body: str) -> list[str]:
    columns = [str(c) for c in data.columns]
    return resolve_varlist(body, columns) if body.strip() else columns


def list_(session: Session, rest: str) -> str:
    """``list [varlist] [if] [in] [, sepby(varlist) separator(#) noobs clean]``."""
    data = session.require_data()
    parts = split_qualifiers(rest)
    names = _varlist(data, parts.body)
    opts = parse_opts(parts.options, LIST_OPTIONS, "list")
    rows = np.flatnonzero(qualifier_mask(data, parts))
    sub = data.iloc[rows]
    cols = []
    for nm in names:
        cells, right = _cells(sub[nm])
        width = max([len(nm), *(len(c) for c in cells)])
        cols.append((nm, cells, right, width))
    obs_w = max(4, len(str(len(data))) + 1)
    clean = bool(opts.get("clean"))
    pad = " " * obs_w + " "

    def line(values: list[str]) -> str:
        cells = [f"{v:>{w}}" if right else f"{v:<{w}}"
                 for v, (_, _, right, w) in zip(values, cols, strict=True)]
        return "   ".join(cells) if clean else "| " + "   ".join(cells) + " |"

    header = line([nm for nm, *_ in cols])
    inner = len(header) - 2
    border = pad + "+" + "-" * inner + "+"
    rule = pad + "|" + "-" * inner + "|"
    out = [] if clean else [border]
    out.append(pad + header)
    if not clean:
        out.append(rule)
    sepby = _varlist(data, opts["sepby"]) if opts.get("sepby") else []
    every = int(opts.get("separator", 5)) if not sepby else 0
    keys = [tuple(sub[v].iloc[i] for v in sepby) for i in range(len(sub))] if sepby else []
    for i in range(len(sub)):
        if i and not clean and ((every and i % every == 0) or (sepby and keys[i] != keys[i - 1])):
            out.append(rule)
        obs = "" if opts.get("noobs") else f"{rows[i] + 1}."
        out.append(f"{obs:>{obs_w}} " + line([c[1][i] for c in cols]))
    if not clean:
        out.append(border)
    return "\n".join(out)


def summarize(session: Session, rest: str) -> str:
    """``summarize [varlist] [if] [in]``: Obs, Mean, Std. Dev., Min, Max."""
    data = session.require_data()
    parts = split_qualifiers(rest)
    if parts.options:
        parse_opts(parts.options, OptionTable([]), "summarize")
    names = _varlist(data, parts.body)
    sub = data.loc[qualifier_mask(data, parts)]
    lines = ["    Variable |        Obs        Mean    Std. Dev.       Min        Max",
             "-------------+---------------------------------------------------------"]
    for nm in names:
        col = sub[nm]
        numeric = pd.api.types.is_numeric_dtype(col.dtype) and not isinstance(
            col.dtype, pd.CategoricalDtype)
        if not numeric:
            lines.append(f"{nm[-12:]:>12} | {0:>10}")
            continue
        x = col.to_numpy(dtype=float, na_value=np.nan)
        x = x[~np.isnan(x)]
        if x.size == 0:
            lines.append(f"{nm[-12:]:>12} | {0:>10}")
            continue
        sd = float(np.std(x, ddof=1)) if x.size > 1 else float("nan")
        lines.append(f"{nm[-12:]:>12} | {x.size:>10,} {numfmt.g9(float(x.mean())):>11} "
                     f"{numfmt.g9(sd):>11} {numfmt.g9(float(x.min())):>10} "
                     f"{numfmt.g9(float(x.max())):>10}")
    return "\n".join(lines)


__all__ = ["LIST_OPTIONS", "list_", "summarize"]
