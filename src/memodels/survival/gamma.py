"""The gamma survival distribution of mestreg (AFT metric only; ancillary ``/logs``).

Shape k = 1/s^2 and mean exp(eta) (scale theta = s^2 exp(eta)), ``/logs`` = ln s
(DESIGN.md section 3, fact 12; reproduces [ME] mestreg example 2's gamma fit).  With
x = t/theta, ln x = ln t - eta - 2 ln s:

    log g(t) = -ln t + k ln x - x - lgamma(k)        (density of t, as Stata prints it)
    log S(t) = log Q(k, x)                            (regularized upper incomplete gamma)

Exact derivatives.  In ln x they are closed-form (phi = x^k e^-x / {Gamma(k) Q}):
dL/dlnx = -phi, d2L/dlnx2 = -phi (k - x + phi).  In k, log Q(k, x) + lgamma(k) is the
log partition function of ln U, U ~ Gamma(k, 1) truncated to U > x, so

    dL/dk   = E[ln U | U > x] - digamma(k)
    d2L/dk2 = Var[ln U | U > x] - trigamma(k)
    d2L/dk dlnx = -phi (ln x - digamma(k) - dL/dk).

The truncated moments come from the series of the lower incomplete gamma
P(k, x) = x^k e^-x sum_n x^n / Gamma(k + n + 1) (differentiated term by term) when the
upper tail is not small, and otherwise from a scaled Gauss-Laguerre rule for the tail
integral int_x^inf (.) u^(k-1) e^-u du (accurate to rounding there).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import special

from ..families.base import Link
from .base import Inner, SurvivalFamily, TimeLink, chain

_LAG_W, _LAG_LOGW = None, None


def _laguerre():
    global _LAG_W, _LAG_LOGW
    if _LAG_W is None:
        w, wt = special.roots_laguerre(80)
        _LAG_W, _LAG_LOGW = w, np.log(wt)
    return _LAG_W, _LAG_LOGW


def _tail_moments(k, lx):
    """log Q(k, x), E[ln U | U > x] and Var[ln U | U > x] by Gauss-Laguerre (x large)."""
    x = np.exp(lx)
    w, logw = _laguerre()
    r = (x - k + 1.0) / x  # matches the integrand's decay rate at the lower limit
    r = np.maximum(r, 0.05)
    wr = w[None, :] / (r * x)[:, None]
    lu = lx[:, None] + np.log1p(wr)  # ln u at the nodes
    om = (logw[None, :] + (k - 1.0)[:, None] * np.log1p(wr)
          - w[None, :] / r[:, None] + w[None, :])
    lse = special.logsumexp(om, axis=1)
    pi = np.exp(om - lse[:, None])
    m1 = np.sum(pi * lu, axis=1)
    var = np.sum(pi * (lu - m1[:, None]) ** 2, axis=1)
    logq = (k - 1.0) * lx - x - special.gammaln(k) + lse - np.log(r)
    return logq, m1, var


def _series_moments(k, lx):
    """log Q(k, x), E[ln U | U > x], Var[ln U | U > x] from the series of P(k, x)."""
    x = np.exp(lx)
    q = special.gammaincc(k, x)
    xmax = float(np.max(x)) if x.size else 0.0
    nterms = int(min(xmax + 12.0 * np.sqrt(xmax) + 40.0, 20000))
    n = np.arange(nterms, dtype=float)
    kn = k[:, None] + n[None, :] + 1.0
    lt = (k[:, None] + n[None, :]) * lx[:, None] - x[:, None] - special.gammaln(kn)
    tn = np.exp(lt)
    c = lx[:, None] - special.digamma(kn)
    pk = np.sum(tn * c, axis=1)
    pkk = np.sum(tn * (c * c - special.polygamma(1, kn)), axis=1)
    lk = -pk / q
    lkk = -pkk / q - lk * lk
    dig, tri = special.digamma(k), special.polygamma(1, k)
    logq = np.where(q > 0.5, np.log1p(-special.gammainc(k, x)), np.log(q))
    return logq, lk + dig, lkk + tri


def log_upper_gamma(k, lx):
    """(L, L_k, L_kk, L_l, L_kl, L_ll) of L = log Q(k, e^lx), elementwise (any shape)."""
    k = np.asarray(k, dtype=float)
    lx = np.asarray(lx, dtype=float)
    shape = np.broadcast_shapes(k.shape, lx.shape)
    kf = np.broadcast_to(k, shape).ravel()
    lxf = np.broadcast_to(lx, shape).ravel()
    x = np.exp(lxf)
    tail = (x > 6.0) & (x > kf + 3.0 * np.sqrt(kf))
    logq = np.empty_like(lxf)
    m1 = np.empty_like(lxf)
    var = np.empty_like(lxf)
    for mask, fn in ((tail, _tail_moments), (~tail, _series_moments)):
        if np.any(mask):
            logq[mask], m1[mask], var[mask] = fn(kf[mask], lxf[mask])
    dig, tri = special.digamma(kf), special.polygamma(1, kf)
    lk = m1 - dig
    lkk = var - tri
    phi = np.exp(kf * lxf - x - special.gammaln(kf) - logq)
    ll_ = -phi
    lkl = -phi * (lxf - dig - lk)
    lll = -phi * (kf - x + phi)
    return tuple(v.reshape(shape) for v in (logq, lk, lkk, ll_, lkl, lll))


@dataclass
class GammaSurvival(SurvivalFamily):
    name: str = "gamma"
    link: Link = field(default_factory=TimeLink)
    aux_names: tuple[str, ...] = ("/logs",)
    data: dict = field(default_factory=dict)
    metric: str = "aft"
    label: str = "gamma"
    metrics: tuple[str, ...] = ("aft",)
    log_t_form: bool = False

    def _primitives(self, t, eta, a):
        lt = np.log(t)
        k = np.exp(-2.0 * a)
        kin = Inner(k, a=-2.0 * k, aa=4.0 * k)
        lx = lt - eta - 2.0 * a
        lxin = Inner(lx, e=-1.0, a=-2.0)
        return lt, k, lx, kin, lxin

    def _pieces(self, t, eta, a):
        lt, k, lx, kin, lxin = self._primitives(t, eta, a)
        x = np.exp(lx)
        dig, tri = special.digamma(k), special.polygamma(1, k)
        g = chain(-lt + k * lx - x - special.gammaln(k), lx - dig, k - x, -tri, 1.0, -x,
                  kin, lxin)
        return g, self._survival(k, lx, kin, lxin)

    def _survival(self, k, lx, kin, lxin):
        lq, lk, lkk, ll_, lkl, lll = log_upper_gamma(k, lx)
        return chain(lq, lk, ll_, lkk, lkl, lll, kin, lxin)

    def _survival_only(self, t, eta, a):
        _, k, lx, kin, lxin = self._primitives(t, eta, a)
        return self._survival(k, lx, kin, lxin)


__all__ = ["GammaSurvival", "log_upper_gamma"]
