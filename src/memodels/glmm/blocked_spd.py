"""Factorization of the Laplace Hessian Lambda'Z'WZ Lambda + I in blocks.

The random effects of the term with the most groups come first; their block is block
diagonal (each observation belongs to one group), so it is factored by batched q x q
Cholesky factors, and the other terms enter through a dense Schur complement -- as the
linear engine does (:mod:`memodels.lmm.profiled`).  For crossed factors of 1,000 and 200
levels this is a 200 x 200 dense factorization instead of a sparse LU with heavy fill.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from ..lmm import batched


class BlockedSPD:
    def __init__(self, a: sp.csr_matrix, q1_total: int, q1: int) -> None:
        self.q1_total, self.q1 = q1_total, q1
        g1 = q1_total // q1
        top = a[:q1_total, :q1_total].tocoo()
        blocks = np.zeros((g1, q1, q1))
        blocks[top.row // q1, top.row % q1, top.col % q1] = top.data
        self.low1 = batched.cholesky(blocks)
        a1r = a[:q1_total, q1_total:].tocsr()
        eye = np.ascontiguousarray(np.broadcast_to(np.eye(q1), blocks.shape))
        linv = batched.forward_solve(self.low1, eye)
        linv_s = sp.bsr_matrix((linv, np.arange(g1), np.arange(g1 + 1)),
                               shape=(q1_total, q1_total)).tocsr()
        self.w = (linv_s @ a1r).tocsr()
        self.wt = self.w.T.tocsr()
        s = a[q1_total:, q1_total:].toarray() - (self.wt @ self.w).toarray()
        self.low_s = sla.cholesky(s, lower=True, check_finite=False)
        self.logdet = 2.0 * float(np.log(np.diagonal(self.low1, axis1=1, axis2=2)).sum()
                                  + np.log(np.diag(self.low_s)).sum())

    def solve(self, b: np.ndarray) -> np.ndarray:
        q1t, q1 = self.q1_total, self.q1
        y1 = batched.forward_solve(self.low1, b[:q1t].reshape(-1, q1)).ravel()
        yr = sla.solve_triangular(self.low_s, b[q1t:] - self.wt @ y1, lower=True,
                                  check_finite=False)
        xr = sla.solve_triangular(self.low_s, yr, lower=True, trans="T", check_finite=False)
        x1 = batched.backward_solve_t(self.low1, (y1 - self.w @ xr).reshape(-1, q1)).ravel()
        return np.concatenate([x1, xr])
