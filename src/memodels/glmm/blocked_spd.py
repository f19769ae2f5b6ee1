"""Factorization of the Laplace Hessian Lambda'Z'WZ Lambda + I in blocks.

The random effects of the term with the most groups come first; their block is block
diagonal (each observation belongs to one group), so it is factored by batched q x q
Cholesky factors, and the other terms enter through a dense Schur complement -- as the
linear engine does (:mod:`memodels.lmm.profiled`).  For crossed factors of 1,000 and 200
levels this is a 200 x 200 dense factorization instead of a sparse LU with heavy fill.
"""

from __future__ import annotations

from functools import lru_cache

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
        self.linv = linv
        self.linv_s = linv_s
        self.w = (linv_s @ a1r).tocsr()
        self.wt = self.w.T.tocsr()
        s = a[q1_total:, q1_total:].toarray() - (self.wt @ self.w).toarray()
        self.low_s = sla.cholesky(s, lower=True, check_finite=False)
        self.logdet = 2.0 * float(np.log(np.diagonal(self.low1, axis1=1, axis2=2)).sum()
                                  + np.log(np.diag(self.low_s)).sum())

    @classmethod
    def block_diagonal(cls, blocks: np.ndarray) -> BlockedSPD:
        """The factorization of a block-diagonal matrix given by its (G, q, q) blocks (one
        random-effects term: no Schur complement), without forming a sparse matrix."""
        self = cls.__new__(cls)
        g1, q1, _ = blocks.shape
        self.q1_total, self.q1 = g1 * q1, q1
        self.low1 = batched.cholesky(blocks)
        if q1 == 1:
            self.linv = 1.0 / self.low1
        else:
            eye = np.ascontiguousarray(np.broadcast_to(np.eye(q1), blocks.shape))
            self.linv = batched.forward_solve(self.low1, eye)
        self.w, self.wt = _empties(self.q1_total)
        self._ymat = self.w
        self.low_s = np.zeros((0, 0))
        self._sinv = np.zeros((0, 0))
        self.logdet = 2.0 * float(np.log(np.diagonal(self.low1, axis1=1, axis2=2)).sum())
        return self

    def solve(self, b: np.ndarray) -> np.ndarray:
        q1t, q1 = self.q1_total, self.q1
        if self.low_s.shape[0] == 0:  # block diagonal: no Schur complement
            if q1 == 1:
                return b / self.low1[:, 0, 0] ** 2
            y1 = batched.forward_solve(self.low1, b.reshape(-1, q1))
            return batched.backward_solve_t(self.low1, y1).ravel()
        y1 = batched.forward_solve(self.low1, b[:q1t].reshape(-1, q1)).ravel()
        yr = sla.solve_triangular(self.low_s, b[q1t:] - self.wt @ y1, lower=True,
                                  check_finite=False)
        xr = sla.solve_triangular(self.low_s, yr, lower=True, trans="T", check_finite=False)
        x1 = batched.backward_solve_t(self.low1, (y1 - self.w @ xr).reshape(-1, q1)).ravel()
        return np.concatenate([x1, xr])

    def inverse_entries(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Entries (rows[k], cols[k]) of A^{-1} without forming it (a selected inversion).

        With A11 = L1 L1', W = L1^{-1} A12, S = A22 - W'W and Y = L1^{-T} W,

            A^{-1} = [[A11^{-1} + Y S^{-1} Y',  -Y S^{-1}],
                      [-S^{-1} Y',               S^{-1}  ]],

        and each entry of Y S^{-1} is a short sum over one (sparse) row of Y.  S^{-1} is
        formed densely (S is the small Schur complement of the other terms)."""
        q1t, q1 = self.q1_total, self.q1
        rows = np.asarray(rows, np.int64)
        cols = np.asarray(cols, np.int64)
        swap = (rows >= q1t) & (cols < q1t)  # put the first-term index first
        i = np.where(swap, cols, rows)
        j = np.where(swap, rows, cols)
        sinv = self._schur_inverse()
        y = self._y()
        # Y S^{-1} densely when it is small, else entry by entry over Y's sparse rows
        ys_dense = (y @ sinv) if y.shape[0] * y.shape[1] <= 8_000_000 else None

        def ys(ii: np.ndarray, rr: np.ndarray) -> np.ndarray:
            if ys_dense is not None:
                return ys_dense[ii, rr]
            return _row_times_dense(y, ii, rr, sinv)

        out = np.empty(i.size)
        rr = i >= q1t
        out[rr] = sinv[i[rr] - q1t, j[rr] - q1t]
        fr = (i < q1t) & (j >= q1t)
        out[fr] = -ys(i[fr], j[fr] - q1t)
        ff = (i < q1t) & (j < q1t)
        if np.any(ff):
            fi, fj = i[ff], j[ff]
            val = np.zeros(fi.size)
            same = fi // q1 == fj // q1
            g, a, b = fi[same] // q1, fi[same] % q1, fj[same] % q1
            val[same] = np.einsum("nk,nk->n", self.linv[g, :, a], self.linv[g, :, b])
            # (Y S^-1 Y')[i, j] = sum_m Y[i, m] (Y S^-1)[j, m], over row i of Y
            starts, ends = y.indptr[fi], y.indptr[fi + 1]
            counts = ends - starts
            owner = np.repeat(np.arange(fi.size), counts)
            pos = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
            val += np.bincount(owner, weights=y.data[pos] * ys(fj[owner], y.indices[pos]),
                               minlength=fi.size)
            out[ff] = val
        return out

    def _schur_inverse(self) -> np.ndarray:
        if getattr(self, "_sinv", None) is None:
            low = self.low_s
            if np.count_nonzero(low - np.diag(np.diag(low))) == 0:
                self._sinv = np.diag(1.0 / np.diag(low) ** 2)
            else:
                inv, info = sla.lapack.dpotri(low, lower=1)
                if info != 0:
                    raise np.linalg.LinAlgError("Schur complement is singular")
                self._sinv = np.tril(inv) + np.tril(inv, -1).T
        return self._sinv

    def _y(self) -> sp.csr_matrix:
        if getattr(self, "_ymat", None) is None:
            self._ymat = (self.linv_s.T @ self.w).tocsr()
            self._ymat.sort_indices()
        return self._ymat


@lru_cache(maxsize=8)
def _empties(rows: int) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """The (rows x 0) and (0 x rows) empty CSR matrices of a block-diagonal factor, built
    once per size (they are only read), not on every Newton step."""
    empty = sp.csr_matrix((rows, 0))
    return empty, empty.T.tocsr()


def _row_times_dense(y: sp.csr_matrix, i: np.ndarray, r: np.ndarray,
                     dense: np.ndarray) -> np.ndarray:
    """(Y D)[i[k], r[k]] = sum over the nonzeros Y[i[k], m] of Y[i[k], m] D[m, r[k]]."""
    starts, ends = y.indptr[i], y.indptr[i + 1]
    counts = ends - starts
    owner = np.repeat(np.arange(i.size), counts)
    pos = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
    vals = y.data[pos] * dense[y.indices[pos], r[owner]]
    return np.bincount(owner, weights=vals, minlength=i.size)
