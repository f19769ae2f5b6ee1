"""Residual diagnostics: residuals against fitted values, and a normal QQ plot.

After ``mixed``: ``predict, fitted`` (xb + Zu, the random effects at their BLUPs) and
``predict, residuals`` (y - fitted); the QQ plot uses ``predict, rstandard`` (residuals
over their estimated standard deviation).  After the me commands: ``predict, mu``
(conditional on the empirical Bayes predictions) and ``predict, pearson`` residuals for
both panels.  ([ME] mixed postestimation, [ME] meglm postestimation.)
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import norm

from ..errors import OptionError
from .axes import new_axes

KINDS = ("both", "fitted", "qq")


def residual_data(res: Any) -> dict[str, np.ndarray]:
    """``fitted``, ``resid`` (against fitted) and ``standardized`` (for the QQ plot)."""
    if res.command == "mixed":
        fitted = res.predict("fitted")
        resid = res.predict("residuals")
        std = res.predict("rstandard")
    elif res.command in ("meologit", "meoprobit", "mestreg"):
        raise OptionError(f"residuals plot: not available after {res.command} (no single "
                          "fitted value per observation)")
    else:
        fitted = res.predict("mu")
        resid = res.predict("pearson")
        std = resid
    out = {k: np.asarray(v, dtype=float).ravel() for k, v in
           (("fitted", fitted), ("resid", resid), ("standardized", std))}
    ok = np.isfinite(out["fitted"]) & np.isfinite(out["resid"]) & np.isfinite(out["standardized"])
    return {k: v[ok] for k, v in out.items()}


def qq_points(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Normal quantiles ``Phi^-1((i - 0.5) / n)`` and the sorted values."""
    y = np.sort(np.asarray(values, dtype=float))
    n = y.size
    return norm.ppf((np.arange(1, n + 1) - 0.5) / n), y


def residuals(res: Any, kind: str = "both", *, ax: Any = None, pyplot: bool = True) -> Any:
    """Residuals against fitted values and/or a normal QQ plot of standardized residuals.

    Parameters
    ----------
    res : results of ``mixed`` or of meglm, melogit, meprobit, mecloglog, mepoisson,
        menbreg, meqrlogit, meqrpoisson
    kind : {"both", "fitted", "qq"}
        Both panels (default), or one.
    ax : matplotlib.axes.Axes or a pair of them, optional
        Where to draw (a pair for ``kind="both"``); by default a new figure.
    pyplot : bool
        With no ``ax``: a pyplot figure (default) or a bare Figure (for files).

    Returns
    -------
    matplotlib.axes.Axes, or a tuple of two for ``kind="both"``

    Examples
    --------
    >>> import memodels, memodels.plot
    >>> pig = memodels.datasets.load("pig")
    >>> res = memodels.mixed("weight week || id:", pig, nolog=True)
    >>> left, right = memodels.plot.residuals(res, pyplot=False)
    >>> left.get_xlabel(), right.get_xlabel()
    ('Fitted values', 'Normal quantiles')
    """
    if kind not in KINDS:
        raise OptionError(f"residuals plot: kind must be one of {', '.join(KINDS)}")
    if kind == "both" and ax is not None and (not isinstance(ax, (tuple, list))
                                             or len(ax) != 2):
        raise OptionError("residuals plot: kind='both' draws on two Axes: ax=(ax1, ax2)")
    d = residual_data(res)
    axes = new_axes(ax, ncols=2 if kind == "both" else 1, pyplot=pyplot)
    left, right = (axes if kind == "both" else
                   ((axes, None) if kind == "fitted" else (None, axes)))
    label = "Residuals" if res.command == "mixed" else "Pearson residuals"
    if left is not None:
        left.scatter(d["fitted"], d["resid"], s=8, alpha=0.6)
        left.axhline(0.0, color="grey", linewidth=0.8, linestyle="--")
        left.set_xlabel("Fitted values")
        left.set_ylabel(label)
        left.set_title("Residuals vs fitted")
    if right is not None:
        q, y = qq_points(d["standardized"])
        right.scatter(q, y, s=8, alpha=0.6)
        lo, hi = float(min(q.min(), y.min())), float(max(q.max(), y.max()))
        right.plot([lo, hi], [lo, hi], color="grey", linewidth=0.8, linestyle="--")
        right.set_xlabel("Normal quantiles")
        right.set_ylabel("Standardized residuals" if res.command == "mixed" else label)
        right.set_title("Normal QQ plot")
    return axes
