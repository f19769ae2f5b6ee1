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
from .binomial import Binomial, _xlogy_sum
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
        lp, lq, *_ = binary_terms(self.link.name, eta)
        return _xlogy_sum(y, lp, 1.0 - y, lq)

    def mean(self, eta):
        return self.link.inverse(np.asarray(eta, dtype=float))

    def variance(self, mu, aux=None):
        mu = np.asarray(mu, dtype=float)
        return mu * (1.0 - mu)


__all__ = ["Bernoulli"]
