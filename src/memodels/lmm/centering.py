"""Internal centring of the fixed-effects design for ``mixed`` (and its dfmethod()).

Stata's ``mixed`` gives the same fit whatever the origin of a covariate: ``year``
(2000-2020) or ``x + 1e9`` gives the fit of the centred model, with the constant expressed
for the original origin ([ME] mixed, Methods and formulas: the likelihood and the
restricted likelihood depend on the fixed effects only through X beta and, for REML,
through log|X'V^-1 X|).  The profiled engine solves with cross-products of X, whose
condition number grows as the square of a column's |mean|/sd: beyond about 1e6 the
slope is lost.

Here, when a column's |mean| exceeds ``SHIFT`` standard deviations next to a constant,
or the column-scaled design's condition number exceeds ``COND_LIMIT`` (an interaction
``i.g#c.year`` is nearly a multiple of its indicator), the columns are orthogonalized
in turn -- the constant first, then each column minus its projections on those before
it (Gram-Schmidt without normalization) -- before the fit:

    X* = X J,   X beta = X* beta*,   beta = J beta*,

with J unit upper triangular (in the order constant, columns).  With one shifted
covariate this is x* = x - mean(x) and beta_cons = beta*_cons - mean(x) beta*_x.

J is unit triangular (det J = 1), so the log likelihood and the restricted log
likelihood (whose term -1/2 log|X'V^-1X| changes by -log|det J|) are unchanged, the
variance components are unchanged, and the results map back exactly: beta = J beta*,
Var(beta) = J Var(beta*) J' (and the (beta, phi) block of a robust VCE likewise).  Scale
needs no transform: the profiled engine is invariant to a column's units.

The random-effects design Z is not centred: for a random slope on a shifted covariate the
random-intercept variance depends on the origin (centring Z changes the model unless the
covariance is mapped as well), so a random-effects column with |mean|/sd beyond
:data:`memodels.design.collinear.MAX_LOCATION_RATIO` is refused with a message
(:func:`check_random_location`).
"""

from __future__ import annotations

import numpy as np

from ..design.collinear import MAX_LOCATION_RATIO, location_ratios
from ..errors import DataError

SHIFT = 100.0  # a fixed-effects column whose |mean| exceeds SHIFT sd is centred


COND_LIMIT = 1e7  # ... or the column-scaled design's condition number exceeds this


class Centering:
    """X* = X J with J unit upper triangular in the order (constant, then the columns):
    each column minus its projections on the constant and on the (transformed) columns
    before it.  With a constant and one shifted covariate this is x - mean(x); an
    interaction with a shifted covariate (``i.g#c.year``) loses its multiple of the
    indicator as well."""

    def __init__(self, jac: np.ndarray, Xs: np.ndarray | None = None) -> None:
        self.jac = jac
        self._Xs = Xs

    @property
    def p(self) -> int:
        return self.jac.shape[0]

    def transform(self, X: np.ndarray) -> np.ndarray:
        """X* (a new array; X is not modified)."""
        if self._Xs is not None and self._Xs.shape == np.shape(X):
            return self._Xs.copy()
        return np.asarray(X, float) @ self.jac

    def jacobian(self, size: int) -> np.ndarray:
        """J over a vector of ``size`` entries whose first ``p`` are beta."""
        jac = np.eye(size)
        jac[: self.p, : self.p] = self.jac
        return jac


def _condition(X: np.ndarray) -> float:
    norms = np.sqrt(np.einsum("ij,ij->j", X, X))
    if not np.all(norms > 0):
        return np.inf
    r = np.linalg.qr(X / norms, mode="r") if X.shape[0] > X.shape[1] else X / norms
    sv = np.linalg.svd(r, compute_uv=False)
    return float(sv[0] / sv[-1]) if sv[-1] > 0 else np.inf


def centering(X: np.ndarray, names: list[str] | None = None) -> Centering | None:
    """The transform for ``X``, or None when the design is well located and conditioned
    (no column with |mean| beyond SHIFT sd next to a constant, condition number of the
    column-scaled X below COND_LIMIT).

    A column whose part not explained by the columns before it is below the rounding of
    its values (fewer than MIN_DIGITS significant digits left: ``c.year#c.year`` with
    ``year`` about 1e9, whose square's variation is lost when the data are stored) is
    refused with a :class:`DataError` naming it (``names``: the columns' names)."""
    X = np.asarray(X, float)
    if X.ndim != 2 or X.shape[0] <= X.shape[1] or X.shape[1] < 2 or \
            not np.all(np.isfinite(X)):
        return None
    ones = np.flatnonzero(np.all(X == 1.0, axis=0))
    ratios = location_ratios(X)
    shifted = ones.size > 0 and bool(np.any(np.isfinite(ratios) & (ratios > SHIFT)))
    if not shifted and _condition(X) <= COND_LIMIT:
        return None
    p = X.shape[1]
    order = ([int(ones[0])] if ones.size else []) + [j for j in range(p)
                                                      if not ones.size or j != ones[0]]
    jac = np.eye(p)
    Xs = np.array(X, dtype=float, copy=True)
    done: list[int] = []
    for j in order:
        v = Xs[:, j].copy()
        for _ in range(2):  # twice is enough (Kahan-Parlett)
            for k in done:
                xk = Xs[:, k]
                c = float(xk @ v) / float(xk @ xk)
                if c:
                    v -= c * xk
                    jac[:, j] -= c * jac[:, k]
        if j not in ones:
            _check_digits(X[:, j], v, j, names)
        Xs[:, j] = v
        done.append(j)
    return Centering(jac, Xs)


