"""``tabulate`` in a session, one-way ([R] tabulate oneway): the frequency table and
``generate(stub)``, which makes one indicator variable per level (``stub1``, ``stub2``...
in sorted order of the levels; missing where the variable is missing), as the manual's
``qui tabulate trial, gen(tr)`` ([ME] me, example 6) uses it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..syntax.options import OptionTable
from ..syntax.varlist import resolve_varlist
from .common import SessionError
from .parsing import NAME_RX, arg, flag, parse_opts, qualifier_mask, split_qualifiers

if TYPE_CHECKING:
    from ..session import Session

TAB_OPTIONS = OptionTable([arg("generate", 3), flag("missing", 1), flag("nofreq")])


def tabulate(session: Session, rest: str) -> str:
    """``tabulate var [if] [in] [, generate(stub) missing]``."""
    data = session.require_data()
    parts = split_qualifiers(rest)
    names = resolve_varlist(parts.body, [str(c) for c in data.columns])
    if len(names) != 1:
        raise SessionError("tabulate: one variable is supported (two-way tables are not)",
                           198)
    opts = parse_opts(parts.options, TAB_OPTIONS, "tabulate")
    var = names[0]
    mask = qualifier_mask(data, parts)
    col = data[var]
    keep = mask & (col.notna().to_numpy() | bool(opts.get("missing")))
    values = col[keep]
    levels = sorted(values.dropna().unique().tolist())
    stub = opts.get("generate")
    if stub is not None:
        stub = str(stub).strip()
        if not NAME_RX.match(stub):
            raise SessionError(f"generate({stub}): invalid stub", 198)
        new = [f"{stub}{k + 1}" for k in range(len(levels))]
        clash = [n for n in new if n in data.columns]
        if clash:
            raise SessionError(f"variable {clash[0]} already defined", 110)
        for name, level in zip(new, levels, strict=True):
            ind = np.where(col.to_numpy() == level, 1.0, 0.0)
            data[name] = np.where(keep & col.notna().to_numpy(), ind, np.nan)
    counts = values.value_counts(dropna=False)
    total = int(keep.sum())
    rows = [f"{var[:11]:>11} |      Freq.     Percent        Cum.", "-" * 12 + "+" + "-" * 35]
    cum = 0.0
    order = levels + ([np.nan] if values.isna().any() else [])
    for level in order:
        n = int(values.isna().sum()) if pd.isna(level) else int(counts.get(level, 0))
        pct = 100.0 * n / total if total else 0.0
        cum += pct
        label = "." if pd.isna(level) else (f"{level:g}" if isinstance(level, float)
                                            else str(level))
        rows.append(f"{label[:11]:>11} |{n:>11,}{pct:>12.2f}{cum:>12.2f}")
    rows += ["-" * 12 + "+" + "-" * 35, f"{'Total':>11} |{total:>11,}{100.0:>12.2f}"]
    return "\n".join(rows)


__all__ = ["tabulate"]
