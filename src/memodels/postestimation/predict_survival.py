"""``predict`` after ``mestreg`` ([ME] mestreg postestimation: Syntax for predict, Options
for predict, Methods and formulas; options shared with [ME] meglm postestimation).

Statistics: ``mean`` (mean survival time, the default), ``median``, ``hazard``, ``surv``
(or ``survival``), ``density``, ``distribution``, ``eta``, ``xb``, ``stdp``, ``reffects``,
``reses``, ``scores``.  ``surv``, ``hazard``, ``density`` and ``distribution`` are
evaluated at each row's ``_t`` (with ``data=``, its ``_t`` column).

Random effects (Methods and formulas):

* ``conditional="ebmeans"`` (default), ``"ebmodes"``, ``"fixedonly"``: the statistic at
  eta = x b + z u~ (u~ = 0 for fixedonly), e.g. surv = S(t | eta), hazard = g/S,
  median: S(t | eta) = 1/2, mean = int_0^inf S(t | eta) dt;
* ``marginal=True``: integrated over the random-effects distribution (the random part
  z'u ~ N(0, z'Sigma z), Gauss-Hermite rule with ``intpoints()`` points, default the
  estimation's 7): surv = E S, density = E g, distribution = 1 - E S, and "marginal hazard
  is calculated as a ratio of the marginal density to the marginal survivor function"
  (E g / E S); mean and median are the conditional statistic integrated over the random
  effects.

Stata 14's marginal mean and median (and hence ``margins, predict(mean marginal)``) add
the random effect to the log-time location x b_AFT without the 1/p factor the PH metric
implies: for a Weibull PH model they are E_u stat(x b - p u), u ~ N(0, sigma^2), not
E_u stat(x b + u).  This reproduces the manual's example 1 (m_marg = 52.7936, the margins
table to 1e-5) but makes the marginal mean of a Weibull PH fit differ from that of the
same model fitted with ``time`` (AFT; there, and for every AFT and the exponential
model, the two coincide).  ``exactmarginal=True`` gives the exact integral
E_u stat(x b + u).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import OptionError
from ..survival.functions import location_slope, log_density_survival, mean_time, median_time
from .eb import eb_estimates
from .frame import build_frame
from .marginal import default_points, integrate, random_sd, random_sigmas
from .predict import _cov_values, _level_terms, _per_obs_effects, _re_contribution, _xb_stdp

STATS = ("mean", "median", "hazard", "surv", "density", "distribution", "eta", "xb", "stdp",
         "reffects", "reses", "scores")
ALIASES = {"survival": "surv"}
AT_T = ("surv", "hazard", "density", "distribution")  # need the analysis time _t
TIME_FREE = ("mean", "median")
NO_MARGINAL = ("xb", "stdp", "reffects", "reses", "scores")


@dataclass
class SurvOptions:
    """predict's options after mestreg, checked."""

    cond: str = "ebmeans"
    marginal: bool = False
    nooffset: bool = False
    points: int | None = None
    tol: float | None = None
    maxiter: int | None = None
    exact: bool = False


def parse_options(stat: str, options: dict[str, Any]) -> SurvOptions:
    opts = {k.lower(): v for k, v in options.items()}
    given = opts.pop("conditional", None)
    for flag in ("fixedonly", "ebmodes", "ebmeans"):
        if opts.pop(flag, False):
            given = flag
    cond = str(given or "ebmeans").lower().strip()
    if cond not in ("ebmeans", "ebmodes", "fixedonly"):
        raise OptionError(f"conditional({cond}) not allowed; use ebmeans, ebmodes or fixedonly")
    out = SurvOptions(cond=cond, marginal=bool(opts.pop("marginal", False)),
                      nooffset=bool(opts.pop("nooffset", False)),
                      exact=bool(opts.pop("exactmarginal", False)))
    if out.marginal and given is not None and stat not in ("reffects", "reses"):
        raise OptionError("options marginal and conditional() may not be combined")
    if out.marginal and stat in NO_MARGINAL:
        raise OptionError(f"option marginal not allowed with predict, {stat}")
    if out.exact and not out.marginal:
        raise OptionError("option exactmarginal requires marginal")
    for key, conv in (("intpoints", int), ("iterate", int), ("tolerance", float)):
        val = opts.pop(key, None)
        if val is not None:
            setattr(out, {"intpoints": "points", "iterate": "maxiter",
                          "tolerance": "tol"}[key], conv(val))
    if out.points is not None and out.points < 1:
        raise OptionError("intpoints() must be a positive integer")
    if opts:
        raise OptionError(f"predict after mestreg: option(s) {', '.join(opts)} not allowed")
    return out


def marginal_scale(family, a: float, exact: bool) -> float:
    """Factor on the random part of eta in Stata 14's marginal mean and median: p for the
    Weibull PH model (the effect enters log time unscaled), 1 when ``exact``."""
    return 1.0 if exact else 1.0 / location_slope(family, a)


