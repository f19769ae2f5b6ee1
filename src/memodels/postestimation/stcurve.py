"""``stcurve`` after ``mestreg``: survivor, hazard and cumulative hazard curves at given
covariate values ([ME] mestreg postestimation, examples 2-3; [ST] stcurve).

As in Stata after mestreg, the curves are unconditional ("(option unconditional
assumed)"): the survivor function is E_u S(t | x b + z'u), the hazard the marginal
density over the marginal survivor function and the cumulative hazard -ln E_u S, with
the random part z'u ~ N(0, z'Sigma z) integrated by the estimation's quadrature rule
(``intpoints=``).  ``fixedonly=True`` draws the curves at u = 0 instead.

Covariates: "by default, stcurve plots predictions at the mean of the covariates,
computed over the whole estimation sample"; ``at=`` sets some of them -- a dict for one
curve, a list of dicts for several (Stata's ``at1() at2() ...``).  Here the fixed-effects
columns (and random-effects covariates) are averaged over the estimation sample with the
``at`` values substituted, so factor indicators and interactions with a set variable
are handled as their sample means.

Times: the distinct analysis times ``_t`` of the estimation sample (Stata's default), or
``times=``, or ``range=(lo, hi)`` with ``n`` equally spaced points.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import OptionError
from .frame import fixed_matrix, term_covariates
from .marginal import default_points, random_sd, random_sigmas
from .predict_survival import time_statistic

KINDS = {"survival": "surv", "surv": "surv", "hazard": "hazard", "cumhaz": "cumhaz"}
YLABELS = {"surv": "Survival", "hazard": "Hazard function", "cumhaz": "Cumulative hazard"}


@dataclass
class StCurve:
    """The curves (long form: ``_at``, ``_t``, the statistic) and their figure."""

    data: pd.DataFrame
    at: list[dict[str, Any]]
    kind: str
    figure: Any = None


def _covariate_point(res, sample: pd.DataFrame, at: dict[str, Any]
                     ) -> tuple[np.ndarray, list[np.ndarray]]:
    frame = sample.assign(**at) if at else sample
    x = np.nanmean(fixed_matrix(res.design, frame), axis=0)
    zs = [np.nanmean(term_covariates(res.design.terms[s], frame), axis=0)[None, :]
          for s in res.fit.term_sources]
    return x, zs


def _times(res, times, range_, n: int) -> np.ndarray:
    if times is not None:
        out = np.asarray(times, dtype=float).ravel()
    elif range_ is not None:
        lo, hi = (float(v) for v in range_)
        out = np.linspace(lo, hi, int(n))
    else:
        out = np.unique(np.asarray(res.design.y, dtype=float))
    if np.any(~np.isfinite(out)) or np.any(out <= 0):
        raise OptionError("stcurve: times must be positive")
    return out


def stcurve(res, kind: str = "survival", *, data: pd.DataFrame, at=None, times=None,
            range: tuple[float, float] | None = None, n: int = 100, fixedonly: bool = False,
            intpoints: int | None = None, plot: bool = True, ax=None) -> StCurve:
    """Survivor (``kind="survival"``), ``"hazard"`` or ``"cumhaz"`` curves after mestreg;
    ``data`` is the estimation DataFrame; see the module docstring."""
    key = KINDS.get(str(kind).lower())
    if key is None:
        raise OptionError(f"stcurve: {kind} not allowed (survival, hazard or cumhaz)")
    ats = [{}] if at is None else ([at] if isinstance(at, dict) else list(at))
    sample = data.loc[res.design.index]
    t = _times(res, times, range, n)
    fit, fam = res.fit, res.family_obj
    a = float(fit.aux[0]) if fit.n_aux else 0.0
    points = default_points(res, intpoints)
    rows = []
    for i, vals in enumerate(ats, start=1):
        x, zs = _covariate_point(res, sample, vals)
        eta = np.full(t.size, float(x @ fit.beta))
        sd = None if fixedonly else np.full(t.size, random_sd(zs, random_sigmas(fit))[0])
        stat = "surv" if key == "cumhaz" else key
        val = time_statistic(stat, fam, t, eta, sd, a, points)
        if key == "cumhaz":
            val = -np.log(val)
        rows.append(pd.DataFrame({"_at": i, "_t": t, key: val}))
    table = pd.concat(rows, ignore_index=True)
    out = StCurve(table, ats, key)
    if plot:
        out.figure = _plot(res, out, ax)
    return out


def _plot(res, curve: StCurve, ax=None):
    fam = res.family_obj
    return draw(curve, f"{fam.label[:1].upper() + fam.label[1:]} mixed-effects regression",
                ax).figure


def draw(curve: StCurve, title: str = "", ax=None, pyplot: bool = True):
    """Draw the curves on ``ax`` (by default new Axes on a pyplot figure, or with
    ``pyplot=False`` on a bare :class:`matplotlib.figure.Figure`); returns the Axes.
    matplotlib's backend is never changed."""
    if ax is None:
        if pyplot:
            import matplotlib.pyplot as plt

            _, ax = plt.subplots(figsize=(6, 4))
        else:
            from matplotlib.figure import Figure

            ax = Figure(figsize=(6, 4)).subplots()
    for i, vals in enumerate(curve.at, start=1):
        part = curve.data[curve.data["_at"] == i]
        label = " ".join(f"{k}={v}" for k, v in vals.items()) or "covariates at means"
        ax.plot(part["_t"].to_numpy(dtype=float), part[curve.kind].to_numpy(dtype=float),
                label=label)
    ax.set_xlabel("analysis time")
    ax.set_ylabel(YLABELS[curve.kind])
    if title:
        ax.set_title(title)
    ax.legend()
    return ax


__all__ = ["stcurve", "StCurve", "draw"]
