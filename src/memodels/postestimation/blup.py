"""BLUPs of the random effects of ``mixed`` and their standard errors.

[ME] mixed postestimation, Methods and formulas (Prediction):

    u~ = G Z' V^{-1} (y - X b),   V = Z G Z' + sigma_e^2 W^{-1}

(with ``residuals()``, V = Z G Z' + sigma_e^2 R: the formulas below are applied to the
transformed data C^{-1}y, C^{-1}X, C^{-1}Z, R = C C'; see :mod:`.residual_cov`)

with the ML or REML variance estimates plugged in.  Computed through the penalized
least-squares system of the engine (G = sigma_e^2 Lambda Lambda', Lambda block diagonal
with one relative factor L_t per group of term t):

    A = Lambda'Z'W Z Lambda + I,    u~ = Lambda A^{-1} Lambda'Z'W (y - X b),

which needs no inverse of G (a variance at the boundary is fine).

Standard errors (``reses``): "If estimation is done by REML, these standard errors
account for uncertainty in the estimate of beta, while for ML the standard errors treat
beta as known":

* ML:   Var(u | y) = G - G Z'V^{-1} Z G = sigma_e^2 Lambda A^{-1} Lambda'
* REML: Var(u~ - u) = G - G Z'P Z G, P = V^{-1} - V^{-1}X(X'V^{-1}X)^{-1}X'V^{-1};
        = sigma_e^2 Lambda (M^{-1})_uu Lambda' with M the full mixed-model-equations
        matrix, i.e. the ML term plus Lambda A^{-1}B Var(b) B'A^{-1} Lambda',
        B = Lambda'Z'W X (Henderson's C^{22}).

Both give q x q blocks per group; ``reses`` is the square root of their diagonals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ..lmm.profiled import _sparse_z
from .residual_cov import has_structure, whitened_system

DENSE_Q = 4000


@dataclass
class BLUPs:
    u: list[np.ndarray]  # per engine term: (G_t, q_t)
    cov: list[np.ndarray] | None  # per engine term: (G_t, q_t, q_t) prediction variances


def relative_factors(fit) -> list[np.ndarray]:
    s2 = float(fit.sigma2)
    out = []
    for et, sig in zip(fit.terms, fit.sigmas, strict=True):
        st = et.structure
        out.append(st.relative_factor(st.theta_from_sigma(np.asarray(sig) / s2)))
    return out


def mixed_blups(design, fit, *, variances: bool = False) -> BLUPs:
    terms = fit.terms
    if not terms:
        return BLUPs([], [] if variances else None)
    n = design.y.size
    w = design.weights if (design.weight_kind == "fweight" and design.weights is not None) \
        else np.ones(n)
    w = np.asarray(w, float)
    X = design.X
    r = np.asarray(design.y, float) - X @ fit.beta
    if has_structure(fit):
        # residuals(): the same formulas on C^{-1}y, C^{-1}X, C^{-1}Z (residual_cov.py)
        r, X, terms = whitened_system(fit, r, X, terms)
    lams = relative_factors(fit)
    s2 = float(fit.sigma2)
    reml = bool(fit.reml)

    if len(terms) == 1:
        return _single_term(terms[0], lams[0], w, X, r, s2, fit.vcov_beta, variances, reml)

    z, offsets = _sparse_z(terms, n)
    lam = sp.block_diag(
        [sp.kron(sp.identity(t.n_groups, format="csr"), sp.csr_matrix(lm))
         for t, lm in zip(terms, lams, strict=True)], format="csr")
    zl = (z @ lam).tocsr()
    zlw = sp.diags(w) @ zl
    q = zl.shape[1]
    a = (zl.T @ zlw).tocsc() + sp.identity(q, format="csc")
    c = np.asarray(zlw.T @ r).ravel()
    bx = np.asarray(zlw.T @ X) if variances and reml else None
    if q <= DENSE_Q:
        ad = a.toarray()
        ainv = np.linalg.inv(ad)
        sol = ainv @ c
        ainv_b = ainv @ bx if bx is not None else None

        def block(sl: slice) -> np.ndarray:
            return ainv[sl, sl]
    else:
        lu = spla.splu(a, permc_spec="MMD_AT_PLUS_A")
        sol = lu.solve(c)
        ainv_b = lu.solve(bx) if bx is not None else None

        def block(sl: slice) -> np.ndarray:
            cols = np.arange(sl.start, sl.stop)
            out = np.empty((q, cols.size))
            for k in range(0, cols.size, 256):
                idx = cols[k:k + 256]
                rhs = np.zeros((q, idx.size))
                rhs[idx, np.arange(idx.size)] = 1.0
                out[:, k:k + idx.size] = lu.solve(rhs)
            return out[sl, :]

    us, covs = [], []
    for t, lm, off in zip(terms, lams, offsets[:-1], strict=True):
        qt, g = t.Z.shape[1], t.n_groups
        sl = slice(off, off + g * qt)
        bt = sol[sl].reshape(g, qt)
        us.append(bt @ lm.T)
        if variances:
            blk = block(sl)
            # diagonal q x q blocks of the term's part of A^{-1}
            cblk = blk.reshape(g, qt, g, qt)[np.arange(g), :, np.arange(g), :]
            if ainv_b is not None:
                ab = ainv_b[sl].reshape(g, qt, -1)
                cblk = cblk + np.einsum("gip,pq,gjq->gij", ab, fit.vcov_beta / s2, ab)
            covs.append(s2 * np.einsum("ij,gjk,lk->gil", lm, cblk, lm))
    return BLUPs(us, covs if variances else None)


def _single_term(term, lm, w, X, r, s2, vcov_beta, variances, reml) -> BLUPs:
    """One random-effects term: A is block diagonal, one q x q block per group."""
    g, z = term.groups, term.Z
    qt, m = z.shape[1], term.n_groups
    zl = z @ lm
    zlw = zl * w[:, None]
    a = np.zeros((m, qt, qt))
    np.add.at(a, g, zlw[:, :, None] * zl[:, None, :])
    a[:, np.arange(qt), np.arange(qt)] += 1.0
    c = np.zeros((m, qt))
    np.add.at(c, g, zlw * r[:, None])
    ainv = np.linalg.inv(a)
    bt = np.einsum("gij,gj->gi", ainv, c)
    u = bt @ lm.T
    if not variances:
        return BLUPs([u], None)
    cblk = ainv
    if reml and X.shape[1]:
        b = np.zeros((m, qt, X.shape[1]))
        np.add.at(b, g, zlw[:, :, None] * X[:, None, :])
        ab = ainv @ b
        cblk = cblk + np.einsum("gip,pq,gjq->gij", ab, vcov_beta / s2, ab)
    cov = s2 * np.einsum("ij,gjk,lk->gil", lm, cblk, lm)
    return BLUPs([u], [cov])
