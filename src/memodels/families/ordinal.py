"""Ordinal family: cumulative logit, probit and cloglog models ([ME] meologit and
[ME] meoprobit, Methods and formulas; [ME] meglm family(ordinal)).

Stata's parameterization, with K ordered categories and cutpoints kappa_1 < ... <
kappa_{K-1} (kappa_0 = -inf, kappa_K = +inf):

    Pr(y = k | eta) = F(kappa_k - eta) - F(kappa_{k-1} - eta)

F the logistic, standard normal or complementary log-log cdf (1 - exp(-exp(x))).  X has
no constant (its effect is absorbed into the cutpoints).  The ancillary parameters are
the K-1 cutpoints, named ``/cut1`` ... ``/cut{K-1}`` as in Stata's e(b), estimated
directly (no reparameterization).

The outcome may take any ordered numeric values ("the actual values taken on by the
response are irrelevant except that larger values are assumed to correspond to
'higher' outcomes", L6326): :meth:`Ordinal.validate` records the sorted distinct values
(``categories``), sets ``aux_names`` to the K-1 cutpoints and returns the category
index 0..K-1 of every observation, which is what every other method takes as ``y``.

Log probabilities are evaluated in forms that stay accurate in the tails and for close
cutpoints (a = kappa_k - eta, b = kappa_{k-1} - eta, a > b):

* logit:   log p = log F(a) + log{1 - F(b)} + log{1 - exp(b - a)}
* probit:  log p = log Phi(a) + log{1 - exp(log Phi(b) - log Phi(a))} when a + b < 0,
           else the same identity in the upper tail, with Phi(-b) and Phi(-a)
* cloglog: log p = -exp(b) + log[1 - exp{-exp(a) (1 - exp(b - a))}]

Derivatives: with A = f(a)/p, B = -f(b)/p and g = f'/f (logit 1 - 2F, probit -x,
cloglog 1 - exp(x)),

    d/da = A, d/db = B, d2/da2 = g(a) A - A^2, d2/db2 = g(b) B - B^2, d2/da db = -A B,

and eta enters as a = kappa_k - eta, b = kappa_{k-1} - eta.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import special

from ..errors import DataError
from ._util import softplus
from .base import Family, Link
from .links import LINKS

_LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)
_LN2 = np.log(2.0)


def _log1mexp(d):
    """log(1 - exp(d)) for d <= 0, accurate over the whole range (-inf at d = 0)."""
    d = np.asarray(d, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(d > -_LN2, np.log(-np.expm1(d)), np.log1p(-np.exp(d)))


# ------------------------------------------------------------ cdf building blocks
def log_cdf(link: str, x):
    """log F(x), finite where F(x) > 0 in double precision."""
    x = np.asarray(x, dtype=float)
    with np.errstate(all="ignore"):
        if link == "logit":
            return -softplus(-x)
        if link == "probit":
            return special.log_ndtr(x)
        if link == "cloglog":
            m = np.exp(np.minimum(x, 700.0))
            return np.where(x < -20.0, x - 0.5 * m + m * m / 24.0, np.log(-np.expm1(-m)))
    raise ValueError(f"link {link} is not an ordinal link")


def log_sf(link: str, x):
    """log{1 - F(x)}."""
    x = np.asarray(x, dtype=float)
    with np.errstate(all="ignore"):
        if link == "logit":
            return -softplus(x)
        if link == "probit":
            return special.log_ndtr(-x)
        if link == "cloglog":
            return -np.exp(np.minimum(x, 709.0))
    raise ValueError(f"link {link} is not an ordinal link")


def log_pdf(link: str, x):
    """log f(x) (-inf at x = +-inf)."""
    x = np.asarray(x, dtype=float)
    with np.errstate(all="ignore"):
        if link == "logit":
            return -softplus(x) - softplus(-x)
        if link == "probit":
            return -0.5 * x * x - _LOG_SQRT_2PI
        if link == "cloglog":
            return np.where(np.isfinite(x), x - np.exp(np.minimum(x, 709.0)), -np.inf)
    raise ValueError(f"link {link} is not an ordinal link")


def score_ratio(link: str, x):
    """g(x) = f'(x) / f(x) (finite values only; callers mask the infinite ends)."""
    x = np.asarray(x, dtype=float)
    with np.errstate(all="ignore"):
        if link == "logit":
            return -np.tanh(0.5 * x)  # 1 - 2 F(x)
        if link == "probit":
            return -x
        if link == "cloglog":
            return 1.0 - np.exp(np.minimum(x, 709.0))
    raise ValueError(f"link {link} is not an ordinal link")


