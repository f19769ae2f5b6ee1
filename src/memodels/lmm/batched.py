"""Batched small dense linear algebra, vectorised over groups.

numpy's batched ``linalg`` routines pay a fixed cost per matrix; with thousands of
2 x 2 blocks that cost dominates.  These routines loop over the (small) block
dimension and vectorise over the (large) group dimension instead.
"""

from __future__ import annotations

import numpy as np


def cholesky(a: np.ndarray) -> np.ndarray:
    """Lower Cholesky factors of a stack of SPD matrices, shape (G, q, q)."""
    q = a.shape[-1]
    if q > 6:
        return np.linalg.cholesky(a)
    low = np.zeros_like(a)
    for j in range(q):
        d = a[:, j, j] - (low[:, j, :j] ** 2).sum(axis=1)
        if np.any(d <= 0):
            raise np.linalg.LinAlgError("matrix not positive definite")
        ljj = np.sqrt(d)
        low[:, j, j] = ljj
        if j + 1 < q:
            s = a[:, j + 1 :, j] - (low[:, j + 1 :, :j] * low[:, j, None, :j]).sum(axis=2)
            low[:, j + 1 :, j] = s / ljj[:, None]
    return low


def forward_solve(low: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Solve L x = b for a stack of lower-triangular L (G,q,q); b is (G,q) or (G,q,k)."""
    vec = b.ndim == 2
    rhs = b[:, :, None] if vec else b
    q = low.shape[-1]
    if q > 6:
        out = np.linalg.solve(low, rhs)
        return out[:, :, 0] if vec else out
    x = np.empty(rhs.shape, dtype=float)
    for i in range(q):
        acc = rhs[:, i, :].copy()
        if i:
            acc -= (low[:, i, :i, None] * x[:, :i, :]).sum(axis=1)
        x[:, i, :] = acc / low[:, i, i][:, None]
    return x[:, :, 0] if vec else x


def backward_solve_t(low: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Solve L' x = b for a stack of lower-triangular L; b is (G,q) or (G,q,k)."""
    vec = b.ndim == 2
    rhs = b[:, :, None] if vec else b
    q = low.shape[-1]
    if q > 6:
        out = np.linalg.solve(np.swapaxes(low, 1, 2), rhs)
        return out[:, :, 0] if vec else out
    x = np.empty(rhs.shape, dtype=float)
    for i in range(q - 1, -1, -1):
        acc = rhs[:, i, :].copy()
        if i + 1 < q:
            acc -= (low[:, i + 1 :, i, None] * x[:, i + 1 :, :]).sum(axis=1)
        x[:, i, :] = acc / low[:, i, i][:, None]
    return x[:, :, 0] if vec else x


def group_sums(values: np.ndarray, order: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Sum rows of ``values`` (n, ...) by group, given a group-sorting permutation and
    the start offsets of each group in sorted order (every group non-empty)."""
    return np.add.reduceat(values[order], starts, axis=0)


def group_cross(groups: np.ndarray, n_groups: int, a: np.ndarray, b: np.ndarray,
                symmetric: bool = False) -> np.ndarray:
    """Per-group cross products sum_{i in g} a_i b_i', shape (n_groups, ka, kb), for
    a (n, ka) and b (n, kb): one weighted ``bincount`` per pair of columns (no sort, no
    n x ka x kb temporary); a column of ones is not multiplied.  ``symmetric``: a is b,
    only the lower triangle is summed and mirrored."""
    ka, kb = a.shape[1], b.shape[1]
    ones_a = [bool(np.all(a[:, i] == 1.0)) for i in range(ka)]
    ones_b = ones_a if symmetric else [bool(np.all(b[:, j] == 1.0)) for j in range(kb)]
    out = np.empty((n_groups, ka, kb))
    for i in range(ka):
        for j in range(i + 1 if symmetric else kb):
            if ones_a[i] and ones_b[j]:
                wts = None
            elif ones_a[i]:
                wts = b[:, j]
            elif ones_b[j]:
                wts = a[:, i]
            else:
                wts = a[:, i] * b[:, j]
            out[:, i, j] = np.bincount(groups, weights=wts, minlength=n_groups)
            if symmetric:
                out[:, j, i] = out[:, i, j]
    return out


def precision_root(prec: np.ndarray) -> np.ndarray:
    """Upper-triangular square roots C = R^{-1} of the inverses of a stack of SPD
    precision matrices, R'R = prec with R upper triangular (so C C' = prec^{-1}).

    This is the factor of Pinheiro and Chao's (2006) QR-decomposition quadrature (the
    meqrlogit/meqrpoisson engine): the nodes are b + R^{-1} a, R the triangular factor of
    the curvature at the mode.  With a product Gauss-Hermite rule in two or more
    dimensions the rule is not rotation invariant, and the lower Cholesky factor of the
    covariance gives a different (equally valid, but not Stata's) approximation."""
    low = cholesky(0.5 * (prec + np.swapaxes(prec, -1, -2)))
    return np.swapaxes(np.linalg.inv(low), -1, -2)