def time_statistic(stat: str, family, t: np.ndarray | None, eta: np.ndarray, sd, a: float,
                   points: int, scale: float = 1.0) -> np.ndarray:
    """One of mean, median, surv, hazard, density, distribution at eta (conditional) or
    integrated over N(0, sd^2) random parts (``sd`` not None, ``points`` nodes)."""
    if stat in TIME_FREE:
        moment = mean_time if stat == "mean" else median_time

        def fn(e: np.ndarray) -> np.ndarray:
            return moment(family, e, a)

        return fn(eta) if sd is None else integrate(fn, eta, scale * sd, points)

    def pieces(e: np.ndarray) -> np.ndarray:
        tt = t[:, None] if e.ndim == 2 else t
        lg, ls = log_density_survival(family, tt, e, a)
        return np.stack([np.exp(lg), np.exp(ls)], axis=-1)

    gs = pieces(eta) if sd is None else integrate(pieces, eta, sd, points)
    g, s = gs[..., 0], gs[..., 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        if stat == "surv":
            return s
        if stat == "density":
            return g
        if stat == "distribution":
            return 1.0 - s
        return g / s  # hazard (marginal: marginal density / marginal survivor)


def predict_mestreg(res, statistic: str | None, data: pd.DataFrame | None,
                    relevel: str | None, options: dict[str, Any]):
    """``predict`` after mestreg; see the module docstring."""
    stat = str(statistic or "mean").lower().strip()
    stat = ALIASES.get(stat, stat)
    if stat not in STATS:
        raise OptionError(f"predict after mestreg: statistic '{statistic}' not allowed "
                          f"(allowed: {', '.join(STATS)})")
    opts = parse_options(stat, options)
    if relevel is not None and stat not in ("reffects", "reses"):
        raise OptionError(f"relevel() not allowed with predict, {stat}")
    design, fit = res.design, res.fit
    if stat == "scores":
        from .scores_glmm import glmm_scores

        if data is not None:
            raise OptionError("predict, scores is available for the estimation sample only")
        return glmm_scores(res, design.index)
    offset_spec = None
    if res.offset and res.offset_var and not opts.nooffset:
        offset_spec = (res.offset, res.offset_var)
    needs_re = stat in ("reffects", "reses") or (
        opts.cond != "fixedonly" and not opts.marginal and stat not in ("xb", "stdp"))
    frame, eterms = build_frame(design, data, need_groups=needs_re, offset_spec=offset_spec,
                                need_z=opts.marginal)
    xb, stdp = _xb_stdp(frame, fit.beta, fit.vcov_beta)
    if frame.offset is not None:
        xb = xb + frame.offset
    if stat in ("xb", "stdp"):
        return pd.Series(xb if stat == "xb" else stdp, index=frame.index, name=stat)

    def eb():
        return eb_estimates(res, modes=opts.cond == "ebmodes", points=opts.points,
                            tol=opts.tol, maxiter=opts.maxiter,
                            wanted_effects=stat in ("reffects", "reses"))

    if stat in ("reffects", "reses"):
        means, covs = eb()
        use = _level_terms(design, eterms, relevel, upto=False)
        vals = means if stat == "reffects" else _cov_values(covs, eterms, design)
        return _per_obs_effects(design, frame, eterms, vals, use, stat == "reses")
    sd = None
    notes: list[str] = []
    if opts.marginal:
        sd = random_sd(frame.Z, random_sigmas(fit))
        eta = xb
    elif opts.cond == "fixedonly":
        eta = xb
    else:
        means, _ = eb()
        eta = xb + _re_contribution(frame, means, list(range(len(eterms))))
        kind = "posterior modes" if opts.cond == "ebmodes" else "posterior means"
        notes.append(f"(predictions based on fixed effects and {kind} of random effects)")
    if stat == "eta":
        return pd.Series(eta, index=frame.index, name="eta")
    t = None
    if stat in AT_T:
        if frame.y is None:
            raise OptionError(f"predict, {stat}: the analysis time _t is not in the data")
        t = np.asarray(frame.y, dtype=float)
    a = float(fit.aux[0]) if fit.n_aux else 0.0
    points = default_points(res, opts.points)
    if opts.marginal or opts.cond == "ebmeans":
        used = points if opts.marginal else (opts.points or res.intpoints)
        notes.append(f"(using {used} quadrature points)")
    scale = marginal_scale(res.family_obj, a, opts.exact)
    out = time_statistic(stat, res.family_obj, t, eta, sd, a, points, scale)
    series = pd.Series(out, index=frame.index, name=stat)
    series.attrs["notes"] = notes
    return series


__all__ = ["predict_mestreg", "time_statistic", "marginal_scale", "STATS"]
