"""Empirical Bayes means and posterior covariances of the random effects of a nested
(three or more level) GLMM, by the fitted model's adaptive quadrature.

[ME] meglm postestimation, Methods and formulas: the EB mean of a cluster's effects is
the mean of their posterior distribution given the data of the top-level cluster that
contains it, and its standard error the posterior standard deviation; "if you have ...
random effects across levels, the calculation involves orthogonalizing transformations
using the Cholesky transformation because the random effects are no longer independent
under the posterior distribution".

With the nested integrals of :class:`memodels.glmm.nested.NestedQuadrature` (nodes of a
level shifted by the standardized nodes of the levels above), the posterior probability
of a path of nodes k_<=l from the top down to a level-l cluster c, given all the data of
the top-level cluster, is the path weight

    W_l(c, k_<=l) = W_{l-1}(parent(c), k_<l) P_l(c, k_l | k_<l),

P_l the conditional node posterior of the level (its children's data enter through the
integrated likelihoods R_{l+1}).  So, with v_lc(k_<=l) the standardized effect at the
path's nodes and u = Lambda_l v,

    E(u_lc | y) = Lambda_l sum_k W_l(c, k) v_lc(k),
    Cov(u_lc | y) = Lambda_l [sum_k W_l(c, k) (v - v~)(v - v~)'] Lambda_l'.

The adaptive parameters are iterated to their mean-variance fixed point first (the
fitted ones are that fixed point after ``intmethod(mvaghermite)``; other methods are
re-adapted), so that the quadrature is the one ``predict`` of Stata describes ("This
multivariate integral is approximated by the mean-variance adaptive Gaussian
quadrature").  Everything is vectorised over clusters.
"""

from __future__ import annotations

import copy

import numpy as np

from ..quadrature.gauss_hermite import product_rule
from .nested import JointAdaptive, NestedQuadrature


def with_points(model: NestedQuadrature, points: int | None) -> NestedQuadrature:
    """A mean-variance adaptive copy of ``model`` with ``points`` quadrature points per
    dimension (``None``: the model's own rule).  The model itself is not changed."""
    out = copy.copy(model)
    out.method = "mvaghermite"
    if points is None:
        if model.method != "laplace":
            return out
        points = 7  # one point (Laplace) has no spread to average over
    out.rules = [product_rule(int(points), q) for q in model.q]
    out.K = [r[0].shape[0] for r in out.rules]
    out.outer_nodes = [np.zeros((1, 0))]
    for lev in range(1, model.depth):
        prev = out.outer_nodes[-1]
        a = out.rules[lev - 1][0]
        out.outer_nodes.append(np.concatenate([
            np.repeat(prev, a.shape[0], axis=0), np.tile(a, (prev.shape[0], 1))], axis=1))
    return out


def nested_posterior(model: NestedQuadrature, params: np.ndarray,
                     ads: list[JointAdaptive] | None = None, *, points: int | None = None,
                     tol: float = 1e-8, maxiter: int = 100
                     ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Posterior means (M_l, q_l) and covariances (M_l, q_l, q_l) of u = Lambda_l v for
    every level l (outermost first), in the engine's cluster order of each level."""
    quad = with_points(model, points)
    ads = quad.adapt(params, ads, tol=tol, maxiter=maxiter)
    _, _, thetas = quad.split(params)
    _, js, rs, nodes = quad.cluster_loglik(params, ads)
    _, ws = quad._posteriors(js, rs)
    means, covs = [], []
    for lev in range(quad.depth):
        q = quad.q[lev]
        v = nodes[lev][0].reshape(quad.m[lev], -1, q)  # (M_l, prod K_<=l, q)
        w = ws[lev]  # (M_l, prod K_<=l), rows sum to 1
        mean = np.einsum("jk,jkq->jq", w, v)
        dv = v - mean[:, None, :]
        cov = np.einsum("jk,jkq,jkr->jqr", w, dv, dv)
        lam = quad.structures[lev].relative_factor(thetas[lev])
        means.append(mean @ lam.T)
        covs.append(lam @ cov @ lam.T)
    return means, covs


def cluster_to_group(model: NestedQuadrature, lev: int, groups: np.ndarray,
                     n_groups: int) -> np.ndarray:
    """Engine cluster index of every group code (0..n_groups-1) of level ``lev``'s term;
    ``groups`` are the term's codes per observation in the data's (unsorted) order."""
    out = np.full(n_groups, -1, dtype=np.int64)
    out[np.asarray(groups)[model.order]] = model.cl[lev]
    return out


__all__ = ["nested_posterior", "with_points", "cluster_to_group"]
