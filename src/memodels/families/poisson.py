"""Poisson family with the log link ([ME] mepoisson, Methods and formulas; [ME] meglm
family(poisson)).

    log f(y | eta) = y eta - exp(eta) - lgamma(y + 1)     (complete: -log y! included)

The outcome must be nonnegative; noninteger values are accepted (the density formula is
evaluated with lgamma), as Stata's count commands accept them.  V(mu) = mu.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import special

from ..errors import DataError
from ._util import bind_copy, check_finite
from .base import Family, Link
from .links import LINKS


def check_counts(y, depvar: str, family: str) -> np.ndarray:
    y = check_finite(y, depvar)
    if np.any(y < 0):
        raise DataError(f"outcome {depvar} has negative values; family {family} needs counts >= 0")
    return y


@dataclass
class Poisson(Family):
    name: str = "poisson"
    link: Link = field(default_factory=lambda: LINKS["log"])
    aux_names: tuple[str, ...] = ()
    data: dict = field(default_factory=dict)

    def bind(self, **data) -> Poisson:
        return bind_copy(self, data)

    def validate(self, y, depvar: str) -> np.ndarray:
        return check_counts(y, depvar, self.name)

    def loglik(self, y, eta, aux=None):
        y = np.asarray(y, dtype=float)
        eta = np.asarray(eta, dtype=float)
        with np.errstate(over="ignore"):
            return np.where(y == 0, 0.0, y * eta) - np.exp(eta) - special.gammaln(y + 1.0)

    def derivatives(self, y, eta, aux=None):
        y = np.asarray(y, dtype=float)
        eta = np.asarray(eta, dtype=float)
        with np.errstate(over="ignore"):
            mu = np.exp(eta)
        ll = np.where(y == 0, 0.0, y * eta) - mu - special.gammaln(y + 1.0)
        return ll, y - mu, -mu

    def aux_derivatives(self, y, eta, aux):
        raise ValueError("family poisson has no ancillary parameters")

    def mean(self, eta):
        return self.link.inverse(np.asarray(eta, dtype=float))

    def variance(self, mu, aux=None):
        return np.asarray(mu, dtype=float) * 1.0


__all__ = ["Poisson", "check_counts"]
