"""Negative binomial family with the log link ([ME] menbreg, Methods and formulas,
L5992-6020; [ME] meglm family(nbinomial [mean|constant])).

    Pr(y) = Gamma(y + r) / {Gamma(y + 1) Gamma(r)} p^r (1 - p)^y

* mean dispersion (default): r = 1/alpha, p = 1/(1 + alpha mu); ancillary ``/lnalpha``
  = ln(alpha); V(mu) = mu (1 + alpha mu).
* constant dispersion: r = mu/delta, p = 1/(1 + delta); ancillary ``/lndelta`` =
  ln(delta); V(mu) = mu (1 + delta).

mu = exp(eta).  All lgamma terms are included (complete log likelihood).
lgamma(y + r) - lgamma(r) is evaluated as lgamma(y + 1) - log B(y + 1, r) - log(y + r),
which stays accurate when r is large (alpha -> 0, the Poisson limit).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import special

from ._util import aux_value, bind_copy, softplus
from .base import Family, Link
from .links import LINKS
from .poisson import check_counts


def lgamma_ratio(y, r):
    """lgamma(y + r) - lgamma(r) - lgamma(y + 1), accurate for large r."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = -special.betaln(y + 1.0, r) - np.log(y + r)
    return np.where(y == 0, 0.0, out)


@dataclass
class NegativeBinomial(Family):
    name: str = "nbinomial"
    link: Link = field(default_factory=lambda: LINKS["log"])
    aux_names: tuple[str, ...] = ("/lnalpha",)
    data: dict = field(default_factory=dict)
    dispersion: str = "mean"

    def __post_init__(self):
        if self.dispersion not in ("mean", "constant"):
            raise ValueError(
                f"nbinomial dispersion must be mean or constant, not {self.dispersion}"
            )
        self.aux_names = ("/lnalpha",) if self.dispersion == "mean" else ("/lndelta",)

    def bind(self, **data) -> NegativeBinomial:
        return bind_copy(self, data)

    def validate(self, y, depvar: str) -> np.ndarray:
        return check_counts(y, depvar, self.name)

    # ------------------------------------------------------------------ mean
    def _mean_parts(self, y, eta, aux):
        a = aux_value(aux, 0, self.name, self.aux_names[0])
        y = np.asarray(y, dtype=float)
        eta = np.asarray(eta, dtype=float)
        r = np.exp(-a)
        t = eta + a  # log(alpha mu)
        return y, r, t

    def _const_parts(self, y, eta, aux):
        a = aux_value(aux, 0, self.name, self.aux_names[0])
        y = np.asarray(y, dtype=float)
        eta = np.asarray(eta, dtype=float)
        with np.errstate(over="ignore"):
            r = np.exp(eta - a)  # mu / delta
        return y, r, a

    def loglik(self, y, eta, aux=None):
        if self.dispersion == "mean":
            y, r, t = self._mean_parts(y, eta, aux)
            return lgamma_ratio(y, r) - r * softplus(t) - _ymul(y, softplus(-t))
        y, r, a = self._const_parts(y, eta, aux)
        return lgamma_ratio(y, r) - r * softplus(a) - y * softplus(-a)

    def derivatives(self, y, eta, aux=None):
        ll = self.loglik(y, eta, aux)
        if self.dispersion == "mean":
            y, r, t = self._mean_parts(y, eta, aux)
            q = special.expit(t)
            d = y - (y + r) * q
            d2 = -(y + r) * q * special.expit(-t)
            return ll, d, d2
        y, r, a = self._const_parts(y, eta, aux)
        lr, lrr = self._lr(y, r, softplus(a))
        return ll, r * lr, r * lr + r * r * lrr

    @staticmethod
    def _lr(y, r, sp):
        """dL/dr and d2L/dr2 with L = lgamma(y+r) - lgamma(r) - r sp."""
        return (special.digamma(y + r) - special.digamma(r) - sp,
                special.polygamma(1, y + r) - special.polygamma(1, r))

    def aux_derivatives(self, y, eta, aux):
        if self.dispersion == "mean":
            y, r, t = self._mean_parts(y, eta, aux)
            q = special.expit(t)
            lr, lrr = self._lr(y, r, softplus(t))
            lt = y - (y + r) * q
            ltt = -(y + r) * q * special.expit(-t)
            lrt = -q
            da = -r * lr + lt
            daa = r * lr + r * r * lrr - 2.0 * r * lrt + ltt
            dae = -r * lrt + ltt
        else:
            y, r, a = self._const_parts(y, eta, aux)
            sa, sna = special.expit(a), special.expit(-a)
            lr, lrr = self._lr(y, r, softplus(a))
            da = -r * lr - r * sa + y * sna
            daa = r * lr + r * r * lrr + 2.0 * r * sa - (r + y) * sa * sna
            dae = -r * lr - r * r * lrr - r * sa
        shape = np.broadcast_shapes(np.shape(da), np.shape(daa), np.shape(dae))
        return (np.broadcast_to(da, shape)[None], np.broadcast_to(daa, shape)[None, None],
                np.broadcast_to(dae, shape)[None])

    def mean(self, eta):
        return self.link.inverse(np.asarray(eta, dtype=float))

    def variance(self, mu, aux=None):
        mu = np.asarray(mu, dtype=float)
        g = np.exp(aux_value(aux, 0, self.name, self.aux_names[0]))
        if self.dispersion == "mean":
            return mu * (1.0 + g * mu)
        return mu * (1.0 + g)


def _ymul(y, v):
    return np.where(y == 0, 0.0, y * v)


__all__ = ["NegativeBinomial", "lgamma_ratio"]
