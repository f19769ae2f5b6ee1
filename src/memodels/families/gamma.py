"""Gamma family with the log link ([ME] meglm family(gamma); the only link the manual's
table allows, L2639).

The manual does not print meglm's gamma density or its e(b) name.  It is taken to be the
distribution mestreg's gamma uses (same gsem machinery; [ME] mestreg prints ``/logs``,
L13205, and the mestreg catheter fits are reproduced with it, DESIGN.md section 3.12):
shape k = 1/s^2, mean mu = exp(eta), ancillary parameter ``/logs`` = ln s:

    log f(y | eta) = k log k - k eta - lgamma(k) + (k - 1) log y - k y exp(-eta),
    k = exp(-2 /logs).

V(mu) = mu^2 (the manual's variance function, L4239; Var(y) = s^2 mu^2).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import special

from ..errors import DataError
from ._util import aux_value, bind_copy, check_finite
from .base import Family, Link
from .links import LINKS


@dataclass
class Gamma(Family):
    name: str = "gamma"
    link: Link = field(default_factory=lambda: LINKS["log"])
    aux_names: tuple[str, ...] = ("/logs",)
    data: dict = field(default_factory=dict)

    def bind(self, **data) -> Gamma:
        return bind_copy(self, data)

    def validate(self, y, depvar: str) -> np.ndarray:
        y = check_finite(y, depvar)
        if np.any(y <= 0):
            raise DataError(f"outcome {depvar} must be positive for family gamma")
        return y

    def _parts(self, y, eta, aux):
        s = aux_value(aux, 0, self.name, "/logs")
        k = np.exp(-2.0 * s)
        y = np.asarray(y, dtype=float)
        eta = np.asarray(eta, dtype=float)
        with np.errstate(over="ignore"):
            ratio = y * np.exp(-eta)  # y / mu
        return k, y, eta, ratio

    def loglik(self, y, eta, aux=None):
        k, y, eta, ratio = self._parts(y, eta, aux)
        return k * np.log(k) - k * eta - special.gammaln(k) + (k - 1.0) * np.log(y) - k * ratio

    def derivatives(self, y, eta, aux=None):
        k, y, eta, ratio = self._parts(y, eta, aux)
        ll = k * np.log(k) - k * eta - special.gammaln(k) + (k - 1.0) * np.log(y) - k * ratio
        return ll, k * (ratio - 1.0), -k * ratio

    def aux_derivatives(self, y, eta, aux):
        k, y, eta, ratio = self._parts(y, eta, aux)
        dk = np.log(k) + 1.0 - eta - special.digamma(k) + np.log(y) - ratio
        dkk = 1.0 / k - special.polygamma(1, k)
        da = -2.0 * k * dk
        daa = 4.0 * k * dk + 4.0 * k * k * dkk
        dae = -2.0 * k * (ratio - 1.0)
        return da[None], np.broadcast_to(daa, da.shape)[None, None], dae[None]

    def mean(self, eta):
        return self.link.inverse(np.asarray(eta, dtype=float))

    def variance(self, mu, aux=None):
        mu = np.asarray(mu, dtype=float)
        return mu * mu


__all__ = ["Gamma"]
