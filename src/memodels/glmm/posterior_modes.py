"""Empirical Bayes modes of the random effects of any GLMM (nested levels, crossed
effects, Laplace fits), with their conditional standard errors.

[ME] meglm postestimation, Methods and formulas: the EB mode solves

    d/du log{f(y_j | u_j) phi(u_j; Sigma)} = 0,

jointly for all the random effects that share a top-level cluster (all of them in a
crossed model), and "conditional standard errors for the estimated posterior modes are
derived from standard theory of maximum likelihood, which dictates that the asymptotic
variance matrix of u~_j is the negative inverse of the Hessian".

This is the inner problem of the Laplace approximation ([ME] meglm, Methods and formulas,
Laplacian approximation), solved by :class:`memodels.glmm.laplace_sparse.SparseLaplace`:
with u = Lambda b, b~ maximizes h(b) = sum_i log f(y_i | eta_i) - b'b/2 by Newton's method
on sparse matrices, and the Hessian is -A, A = Lambda'Z'W Z Lambda + I.  So

    u~ = Lambda b~,   Cov(u~_g) = Lambda_t [A^{-1}]_(g) Lambda_t',

[A^{-1}]_(g) the diagonal block of the effects of group g of term t (selected entries of
A^{-1}, never the whole inverse).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..lmm.terms import EngineTerm
from .laplace_sparse import SparseLaplace
from .nested import NestedQuadrature


def sparse_modes(model: SparseLaplace, params: np.ndarray
                 ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Posterior modes (G_t, q_t) and their covariances (G_t, q_t, q_t) of every term, in
    the terms' order and indexed by the terms' group codes."""
    _, b, lam = model.laplace(params, b0=np.zeros(model.q_total), tol=1e-12)
    u = lam @ b
    fac = model.state["fac"]
    _, _, thetas = model.split(params)
    means: list[np.ndarray] = [np.empty(0)] * len(model.terms)
    covs: list[np.ndarray] = [np.empty(0)] * len(model.terms)
    for ii, orig in enumerate(model.order):
        t = model.iterms[ii]
        q, g = t.Z.shape[1], t.n_groups
        start = model.offsets[ii]
        means[orig] = u[start : start + g * q].reshape(g, q)
        # entries (g, a, c) of the group's q x q block of A^{-1}
        base = start + np.arange(g)[:, None, None] * q
        rows = np.broadcast_to(base + np.arange(q)[None, :, None], (g, q, q)).ravel()
        cols = np.broadcast_to(base + np.arange(q)[None, None, :], (g, q, q)).ravel()
        block = _inverse_entries(fac, rows, cols, model.q_total).reshape(g, q, q)
        lt = t.structure.relative_factor(thetas[orig])
        covs[orig] = lt @ block @ lt.T
    return means, covs


def nested_modes(model: NestedQuadrature, terms: list[EngineTerm], params: np.ndarray
                 ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """EB modes of a nested quadrature fit: the joint posterior mode of all levels' effects
    of each top-level cluster, on the engine's (sorted) data."""
    order = model.order
    sorted_terms = [dataclasses.replace(t, groups=np.asarray(t.groups)[order],
                                        Z=np.asarray(t.Z, float)[order]) for t in terms]
    lap = SparseLaplace(model.y, model.X, sorted_terms, model.family, offset=model.offset)
    return sparse_modes(lap, params)


def nested_modes_weighted(model: NestedQuadrature, terms: list[EngineTerm],
                          params: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """EB modes of a weighted nested fit: the joint mode of the weighted integrand
    (observation and level weights, as the weighted likelihood's recursion has them) by the
    tree elimination of :meth:`NestedQuadrature._adapt_mode`; each level's covariance is
    the last diagonal block of its path covariance, B B' + C C' (the block of (-H)^{-1}),
    mapped to u = Lambda v.  Unweighted, this equals :func:`nested_modes`."""
    ads = model._adapt_mode(params, model.initial_adaptive(), 1e-10, 200)
    _, _, thetas = model.split(params)
    means, covs = [], []
    for lev, t in enumerate(terms):
        ad = ads[lev]
        lam = model.structures[lev].relative_factor(thetas[lev])
        cov_v = ad.chol @ np.swapaxes(ad.chol, 1, 2)
        if ad.b.size:
            cov_v = cov_v + ad.b @ np.swapaxes(ad.b, 1, 2)
        index = np.full(t.n_groups, -1, dtype=np.int64)
        index[np.asarray(t.groups)[model.order]] = model.cl[lev]
        means.append((ad.mu @ lam.T)[index])
        covs.append((lam @ cov_v @ lam.T)[index])
    return means, covs


def _inverse_entries(fac, rows: np.ndarray, cols: np.ndarray, size: int) -> np.ndarray:
    """Entries (rows[k], cols[k]) of A^{-1} from A's factorization."""
    if hasattr(fac, "inverse_entries"):
        return np.asarray(fac.inverse_entries(rows, cols))
    out = np.empty(rows.size)
    need = np.unique(cols)
    chunk = 512
    for s in range(0, need.size, chunk):
        cc = need[s : s + chunk]
        rhs = np.zeros((size, cc.size))
        rhs[cc, np.arange(cc.size)] = 1.0
        sol = fac.lu.solve(rhs)
        pos = np.searchsorted(cc, cols)
        hit = (pos < cc.size) & (cc[np.minimum(pos, cc.size - 1)] == cols)
        out[hit] = sol[rows[hit], pos[hit]]
    return out


__all__ = ["sparse_modes", "nested_modes", "nested_modes_weighted"]
