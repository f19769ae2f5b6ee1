"""Survivor, density, mean and median of mestreg's distributions at a linear predictor
([ME] mestreg postestimation, Methods and formulas; the parameterizations of
:mod:`memodels.survival.distributions` and :mod:`memodels.survival.gamma`).

``eta`` is the linear predictor in the model's metric (log relative hazard for PH, log
time for AFT) and ``a`` the ancillary parameter in its estimation metric (``/ln_p`` or
``/logs``; unused by the exponential).  All functions are elementwise and broadcast.

Means and medians (the manual's ``median``: S(t) = 1/2; ``mean``: int_0^inf S(t) dt) in
closed form, with ``loc`` the AFT location (PH: loc = -eta / p, p = 1 for the
exponential; AFT: loc = eta):

=============  ====================================  ==================================
distribution   mean                                  median
=============  ====================================  ==================================
exponential    exp(loc)                              exp(loc) ln 2
weibull        Gamma(1 + 1/p) exp(loc)               (ln 2)^(1/p) exp(loc)
lognormal      exp(eta + sigma^2 / 2)                exp(eta)
loglogistic    exp(eta) pi g / sin(pi g) (g < 1;     exp(eta)
               infinite when g = exp(a) >= 1)
gamma          exp(eta)                              s^2 exp(eta) Qinv(1/s^2, 1/2)
=============  ====================================  ==================================

(gamma: shape k = 1/s^2, s = exp(a), scale s^2 exp(eta); Qinv inverts the regularized
upper incomplete gamma function.)
"""

from __future__ import annotations

import numpy as np
from scipy import special

from .base import SurvivalFamily


def log_density_survival(family: SurvivalFamily, t, eta, a: float
                         ) -> tuple[np.ndarray, np.ndarray]:
    """(log g(t | eta), log S(t | eta)); NaN where t or eta is missing or t <= 0."""
    t = np.asarray(t, dtype=float)
    eta = np.asarray(eta, dtype=float)
    shape = np.broadcast_shapes(t.shape, eta.shape)
    tb = np.broadcast_to(t, shape)
    ok = np.isfinite(tb) & (tb > 0) & np.isfinite(np.broadcast_to(eta, shape))
    tt = np.where(ok, tb, 1.0)
    ee = np.where(ok, np.broadcast_to(eta, shape), 0.0)
    with np.errstate(all="ignore"):
        g, s = family._pieces(tt, ee, a)
    return np.where(ok, g.f, np.nan), np.where(ok, s.f, np.nan)


def survival(family: SurvivalFamily, t, eta, a: float) -> np.ndarray:
    return np.exp(log_density_survival(family, t, eta, a)[1])


def density(family: SurvivalFamily, t, eta, a: float) -> np.ndarray:
    return np.exp(log_density_survival(family, t, eta, a)[0])


def _shape(family: SurvivalFamily, a: float) -> float:
    """p of the exponential (1) and Weibull (exp(a)) models."""
    return 1.0 if family.name == "exponential" else float(np.exp(a))


def aft_location(family: SurvivalFamily, eta, a: float) -> np.ndarray:
    """The log-time location: -eta / p in the PH metric, eta in the AFT metric."""
    eta = np.asarray(eta, dtype=float)
    if family.metric == "ph":
        return -eta / _shape(family, a)
    return eta


def location_slope(family: SurvivalFamily, a: float) -> float:
    """|d loc / d eta|: 1/p in the PH metric, 1 in the AFT metric."""
    return 1.0 / _shape(family, a) if family.metric == "ph" else 1.0


def mean_time(family: SurvivalFamily, eta, a: float) -> np.ndarray:
    """Mean survival time int_0^inf S(t | eta) dt."""
    loc = aft_location(family, eta, a)
    name = family.name
    with np.errstate(over="ignore", invalid="ignore"):
        if name == "exponential":
            return np.exp(loc)
        if name == "weibull":
            p = _shape(family, a)
            return np.exp(special.gammaln(1.0 + 1.0 / p) + loc)
        if name == "lognormal":
            return np.exp(loc + 0.5 * np.exp(2.0 * a))
        if name == "loglogistic":
            g = float(np.exp(a))
            if g >= 1.0:
                return np.where(np.isfinite(loc), np.inf, np.nan)
            return np.exp(loc) * (np.pi * g / np.sin(np.pi * g))
        if name == "gamma":
            return np.exp(loc)
    raise NotImplementedError(f"mean survival time for distribution {name}")


def median_time(family: SurvivalFamily, eta, a: float) -> np.ndarray:
    """Median survival time, the t with S(t | eta) = 1/2."""
    loc = aft_location(family, eta, a)
    name = family.name
    with np.errstate(over="ignore", invalid="ignore"):
        if name in ("exponential", "weibull"):
            p = _shape(family, a)
            return np.exp(loc + np.log(np.log(2.0)) / p)
        if name in ("lognormal", "loglogistic"):
            return np.exp(loc)
        if name == "gamma":
            k = float(np.exp(-2.0 * a))
            return np.exp(loc + 2.0 * a) * special.gammainccinv(k, 0.5)
    raise NotImplementedError(f"median survival time for distribution {name}")


__all__ = ["log_density_survival", "survival", "density", "mean_time", "median_time",
           "aft_location", "location_slope"]
