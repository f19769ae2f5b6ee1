"""Internal centring of the fixed-effects design for ``mixed`` (and its dfmethod()).

Stata's ``mixed`` gives the same fit whatever the origin of a covariate: ``year``
(2000-2020) or ``x + 1e9`` gives the fit of the centred model, with the constant expressed
for the original origin ([ME] mixed, Methods and formulas: the likelihood and the
restricted likelihood depend on the fixed effects only through X beta and, for REML,
through log|X'V^-1 X|).  The profiled engine solves with cross-products of X, whose
condition number grows as the square of a column's |mean|/sd: beyond about 1e6 the
slope is lost.

Here each non-constant fixed-effects column whose |mean| exceeds ``SHIFT`` standard
deviations is centred before the fit (only when the model has a constant):

    x*_j = x_j - m_j,   X beta = X* beta*,   beta = J beta*,
    beta_j = beta*_j,   beta_cons = beta*_cons - sum_j m_j beta*_j.

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


class Centering:
    """x* = x - center for every column (center 0 for the constant and for columns of
    ordinary location); ``cons`` the constant's column."""

    def __init__(self, center: np.ndarray, cons: int) -> None:
        self.center = center
        self.cons = cons

    def transform(self, X: np.ndarray) -> np.ndarray:
        """X* (a new array; X is not modified)."""
        return np.asarray(X, float) - self.center

    def jacobian(self, size: int) -> np.ndarray:
        """J over a vector of ``size`` entries whose first ``p`` are beta."""
        jac = np.eye(size)
        p = self.center.size
        jac[self.cons, :p] -= self.center
        jac[self.cons, self.cons] = 1.0
        return jac


def centering(X: np.ndarray) -> Centering | None:
    """The centring for ``X`` (the constant is a column of ones), or None when no column
    needs it or the model has no constant."""
    X = np.asarray(X, float)
    if X.ndim != 2 or X.shape[0] < 2 or X.shape[1] < 2 or not np.all(np.isfinite(X)):
        return None
    ones = np.flatnonzero(np.all(X == 1.0, axis=0))
    if ones.size == 0:
        return None
    cons = int(ones[0])
    ratios = location_ratios(X)
    center = np.where(np.isfinite(ratios) & (ratios > SHIFT), X.mean(axis=0), 0.0)
    center[cons] = 0.0
    if not np.any(center):
        return None
    return Centering(center, cons)


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


__all__ = ["Centering", "centering", "centred_quadratic", "map_fit_back",
           "check_random_location", "SHIFT"]
