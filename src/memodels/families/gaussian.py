"""Gaussian family ([ME] meglm, the default family(gaussian); links identity (default)
and log).

    log f(y | eta) = -log(2 pi)/2 - s - (y - mu)^2 / (2 exp(2 s)),   mu = g^{-1}(eta)

The ancillary parameter is s = ln(sigma_e), named ``/lnsigma`` here (estimation metric);
Stata reports it as var(e.depvar) = exp(2 s).  V(mu) = 1 (as the manual's table).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._util import aux_value, bind_copy, check_finite
from .base import Family, Link
from .links import LINKS

_HALF_LOG_2PI = 0.5 * np.log(2.0 * np.pi)


@dataclass
class Gaussian(Family):
    name: str = "gaussian"
    link: Link = field(default_factory=lambda: LINKS["identity"])
    aux_names: tuple[str, ...] = ("/lnsigma",)
    data: dict = field(default_factory=dict)

    def bind(self, **data) -> Gaussian:
        return bind_copy(self, data)

    def validate(self, y, depvar: str) -> np.ndarray:
        return check_finite(y, depvar)

    def _parts(self, y, eta, aux):
        s = aux_value(aux, 0, self.name, "/lnsigma")
        prec = np.exp(-2.0 * s)
        eta = np.asarray(eta, dtype=float)
        mu = self.link.inverse(eta)
        res = np.asarray(y, dtype=float) - mu
        return s, prec, eta, mu, res

    def loglik(self, y, eta, aux=None):
        s, prec, _, _, res = self._parts(y, eta, aux)
        return -_HALF_LOG_2PI - s - 0.5 * prec * res * res

    def derivatives(self, y, eta, aux=None):
        s, prec, eta, mu, res = self._parts(y, eta, aux)
        ll = -_HALF_LOG_2PI - s - 0.5 * prec * res * res
        if self.link.name == "identity":
            return ll, prec * res, np.broadcast_to(-prec, ll.shape).copy()
        m1 = self.link.inverse_d1(eta)
        m2 = self.link.inverse_d2(eta)
        return ll, prec * res * m1, prec * (res * m2 - m1 * m1)

    def aux_derivatives(self, y, eta, aux):
        s, prec, eta, mu, res = self._parts(y, eta, aux)
        z2 = prec * res * res
        d_eta = prec * res * self.link.inverse_d1(eta)
        da = (z2 - 1.0)[None]
        daa = (-2.0 * z2)[None, None]
        dae = (-2.0 * d_eta)[None]
        return da, daa, dae

    def start_aux(self) -> np.ndarray:
        return np.zeros(1)

    def mean(self, eta):
        return self.link.inverse(np.asarray(eta, dtype=float))

    def variance(self, mu, aux=None):
        return np.ones_like(np.asarray(mu, dtype=float))


__all__ = ["Gaussian"]
