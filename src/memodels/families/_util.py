"""Numerical helpers shared by the families: broadcasting of bound per-observation data,
ancillary-parameter extraction, and tail-stable log probabilities of the binary links."""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy import special

from ..errors import DataError
from .links import exp_clipped

_SQRT_HALF_PI = np.sqrt(0.5 * np.pi)
_LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)


def align(values, shape: tuple[int, ...]) -> np.ndarray | float:
    """Per-observation ``values`` (n,) shaped to broadcast with an array of ``shape`` whose
    leading axis is the observation axis ((n,), (n, 1), (n, K) ...)."""
    v = np.asarray(values, dtype=float)
    if v.ndim == 0 or v.shape == tuple(shape):
        return v
    if v.size == int(np.prod(shape)):
        return v.reshape(shape)
    extra = len(shape) - v.ndim
    return v.reshape(v.shape + (1,) * max(extra, 0))


def aux_value(aux, k: int, family: str, name: str):
    """The k-th ancillary parameter (estimation metric) as a float or an array."""
    if aux is None:
        raise ValueError(f"family {family} needs its ancillary parameter {name}")
    a = np.asarray(aux, dtype=float)
    if a.ndim == 0:
        if k:
            raise ValueError(f"family {family}: ancillary parameter {k} missing")
        return float(a)
    a = a[k]
    return float(a) if np.ndim(a) == 0 else a


def bind_copy(fam, data: dict):
    new = dict(fam.data)
    for key, value in data.items():
        new[key] = np.asarray(value, dtype=float)
    return dataclasses.replace(fam, data=new)


def check_finite(y: np.ndarray, depvar: str) -> np.ndarray:
    y = np.asarray(y, dtype=float)
    if not np.all(np.isfinite(y)):
        raise DataError(f"outcome {depvar} has missing or infinite values")
    return y


def softplus(x):
    """log(1 + exp(x)), stable for all x (a quarter of np.logaddexp(0, x)'s time)."""
    x = np.asarray(x, dtype=float)
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


# ------------------------------------------------------------------ binary links
def binary_terms(link_name: str, eta):
    """For p = g^{-1}(eta): log p, log(1-p), their first and second eta-derivatives
    (lp, lq, dlp, dlq, d2lp, d2lq), all finite and accurate for large |eta|."""
    eta = np.asarray(eta, dtype=float)
    with np.errstate(all="ignore"):
        if link_name == "logit":
            p, q = special.expit(eta), special.expit(-eta)
            pq = p * q
            return -softplus(-eta), -softplus(eta), q, -p, -pq, -pq
        if link_name == "probit":
            lam_p, kap_p = probit_hazard(eta)
            lam_q, kap_q = probit_hazard(-eta)
            return (special.log_ndtr(eta), special.log_ndtr(-eta), lam_p, -lam_q,
                    -kap_p, -kap_q)
        if link_name == "cloglog":
            m = exp_clipped(eta)
            small = eta < -20.0
            lp = np.where(small, eta - 0.5 * m + m * m / 24.0, np.log(-np.expm1(-m)))
            g = np.where(m < 1e-8, 1.0 - 0.5 * m, m / np.expm1(m))  # d log p / d eta
            g = np.where(np.isfinite(g), g, 0.0)
            h = np.where(m < 1e-2, -0.5 * m - m * m / 12.0 + m**4 / 720.0, 1.0 - m - g)
            return lp, -m, g, -m, g * h, -m
    raise ValueError(f"link {link_name} is not a binary-response link")


def probit_hazard(x: np.ndarray):
    """lambda(x) = phi(x)/Phi(x) and kappa(x) = lambda(x) (x + lambda(x)) = -lambda'(x)."""
    x = np.asarray(x, dtype=float)
    lam = np.exp(-0.5 * x * x - _LOG_SQRT_2PI - special.log_ndtr(x))
    kap = lam * (x + lam)
    tail = x < -5.0
    if np.any(tail):
        t = -x[tail]
        r = _SQRT_HALF_PI * special.erfcx(t / np.sqrt(2.0))  # Mills ratio (1-Phi(t))/phi(t)
        # 1 - t R(t) = 1/t^2 - 3/t^4 + 15/t^6 - 105/t^8 + 945/t^10 - ... (asymptotic);
        # the direct form loses ~t^2 eps to cancellation, so switch at t = 100
        u = 1.0 / (t * t)
        series = u * (1.0 + u * (-3.0 + u * (15.0 + u * (-105.0 + u * 945.0))))
        one_minus_tr = np.where(t > 100.0, series, 1.0 - t * r)
        lam_t = 1.0 / r
        kap = np.array(kap, dtype=float, copy=True)
        lam = np.array(lam, dtype=float, copy=True)
        lam[tail] = lam_t
        kap[tail] = one_minus_tr * lam_t * lam_t
    return lam, kap
