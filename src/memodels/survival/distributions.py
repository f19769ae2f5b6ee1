"""Exponential, Weibull, loglogistic and lognormal survival distributions ([ME] mestreg,
distribution(); the densities follow [ST] streg and [SEM] methods and formulas for gsem).

With z the standardized log time, every form is F(z, a):

=============  ======  =================================  ==========================
distribution   metric  z                                  log S(t) ; log g(t)
=============  ======  =================================  ==========================
exponential    PH      eta + ln t                         -e^z ; z - ln t - e^z
exponential    AFT     ln t - eta                         (same)
weibull        PH      eta + p ln t          (p = e^a)    -e^z ; a - ln t + z - e^z
weibull        AFT     p (ln t - eta)                     (same)
loglogistic    AFT     (ln t - eta) / gamma  (gamma = e^a) -ln(1+e^z) ; -a - ln t + z - 2 ln(1+e^z)
lognormal      AFT     (ln t - eta) / sigma  (sigma = e^a) ln Phi(-z) ; -a - ln t + ln phi(z)
=============  ======  =================================  ==========================

Weibull PH and AFT are one model: b_PH = -p b_AFT, var_PH = p^2 var_AFT, same /ln_p and
log likelihood ([ME] mestreg, example 2, L13153-13161).  Ancillary parameters (estimation
metric): ``/ln_p`` (Weibull, printed in the manual), ``/logs`` for the loglogistic
(ln gamma) and lognormal (ln sigma): the name gsem, on which mestreg is built, gives the
log scale parameter (the manual prints it for the gamma distribution only).

Exponential and Weibull log likelihoods are in the log-t form (``log_t_form``), as
mestreg prints them (DESIGN.md section 3, fact 12; reproduces the manual to 1e-5);
loglogistic and lognormal are in the density-of-t form, as the gamma distribution, the
other AFT-only distribution (not checked against Stata output).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import special

from ..families._util import probit_hazard, softplus
from ..families.base import Link
from .base import Inner, Pieces, SurvivalFamily, TimeLink, chain


def _extreme_value(z: Inner, a: Inner, has_a: bool, lt) -> tuple[Pieces, Pieces]:
    """log g = [a] - ln t + z - e^z and log S = -e^z (minimum extreme value in z)."""
    ez = np.exp(z.v)
    zero = 0.0
    g = chain((a.v if has_a else 0.0) - lt + z.v - ez, 1.0 - ez, 1.0 if has_a else 0.0,
              -ez, zero, zero, z, a)
    s = chain(-ez, -ez, zero, -ez, zero, zero, z, a)
    return g, s


@dataclass
class Exponential(SurvivalFamily):
    name: str = "exponential"
    link: Link = field(default_factory=TimeLink)
    aux_names: tuple[str, ...] = ()
    data: dict = field(default_factory=dict)
    metric: str = "ph"
    label: str = "exponential"
    metrics: tuple[str, ...] = ("ph", "aft")
    log_t_form: bool = True

    def _pieces(self, t, eta, a):
        lt = np.log(t)
        if self.metric == "ph":
            z = Inner(eta + lt, e=1.0)
        else:
            z = Inner(lt - eta, e=-1.0)
        return _extreme_value(z, Inner(0.0), False, lt)


@dataclass
class Weibull(SurvivalFamily):
    name: str = "weibull"
    link: Link = field(default_factory=TimeLink)
    aux_names: tuple[str, ...] = ("/ln_p",)
    data: dict = field(default_factory=dict)
    metric: str = "ph"
    label: str = "Weibull"
    metrics: tuple[str, ...] = ("ph", "aft")
    log_t_form: bool = True

    def _pieces(self, t, eta, a):
        lt = np.log(t)
        p = np.exp(a)
        if self.metric == "ph":
            z = Inner(eta + p * lt, e=1.0, a=p * lt, aa=p * lt)
        else:
            zv = p * (lt - eta)
            z = Inner(zv, e=-p, a=zv, aa=zv, ea=-p)
        return _extreme_value(z, Inner(a, a=1.0), True, lt)


def _location_scale(t, eta, a):
    """ln t and the standardized z = (ln t - eta) / exp(a) of the AFT location-scale
    distributions, with z's derivatives in eta and a (and a's own)."""
    lt = np.log(t)
    inv = np.exp(-a)
    zv = (lt - eta) * inv
    return lt, zv, Inner(zv, e=-inv, a=-zv, aa=zv, ea=inv), Inner(a, a=1.0)


@dataclass
class LogLogistic(SurvivalFamily):
    name: str = "loglogistic"
    link: Link = field(default_factory=TimeLink)
    aux_names: tuple[str, ...] = ("/logs",)
    data: dict = field(default_factory=dict)
    metric: str = "aft"
    label: str = "loglogistic"
    metrics: tuple[str, ...] = ("aft",)
    log_t_form: bool = False

    def _pieces(self, t, eta, a):
        lt, zv, z, av = _location_scale(t, eta, a)
        sp = softplus(zv)
        q, qc = special.expit(zv), special.expit(-zv)
        g = chain(-a - lt + zv - 2 * sp, 1.0 - 2 * q, -1.0, -2 * q * qc, 0.0, 0.0, z, av)
        s = chain(-sp, -q, 0.0, -q * qc, 0.0, 0.0, z, av)
        return g, s


_LOG_SQRT_2PI = 0.5 * np.log(2 * np.pi)


@dataclass
class LogNormal(SurvivalFamily):
    name: str = "lognormal"
    link: Link = field(default_factory=TimeLink)
    aux_names: tuple[str, ...] = ("/logs",)
    data: dict = field(default_factory=dict)
    metric: str = "aft"
    label: str = "lognormal"
    metrics: tuple[str, ...] = ("aft",)
    log_t_form: bool = False

    def _pieces(self, t, eta, a):
        lt, zv, z, av = _location_scale(t, eta, a)
        g = chain(-a - lt - 0.5 * zv * zv - _LOG_SQRT_2PI, -zv, -1.0, -1.0, 0.0, 0.0, z, av)
        lam, kap = probit_hazard(-np.asarray(zv, dtype=float))
        s = chain(special.log_ndtr(-zv), -lam, 0.0, -kap, 0.0, 0.0, z, av)
        return g, s


__all__ = ["Exponential", "Weibull", "LogLogistic", "LogNormal"]