def log_interval(link: str, a, b):
    """log{F(a) - F(b)} for b <= a (b may be -inf, a may be +inf); -inf where a <= b."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    a, b = np.broadcast_arrays(a, b)
    lo_inf = np.isneginf(b)
    hi_inf = np.isposinf(a)
    with np.errstate(all="ignore"):
        diff = b - a  # < 0 for a proper interval
        if link == "logit":
            out = log_cdf(link, a) + log_sf(link, b) + _log1mexp(diff)
        elif link == "probit":
            upper = (a + b) > 0.0
            la, lb = special.log_ndtr(a), special.log_ndtr(b)
            ua, ub = special.log_ndtr(-a), special.log_ndtr(-b)
            low_form = la + _log1mexp(lb - la)
            up_form = ub + _log1mexp(ua - ub)
            out = np.where(upper, up_form, low_form)
        elif link == "cloglog":
            eb = np.exp(np.minimum(b, 709.0))
            t = np.exp(np.minimum(a, 709.0)) * -np.expm1(diff)  # exp(a) - exp(b) > 0
            out = -eb + np.log(-np.expm1(-t))
        else:
            raise ValueError(f"link {link} is not an ordinal link")
        out = np.where(lo_inf, log_cdf(link, a), out)
        out = np.where(hi_inf, log_sf(link, b), out)
        out = np.where(lo_inf & hi_inf, 0.0, out)
        out = np.where(~(a > b), -np.inf, out)
    return out


# ------------------------------------------------------------------------ family
@dataclass
class Ordinal(Family):
    """Stata's ``family(ordinal)``; ``categories`` are set by :meth:`validate`."""

    name: str = "ordinal"
    link: Link = field(default_factory=lambda: LINKS["logit"])
    aux_names: tuple[str, ...] = ()
    data: dict = field(default_factory=dict)
    categories: np.ndarray | None = None  # sorted distinct outcome values
    proportions: np.ndarray | None = None  # sample share of each category

    def __post_init__(self):
        if self.link.name not in ("logit", "probit", "cloglog"):
            raise ValueError(f"family ordinal does not allow link {self.link.name}")
        if self.categories is not None:
            self._set_categories(np.asarray(self.categories, dtype=float), self.proportions)

    # ----------------------------------------------------------- categories
    @property
    def n_categories(self) -> int:
        return 0 if self.categories is None else int(len(self.categories))

    def _set_categories(self, values: np.ndarray, proportions=None) -> None:
        self.categories = np.asarray(values, dtype=float)
        k = self.categories.size
        self.aux_names = tuple(f"/cut{j}" for j in range(1, k))
        if proportions is None:
            proportions = np.full(k, 1.0 / k) if k else None
        self.proportions = None if proportions is None else np.asarray(proportions, float)

    def validate(self, y, depvar: str) -> np.ndarray:
        """Map the outcome values to category indices 0..K-1 and record the categories
        (this family object is updated: ``categories``, ``proportions``, ``aux_names``).
        DataError for a non-numeric or missing outcome and for fewer than 2 categories."""
        arr = np.asarray(y)
        if arr.dtype == object or arr.dtype.kind in "US":
            raise DataError(f"outcome variable {depvar} must be numeric for family ordinal")
        try:
            arr = arr.astype(float)
        except (TypeError, ValueError):
            raise DataError(
                f"outcome variable {depvar} must be numeric for family ordinal") from None
        if arr.ndim != 1:
            arr = arr.reshape(-1)
        if not np.all(np.isfinite(arr)):
            raise DataError(f"outcome {depvar} has missing or infinite values")
        values, index, counts = np.unique(arr, return_inverse=True, return_counts=True)
        if values.size < 2:
            raise DataError(
                f"outcome {depvar} does not vary: an ordinal outcome needs at least 2 "
                f"categories ({depvar} has {values.size})"
            )
        self._set_categories(values, counts / counts.sum())
        return index.astype(float)

    def bind(self, **data) -> Ordinal:
        if data:
            raise TypeError("family ordinal has no per-observation data")
        return self

    def start_aux(self) -> np.ndarray:
        """F^{-1} of the cumulative sample proportions: the cutpoints that maximize the
        likelihood of the model with all coefficients 0 (Stata's iteration 0)."""
        k = self.n_categories
        if k < 2:
            return np.zeros(len(self.aux_names))
        cum = np.clip(np.cumsum(self.proportions)[:-1], 1e-8, 1 - 1e-8)
        return np.asarray(self.link.link(cum), dtype=float)

    # --------------------------------------------------------------- pieces
    def _cuts(self, y, eta, aux):
        """(a, b, upper index, lower index) broadcast against eta."""
        if aux is None:
            raise ValueError("family ordinal needs its cutpoints")
        cuts = np.atleast_1d(np.asarray(aux, dtype=float))
        ext = np.concatenate([[-np.inf], cuts, [np.inf]])
        yi = np.asarray(y)
        k = np.rint(yi).astype(np.intp)
        if np.any(k < 0) or np.any(k > cuts.size):
            raise ValueError(
                f"ordinal outcome indices must be 0..{cuts.size} (call validate first)"
            )
        eta = np.asarray(eta, dtype=float)
        with np.errstate(invalid="ignore"):
            a = ext[k + 1] - eta
            b = ext[k] - eta
        return a, b, k, cuts.size

    def _terms(self, y, eta, aux):
        """log p, A, B, d2/da2, d2/db2, d2/da db and the index arrays."""
        link = self.link.name
        a, b, k, ncut = self._cuts(y, eta, aux)
        lp = log_interval(link, a, b)
        fin_a = np.isfinite(a)
        fin_b = np.isfinite(b)
        with np.errstate(all="ignore"):
            A = np.where(fin_a, np.exp(log_pdf(link, a) - lp), 0.0)
            B = np.where(fin_b, -np.exp(log_pdf(link, b) - lp), 0.0)
            gA = np.where(fin_a, score_ratio(link, a) * A, 0.0)
            gB = np.where(fin_b, score_ratio(link, b) * B, 0.0)
        laa = gA - A * A
        lbb = gB - B * B
        lab = -A * B
        return lp, A, B, laa, lbb, lab, k, ncut

    # ------------------------------------------------------------- densities
    def loglik(self, y, eta, aux=None):
        a, b, _, _ = self._cuts(y, eta, aux)
        return log_interval(self.link.name, a, b)

    def derivatives(self, y, eta, aux=None):
        lp, A, B, laa, lbb, lab, _, _ = self._terms(y, eta, aux)
        if self.link.name == "logit":
            # closed forms: d/deta = F(a) + F(b) - 1, d2/deta2 = -{f(a) + f(b)}
            a, b, _, _ = self._cuts(y, eta, aux)
            fa, fb = special.expit(a), special.expit(b)
            d = fa + fb - 1.0
            d2 = -(fa * special.expit(-a) + fb * special.expit(-b))
            return lp, d, d2
        return lp, -(A + B), laa + 2.0 * lab + lbb

    def aux_derivatives(self, y, eta, aux):
        lp, A, B, laa, lbb, lab, k, ncut = self._terms(y, eta, aux)
        shape = lp.shape
        kk = np.broadcast_to(k, shape)
        da = np.zeros((ncut,) + shape)
        daa = np.zeros((ncut, ncut) + shape)
        dae = np.zeros((ncut,) + shape)
        for j in range(ncut):
            up = kk == j  # the observation's upper cutpoint is cut j (0-based)
            lo = kk == j + 1  # its lower cutpoint is cut j
            da[j] = np.where(up, A, 0.0) + np.where(lo, B, 0.0)
            daa[j, j] = np.where(up, laa, 0.0) + np.where(lo, lbb, 0.0)
            dae[j] = -(np.where(up, laa + lab, 0.0) + np.where(lo, lab + lbb, 0.0))
            if j + 1 < ncut:
                # cut j lower and cut j+1 upper of the same observation (k == j + 1)
                cross = np.where(lo, lab, 0.0)
                daa[j, j + 1] = cross
                daa[j + 1, j] = cross
        return da, daa, dae

    # ----------------------------------------------------------- predictions
    def probabilities(self, eta, aux) -> np.ndarray:
        """Pr(y = k | eta) for every category, on a new last axis of length K."""
        eta = np.asarray(eta, dtype=float)
        cuts = np.atleast_1d(np.asarray(aux, dtype=float))
        ext = np.concatenate([[-np.inf], cuts, [np.inf]])
        up = ext[1:] - eta[..., None]
        lo = ext[:-1] - eta[..., None]
        return np.exp(log_interval(self.link.name, up, lo))

    def mean(self, eta):
        raise NotImplementedError(
            "family ordinal has no scalar mean; use probabilities(eta, cutpoints)"
        )

    def variance(self, mu, aux=None):
        raise NotImplementedError("family ordinal has no variance function")


__all__ = ["Ordinal", "log_interval", "log_cdf", "log_sf", "log_pdf", "score_ratio"]
