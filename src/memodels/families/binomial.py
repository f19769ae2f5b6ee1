"""Binomial family ([ME] melogit/meprobit/mecloglog, Methods and formulas, L4894-4912,
L2031-2045; [ME] meglm family(binomial [#|varname])).

    f(y | eta) = C(r, y) H(eta)^y {1 - H(eta)}^(r - y),   H = inverse link

with r the number of trials (a constant ``trials`` or a per-observation variable bound
with :meth:`bind`).  The log binomial coefficient log C(r, y) is included (complete log
likelihood).  Links: logit (default), probit, cloglog.  No ancillary parameters.
V(mu) = mu (1 - mu/r) with mu = r H(eta) ([ME] meglm postestimation, L4236-4244).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import special

from ..errors import DataError
from ._util import align, binary_terms, bind_copy, check_finite
from .base import Family, Link
from .links import LINKS


def log_binom_coef(r, y):
    """log C(r, y) via lgamma (r and y need not be integers)."""
    return special.gammaln(r + 1.0) - special.gammaln(y + 1.0) - special.gammaln(r - y + 1.0)


@dataclass
class Binomial(Family):
    name: str = "binomial"
    link: Link = field(default_factory=lambda: LINKS["logit"])
    aux_names: tuple[str, ...] = ()
    data: dict = field(default_factory=dict)
    trials: float = 1.0  # constant number of trials when no ``trials`` variable is bound
    trials_var: str | None = None  # name of the trials variable (family(binomial varname))

    # ----------------------------------------------------------------- data
    def bind(self, **data) -> Binomial:
        unknown = set(data) - {"trials"}
        if unknown:
            raise TypeError(f"family {self.name} binds only 'trials', not {sorted(unknown)}")
        return bind_copy(self, data)

    def _r(self, shape):
        if "trials" in self.data:
            return align(self.data["trials"], shape)
        if self.trials_var is not None:
            raise DataError(
                f"binomial trials variable {self.trials_var} has not been bound to the data"
            )
        return self.trials

    def validate(self, y, depvar: str) -> np.ndarray:
        y = check_finite(y, depvar)
        r = np.asarray(self._r(y.shape), dtype=float)
        what = self.trials_var or "the number of trials"
        if not np.all(np.isfinite(r)):
            raise DataError(f"binomial trials {what} has missing or infinite values")
        if np.any(r < 1) or np.any(r != np.round(r)):
            raise DataError(f"binomial trials {what} must be positive integers")
        if np.any(y < 0) or np.any(y != np.round(y)):
            raise DataError(
                f"outcome {depvar} must be nonnegative integer counts of successes "
                "for family binomial"
            )
        if np.any(y > r):
            raise DataError(
                f"outcome {depvar} is greater than the number of trials {what} "
                "in some observations (successes exceed trials)"
            )
        return y

    # ------------------------------------------------------------- densities
    def _terms(self, y, eta):
        y = np.asarray(y, dtype=float)
        eta = np.asarray(eta, dtype=float)
        shape = np.broadcast_shapes(y.shape, eta.shape)
        r = self._r(y.shape if np.ndim(y) else shape)
        return y, r, binary_terms(self.link.name, eta)

    def _log_coef(self, y, r):
        return log_binom_coef(r, y)

    def loglik(self, y, eta, aux=None):
        y, r, (lp, lq, *_rest) = self._terms(y, eta)
        return xlogy_sum(y, lp, r - y, lq) + self._log_coef(y, r)

    def derivatives(self, y, eta, aux=None):
        y, r, (lp, lq, dlp, dlq, d2lp, d2lq) = self._terms(y, eta)
        f = r - y
        ll = xlogy_sum(y, lp, f, lq) + self._log_coef(y, r)
        return ll, y * dlp + f * dlq, y * d2lp + f * d2lq

    def aux_derivatives(self, y, eta, aux):
        raise ValueError(f"family {self.name} has no ancillary parameters")

    def mean(self, eta):
        eta = np.asarray(eta, dtype=float)
        return self.link.inverse(eta) * self._r(eta.shape)

    def variance(self, mu, aux=None):
        mu = np.asarray(mu, dtype=float)
        return mu * (1.0 - mu / self._r(mu.shape))


def xlogy_sum(a, la, b, lb):
    """a*la + b*lb with 0 * (-inf) taken as 0 (a zero count never contributes)."""
    with np.errstate(invalid="ignore"):
        return np.where(a == 0, 0.0, a * la) + np.where(b == 0, 0.0, b * lb)


__all__ = ["Binomial", "log_binom_coef"]
