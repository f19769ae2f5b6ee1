"""Collinearity removal in the manner of Stata's ``_rmcoll``.

Stata drops a regressor that is a linear combination of the regressors before it and
prints ``note: <name> omitted because of collinearity`` ([ME] mixed, example 2 of the
``me`` introduction: ``note: 8.thatch omitted because of collinearity``).  The constant
is considered first, then the columns in coefficient order, so it is always a *later*
column that goes.

Numerics: with a constant the columns are centred (projecting out the constant) and
each is scaled by its original (uncentred) norm, so the test is relative to the
column's own size.  A Householder QR reduces the n x p matrix to its p x p triangle
``R`` (same column geometry, backward stable), and a sequential, re-orthogonalised
Gram-Schmidt pass over ``R``'s columns keeps column ``j`` only when its residual norm
after projecting on the kept columns exceeds ``tol`` (default 1e-9).
"""

from __future__ import annotations

import numpy as np

DEFAULT_TOL = 1e-9


def collinear_columns(X: np.ndarray, constant: bool, tol: float = DEFAULT_TOL) -> np.ndarray:
    """Boolean mask of the columns of ``X`` to omit, scanning left to right.

    ``constant`` says whether an intercept precedes the columns (it is not part of
    ``X``).  A column of zeros (or a constant column, when there is an intercept) is
    always omitted.
    """
    X = np.asarray(X, dtype=float)
    n, p = X.shape
    omit = np.zeros(p, dtype=bool)
    if p == 0:
        return omit
    norms = np.sqrt(np.einsum("ij,ij->j", X, X))
    zero = ~(norms > 0) | ~np.isfinite(norms)
    omit[zero] = True
    live = np.flatnonzero(~zero)
    if live.size == 0:
        return omit
    A = X[:, live] / norms[live]
    if constant:
        A = A - A.mean(axis=0)
    if n > live.size:
        R = np.linalg.qr(A, mode="r")
    else:
        R = A
    Q = np.zeros((R.shape[0], live.size))  # orthonormal basis of the kept columns
    m = 0
    for idx, j in enumerate(live):
        v = np.array(R[:, idx], dtype=float)
        for _ in range(2):  # twice is enough (Kahan-Parlett)
            if m:
                v -= Q[:, :m] @ (Q[:, :m].T @ v)
        r = float(np.sqrt(v @ v))
        if r <= tol:
            omit[j] = True
        else:
            Q[:, m] = v / r
            m += 1
    return omit
