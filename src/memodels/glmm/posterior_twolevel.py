"""Empirical Bayes means of a two-level GLMM with a chosen number of quadrature points
([ME] meglm postestimation, Options for predict: "intpoints(#) specifies the number of
quadrature points used to compute ... the empirical Bayes means; the default is the value
from estimation"; iterate() and tolerance() govern the adaptive iterations).

The posterior mean and covariance of each cluster's effects are computed by
mean-variance adaptive quadrature (:meth:`memodels.glmm.twolevel.TwoLevelQuadrature.
posterior`), the adaptive parameters iterated to their fixed point with the new rule,
starting from the fitted ones.  The fitted model is not changed.
"""

from __future__ import annotations

import copy

import numpy as np

from ..quadrature.gauss_hermite import product_rule
from .twolevel import Adaptive, TwoLevelQuadrature


def twolevel_posterior(model: TwoLevelQuadrature, params: np.ndarray, ad: Adaptive | None,
                       *, points: int | None = None, tol: float = 1e-8,
                       maxiter: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Posterior means (M, q) and covariances (M, q, q) of u_j = Lambda v_j."""
    quad = copy.copy(model)
    quad.method = "mvaghermite"
    if points is None and model.method == "laplace":
        points = 7  # one point has no spread to average over
    if points is not None:
        quad.nodes, quad.logw, quad.half_sq = product_rule(int(points), model.q)
    ad = quad._adapt_moments(params, ad or Adaptive.standard(quad.m, quad.q), tol, maxiter)
    return quad.posterior(params, ad)


__all__ = ["twolevel_posterior"]
