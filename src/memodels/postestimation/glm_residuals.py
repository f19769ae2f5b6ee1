"""Pearson, deviance and Anscombe residuals of the me commands, per family
([ME] meglm postestimation, Methods and formulas; the tables of V(mu), d^2 and nu^A).

With nu = y - mu (mu conditional on the predicted random effects, or marginal), r the
number of binomial trials, alpha (delta) the negative binomial's mean (constant)
dispersion:

* Pearson: nu / sqrt{V(mu)}, V = mu(1-mu) (bernoulli), mu(1-mu/r) (binomial), mu^2
  (gamma), 1 (gaussian), mu(1+alpha mu) (nbinomial mean), mu(1+delta) (nbinomial
  constant), mu (poisson);
* deviance: sign(nu) sqrt(d^2) with d^2 of the manual's table (bernoulli -2 log(1-mu) or
  -2 log mu; binomial 2y log(y/mu) + 2(r-y) log{(r-y)/(r-mu)} and its limits at y = 0, r;
  gamma -2{log(y/mu) - nu/mu}; gaussian nu^2; nbinomial mean 2y log(y/mu) -
  (2/alpha)(1+alpha y) log{(1+alpha y)/(1+alpha mu)}, (2/alpha) log(1+alpha mu) at y = 0;
  poisson 2y log(y/mu) - 2 nu, 2 mu at y = 0);
* Anscombe, with H(t) = 2F1(2/3, 1/3; 5/3; t):
  bernoulli 3{y^(2/3) H(y) - mu^(2/3) H(mu)} / {2 (mu - mu^2)^(1/6)},
  binomial 3{y^(2/3) H(y/r) - mu^(2/3) H(mu/r)} / {2 (mu - mu^2/r)^(1/6)},
  gamma 3(y^(1/3) - mu^(1/3)) / mu^(1/3), gaussian nu,
  nbinomial mean {H(-alpha y) - H(-alpha mu) + 1.5 (y^(2/3) - mu^(2/3))} /
  (mu + alpha mu^2)^(1/6) -- the manual's formula, reproduced as printed (it is not the
  exact Anscombe transform 1.5{y^(2/3) H(-alpha y) - mu^(2/3) H(-alpha mu)}, which later
  statsmodels versions use), poisson 3(y^(2/3) - mu^(2/3)) / {2 mu^(1/6)}.

Deviance and Anscombe residuals are "not defined" for the ordinal family and the
negative binomial with constant dispersion (Pearson residuals not for ordinal): those
raise :class:`~memodels.errors.OptionError`.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from ..errors import OptionError


def _h(t):
    return special.hyp2f1(2.0 / 3.0, 1.0 / 3.0, 5.0 / 3.0, t)


def _xlog(a, b):
    """a log(a / b), 0 where a == 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(a == 0, 0.0, a * np.log(np.where(a == 0, 1.0, a) / b))


def _dispersion(family, aux) -> float:
    return float(np.exp(np.asarray(aux, float)[0]))


def _undefined(stat: str, family) -> OptionError:
    what = family.name
    if family.name == "nbinomial":
        what = f"nbinomial {family.dispersion}"
    return OptionError(f"predict, {stat} is not defined for family {what} ([ME] meglm "
                       "postestimation, Methods and formulas)")


def variance(family, mu, aux, trials) -> np.ndarray:
    """V(mu) of the manual's table."""
    name = family.name
    if name == "bernoulli":
        return mu * (1 - mu)
    if name == "binomial":
        return mu * (1 - mu / trials)
    if name == "gamma":
        return mu**2
    if name == "gaussian":
        return np.ones_like(mu)
    if name == "poisson":
        return mu
    if name == "nbinomial":
        g = _dispersion(family, aux)
        return mu * (1 + g * mu) if family.dispersion == "mean" else mu * (1 + g)
    raise _undefined("pearson", family)


def pearson(family, y, mu, aux, trials) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return (y - mu) / np.sqrt(variance(family, mu, aux, trials))


def squared_deviance(family, y, mu, aux, trials) -> np.ndarray:
    """d^2_ij of the manual's table."""
    name = family.name
    nu = y - mu
    with np.errstate(divide="ignore", invalid="ignore"):
        if name == "bernoulli":
            return np.where(y == 0, -2 * np.log1p(-mu), -2 * np.log(mu))
        if name == "binomial":
            r = trials
            return 2 * _xlog(y, mu) + 2 * _xlog(r - y, r - mu)
        if name == "gamma":
            return -2 * (np.log(y / mu) - nu / mu)
        if name == "gaussian":
            return nu**2
        if name == "poisson":
            return np.where(y == 0, 2 * mu, 2 * _xlog(y, mu) - 2 * nu)
        if name == "nbinomial" and family.dispersion == "mean":
            a = _dispersion(family, aux)
            zero = 2 * np.log1p(a * mu) / a
            pos = 2 * _xlog(y, mu) - (2 / a) * (1 + a * y) * np.log((1 + a * y) / (1 + a * mu))
            return np.where(y == 0, zero, pos)
    raise _undefined("deviance", family)


def deviance(family, y, mu, aux, trials) -> np.ndarray:
    d2 = squared_deviance(family, y, mu, aux, trials)
    return np.sign(y - mu) * np.sqrt(np.clip(d2, 0, None))


def anscombe(family, y, mu, aux, trials) -> np.ndarray:
    name = family.name
    with np.errstate(divide="ignore", invalid="ignore"):
        if name == "bernoulli":
            num = y ** (2 / 3) * _h(y) - mu ** (2 / 3) * _h(mu)
            return 3 * num / (2 * (mu - mu**2) ** (1 / 6))
        if name == "binomial":
            r = trials
            num = y ** (2 / 3) * _h(y / r) - mu ** (2 / 3) * _h(mu / r)
            return 3 * num / (2 * (mu - mu**2 / r) ** (1 / 6))
        if name == "gamma":
            return 3 * (np.cbrt(y) - np.cbrt(mu)) / np.cbrt(mu)
        if name == "gaussian":
            return y - mu
        if name == "poisson":
            return 3 * (y ** (2 / 3) - mu ** (2 / 3)) / (2 * mu ** (1 / 6))
        if name == "nbinomial" and family.dispersion == "mean":
            a = _dispersion(family, aux)
            num = _h(-a * y) - _h(-a * mu) + 1.5 * (y ** (2 / 3) - mu ** (2 / 3))
            return num / (mu + a * mu**2) ** (1 / 6)
    raise _undefined("anscombe", family)


RESIDUALS = {"pearson": pearson, "deviance": deviance, "anscombe": anscombe}

__all__ = ["variance", "pearson", "squared_deviance", "deviance", "anscombe", "RESIDUALS"]
