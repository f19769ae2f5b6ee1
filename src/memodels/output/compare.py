"""``memodels.compare(res1, res2, ...)``: estimation results side by side, as Stata's
``estimates table`` ([R] estimates table) -- e.g. ``estimates table m1 m2, b se p
stats(N ll aic bic)``.

One column per model; one row per parameter (the union of the models' parameters, in
order of first appearance), with under each coefficient its standard error and p-value
when asked; then the statistics ``N`` (observations), ``ll`` (log likelihood), ``aic``,
``bic``, ``k`` (number of parameters, Stata's ``df`` of ``estat ic``), ``chi2`` and
``p`` (the model Wald test).  The parameters are memodels' names (``params``: the
fixed effects, then ``var(_cons[id])``, ``var(e)`` ... in the reporting metric), not
Stata's estimation metric (``lns1_1_1:_cons``).  Numbers are shown in ``%9.0g``
(coefficients and standard errors) and ``%4.3f`` (p-values), Stata's defaults.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import OptionError
from ..syntax.formats import g9

STATS = {"N": "nobs", "ll": "llf", "aic": "aic", "bic": "bic", "k": "n_params",
         "chi2": "wald_chi2", "p": "wald_p"}


@dataclass
class ComparisonTable:
    """The table (``frame``: rows (parameter, b|se|p) and (statistic, "")) and its
    Stata text (``str()``), HTML in notebooks."""

    frame: pd.DataFrame
    names: list[str]
    legend: str

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return self.text()

    def text(self) -> str:
        width = max(12, *(len(n) + 2 for n in self.names))
        # the label column fits the longest name (Stata's varwidth()), never truncated
        lw = max(12, *(len(str(k)) for k in self.frame.index.get_level_values(0)))
        sep = "-" * (lw + 1) + "+" + "-" * (width * len(self.names) + 1)
        lines = ["-" * len(sep),
                 f"{'Variable':>{lw}} |" + "".join(f"{n[:width - 1]:>{width}}"
                                                   for n in self.names),
                 sep]
        stat_rows = self.frame.index.get_level_values(1) == ""
        for (param, kind), row in self.frame[~stat_rows].iterrows():
            label = param if kind == "b" else ""
            cells = "".join(_cell(v, kind, width) for v in row)
            lines.append(f"{label:>{lw}} |{cells}".rstrip())
        if stat_rows.any():
            lines.append(sep)
            for (param, _), row in self.frame[stat_rows].iterrows():
                cells = "".join(_cell(v, "N" if param in ("N", "k") else "stat", width)
                                for v in row)
                lines.append(f"{param:>{lw}} |{cells}".rstrip())
        lines.append("-" * len(sep))
        lines.append(f"{'legend: ' + self.legend:>{len(sep)}}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        from .summary import to_html

        return to_html(self.text())


def _cell(v: Any, kind: str, width: int) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return " " * width
    if kind == "p":
        s = f"{float(v):.3f}"
    elif kind == "N":
        s = f"{int(v)}"
    else:
        s = g9(float(v)).strip()
    return f"{s:>{width - 1}} "


def compare(*results: Any, names: Sequence[str] | None = None, b: bool = True,
            se: bool = False, p: bool = False,
            stats: Sequence[str] = ("N", "ll", "aic", "bic")) -> ComparisonTable:
    """Side-by-side table of estimation results (Stata's ``estimates table``).

    Parameters
    ----------
    *results : results
        Fitted models (any estimation command), or one list of them.
    names : sequence of str, optional
        Column titles (default ``model1``, ``model2``, ...).
    b, se, p : bool
        Rows shown per parameter: the estimate (default), its standard error, its p-value.
    stats : sequence of str
        Model statistics under the table (``N``, ``ll``, ``aic``, ``bic``, ``k``,
        ``chi2``, ``p``).

    Returns
    -------
    ComparisonTable
        ``print()`` shows Stata's layout; ``.frame`` is the table as a DataFrame.

    Examples
    --------
    >>> import memodels
    >>> pig = memodels.datasets.load("pig")
    >>> m1 = memodels.mixed("weight week || id:", pig)
    >>> m2 = memodels.mixed("weight week || id: week", pig)
    >>> table = memodels.compare(m1, m2, se=True, stats=("N", "ll"))
    >>> "var(week[id])" in str(table)
    True
    """
    if not results:
        raise OptionError("compare: give at least one estimation result")
    if len(results) == 1 and isinstance(results[0], (list, tuple)):
        results = tuple(results[0])
    names = list(names) if names is not None else [f"model{i + 1}"
                                                   for i in range(len(results))]
    if len(names) != len(results):
        raise OptionError(f"compare: {len(names)} names for {len(results)} results")
    for res in results:
        if not hasattr(res, "params") or not hasattr(res, "llf"):
            raise OptionError(f"compare: {type(res).__name__} is not an estimation result")
    bad = [s for s in stats if s not in STATS]
    if bad:
        raise OptionError(f"compare: stats({' '.join(bad)}) not available (available: "
                          f"{', '.join(STATS)})")
    kinds = [k for k, on in (("b", b), ("se", se), ("p", p)) if on]
    if not kinds:
        raise OptionError("compare: nothing to show (b, se and p all off)")
    params = list(dict.fromkeys(n for res in results for n in res.params.index))
    rows, index = [], []
    for name in params:
        for kind in kinds:
            vals = []
            for res in results:
                src = {"b": res.params, "se": res.bse, "p": res.pvalues}[kind]
                vals.append(float(src[name]) if name in src.index else np.nan)
            rows.append(vals)
            index.append((name, kind))
    for s in stats:
        rows.append([float(getattr(res, STATS[s])) for res in results])
        index.append((s, ""))
    frame = pd.DataFrame(rows, index=pd.MultiIndex.from_tuples(index,
                                                               names=["parameter", "row"]),
                         columns=names)
    return ComparisonTable(frame, names, "/".join(kinds))


__all__ = ["ComparisonTable", "compare"]
