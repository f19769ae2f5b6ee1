"""Bernoulli family: the binomial with one trial ([ME] melogit/meprobit/mecloglog,
Methods and formulas; [ME] meglm family(bernoulli)).

Outcome coding follows the manual's rule for the binary commands (L1699, L4514, L9196):
"depvar is treated as Bernoulli, with any nonzero, nonmissing values indicating positive
responses" -- :meth:`Bernoulli.validate` returns ``(y != 0)`` as 0/1 and refuses only
missing/infinite values.  The manual does not say that meglm family(bernoulli) is any
stricter, so the same rule is used there.  V(mu) = mu (1 - mu).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._util import binary_terms, check_finite
from .base import Link
from .binomial import Binomial, xlogy_sum
from .links import LINKS


@dataclass
class Bernoulli(Binomial):
    name: str = "bernoulli"
    link: Link = field(default_factory=lambda: LINKS["logit"])

    def bind(self, **data) -> Bernoulli:
        if data:
            raise TypeError("family bernoulli has no per-observation data (one trial)")
        return self

    def _r(self, shape):
        return 1.0

    def validate(self, y, depvar: str) -> np.ndarray:
        y = check_finite(y, depvar)
        return (y != 0).astype(float)

    def _terms(self, y, eta):
        return np.asarray(y, dtype=float), 1.0, binary_terms(self.link.name, eta)

    def _log_coef(self, y, r):
        return 0.0

    def loglik(self, y, eta, aux=None):
        y = np.asarray(y, dtype=float)
        if self.link.name == "logit":
            eta = np.asarray(eta, dtype=float)
            return y * eta - (np.maximum(eta, 0.0) + np.log1p(np.exp(-np.abs(eta))))
        lp, lq, *_ = binary_terms(self.link.name, eta)
        return xlogy_sum(y, lp, 1.0 - y, lq)

    def derivatives(self, y, eta, aux=None):
        y = np.asarray(y, dtype=float)
        if self.link.name == "logit":
            return _logit_terms(y, eta)
        return super().derivatives(y, eta, aux)

    def loglik_score(self, y, eta, aux=None):
        """log f and its eta-derivative only (no second derivative): for the gradient
        passes of the quadrature engines, with fewer passes over large node arrays."""
        if self.link.name != "logit":
            lf, s, _ = self.derivatives(y, eta, aux)
            return lf, s
        y = np.asarray(y, dtype=float)
        eta = np.asarray(eta, dtype=float)
        e = np.abs(eta)
        np.negative(e, out=e)
        np.exp(e, out=e)  # e^{-|eta|}
        r = e + 1.0
        lf = np.log1p(e)
        lf += np.maximum(eta, 0.0)
        np.subtract(y * eta, lf, out=lf)
        np.divide(np.where(eta >= 0, 1.0, e), r, out=r)  # p
        np.subtract(y, r, out=r)
        return lf, r

    def mean(self, eta):
        return self.link.inverse(np.asarray(eta, dtype=float))

    def variance(self, mu, aux=None):
        mu = np.asarray(mu, dtype=float)
        return mu * (1.0 - mu)


def _logit_terms(y: np.ndarray, eta) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """log f = y eta - log(1 + e^eta) and its first two eta-derivatives, y - p and
    -p(1 - p), from one exponential of -|eta| (stable for any eta; y is 0/1)."""
    eta = np.asarray(eta, dtype=float)
    e = np.exp(-np.abs(eta))
    one_e = 1.0 + e
    pos = eta >= 0
    p = np.where(pos, 1.0, e) / one_e
    q = np.where(pos, e, 1.0) / one_e
    ll = y * eta - (np.maximum(eta, 0.0) + np.log1p(e))
    return ll, y - p, -p * q


__all__ = ["Bernoulli"]
