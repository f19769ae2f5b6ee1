"""``marginsplot`` ([R] marginsplot): the margins computed by ``res.margins`` against the
first ``at()`` (or ``margins f``) variable, one line per combination of the other at()
variables, with the confidence intervals of the table (``ci_lower``, ``ci_upper``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import OptionError
from .axes import new_axes

_STATS = ("margin", "se", "z", "p", "t", "ci_lower", "ci_upper", "term", "_set", "_outcome",
          "outcome")


def marginsplot(table: pd.DataFrame, x: str | None = None, *, ci: bool = True,
                ax: Any = None, pyplot: bool = True) -> Any:
    """Plot margins with their confidence intervals.

    Parameters
    ----------
    table : pandas.DataFrame
        What :meth:`res.margins(data, at=...) <memodels.results.base.EstimationResults.margins>`
        returns (columns ``margin``, ``ci_lower``, ``ci_upper`` and the at() variables).
    x : str, optional
        The at() variable on the horizontal axis (default: the first one).  The other
        at() variables give one line each.
    ci : bool
        Draw the confidence intervals (Stata's ``noci`` is ``ci=False``).
    ax : matplotlib.axes.Axes, optional
        Where to draw; by default a new figure.
    pyplot : bool
        With no ``ax``, make the figure with pyplot (default) or as a bare
        :class:`matplotlib.figure.Figure` (for saving to a file only).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on: one errorbar container per line (``ax.containers``).

    Examples
    --------
    >>> import memodels, memodels.plot
    >>> pig = memodels.datasets.load("pig")
    >>> res = memodels.mixed("weight week || id:", pig, nolog=True)
    >>> tab = res.margins(pig, at={"week": [1, 5, 9]})
    >>> ax = memodels.plot.marginsplot(tab, pyplot=False)
    >>> ax.get_xlabel()
    'week'
    """
    if not isinstance(table, pd.DataFrame) or "margin" not in table.columns:
        raise OptionError("marginsplot needs the table that res.margins() returns")
    cols = [c for c in table.columns if c not in _STATS]
    if x is None:
        if not cols:
            raise OptionError("marginsplot needs margins computed at() some values "
                              "(or over the levels of a factor)")
        x = cols[0]
    elif x not in cols:
        raise OptionError(f"marginsplot: {x} is not an at() variable of the margins "
                          f"({', '.join(cols) or 'none'})")
    ax = new_axes(ax, pyplot=pyplot)
    others = [c for c in cols if c != x]
    numeric = pd.api.types.is_numeric_dtype(table[x]) and not isinstance(
        table[x].dtype, pd.CategoricalDtype)
    labels = list(dict.fromkeys(table[x].tolist()))  # a string factor: its levels in order
    position = {v: float(k) for k, v in enumerate(labels)}
    groups = table.groupby(others, sort=True) if others else [((), table)]
    for key, part in groups:
        part = part.sort_values(x) if numeric else part
        xs = part[x].to_numpy(dtype=float) if numeric else np.array(
            [position[v] for v in part[x]])
        err = np.vstack([part["margin"] - part["ci_lower"], part["ci_upper"] - part["margin"]])
        label = ", ".join(f"{o}={k}" for o, k in zip(others, np.atleast_1d(key),
                                                     strict=False)) or None
        ax.errorbar(xs, part["margin"].to_numpy(dtype=float),
                    yerr=err if ci else None, marker="o", capsize=3, label=label)
    if not numeric:
        ax.set_xticks(list(position.values()))
        ax.set_xticklabels([str(v) for v in labels])
    ax.set_xlabel(x)
    ax.set_ylabel(table.attrs.get("expression", "margin"))
    title = "Average marginal effects" if "term" in table.columns and table.attrs.get(
        "dydx") else "Predictive margins"
    ax.set_title(f"{title} with {table.attrs.get('level', 95):g}% CIs" if ci else title)
    if others:
        ax.legend()
    return ax