MIN_DIGITS = 5


def _check_digits(x: np.ndarray, v: np.ndarray, j: int, names: list[str] | None) -> None:
    """Refuse column ``j`` when its residual ``v`` (after the projections) is within
    10^-MIN_DIGITS of the rounding error of its stored values."""
    rounding = np.finfo(float).eps * float(np.max(np.abs(x)))
    rms = float(np.sqrt(np.mean(v * v)))
    if rms <= 0 or rounding > 10.0 ** (-MIN_DIGITS) * rms:
        name = names[j] if names is not None and j < len(names) else f"column {j + 1}"
        digits = np.log10(rms / rounding) if rms > 0 and rounding > 0 else 0.0
        raise DataError(
            f"covariate {name} cannot be estimated accurately: what it adds to the "
            f"covariates before it is at the rounding level of its values (about "
            f"{max(digits, 0.0):.0f} significant digits left, values up to "
            f"{float(np.max(np.abs(x))):.3g}); centre the variables it is made of first "
            "(e.g. generate c_x = x - mean) and build the term from the centred variable")


def map_fit_back(fit, cen: Centering, full_vcov: np.ndarray | None = None):
    """``fit`` (an LMMFit of X*) in the original metric, in place; ``full_vcov``: a
    (beta, phi) VCE to map as well (returned).  The centring and the centred
    Var(beta*) stay on the fit (``centering``, ``vcov_beta_centred``) for
    :func:`centred_quadratic`."""
    p = fit.beta.size
    jac = cen.jacobian(p)
    fit.centering = cen
    fit.vcov_beta_centred = np.array(fit.vcov_beta, dtype=float, copy=True)
    fit.beta = jac @ fit.beta
    fit.vcov_beta = jac @ fit.vcov_beta @ jac.T
    if full_vcov is not None:
        big = cen.jacobian(full_vcov.shape[0])
        full_vcov = big @ full_vcov @ big.T
    return full_vcov


def centred_quadratic(fit, G: np.ndarray, vcov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(G', V') for the variances diag(G V G') of linear combinations G beta of a fit:
    after centring, G J and Var(beta*) -- the same quadratic forms without the
    cancellation of x + 1e9 against the constant (x'Vx of a 1e9-sized x loses every
    digit); otherwise G and ``vcov`` unchanged."""
    cen = getattr(fit, "centering", None)
    vstar = getattr(fit, "vcov_beta_centred", None)
    G = np.asarray(G, float)
    if cen is None or vstar is None or G.ndim != 2 or G.shape[1] != vstar.shape[0]:
        return G, vcov
    return G @ cen.jacobian(G.shape[1]), vstar


def check_random_location(design, eterms) -> None:
    """Refuse a random-effects column (a random slope) whose |mean|/sd exceeds
    MAX_LOCATION_RATIO: centring it would change the model (see the module docstring)."""
    for et in eterms:
        Z = np.asarray(et.Z, float)
        if Z.ndim != 2 or Z.shape[1] == 0 or not np.all(np.isfinite(Z)):
            continue
        ratios = location_ratios(Z)
        bad = np.flatnonzero(np.isfinite(ratios) & (ratios > MAX_LOCATION_RATIO))
        if bad.size:
            term = design.terms[et.source]
            names = list(term.names)
            j = int(bad[0])
            name = names[j] if j < len(names) else f"column {j + 1}"
            mean = float(Z[:, j].mean())
            raise DataError(
                f"random-effects covariate {name} at level {term.level} cannot be estimated "
                f"accurately: its mean ({mean:.6g}) is {ratios[j]:.3g} times its standard "
                f"deviation (the limit is {MAX_LOCATION_RATIO:g}); centring a random slope "
                "changes the model (the intercept variance depends on the origin), so "
                f"centre it yourself, e.g. generate c_{name} = {name} - {mean:.6g}")


__all__ = ["COND_LIMIT", "Centering", "MIN_DIGITS", "SHIFT", "centering", "centred_quadratic",
           "check_random_location", "map_fit_back"]
