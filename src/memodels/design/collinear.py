"""Collinearity removal in the manner of Stata's ``_rmcoll``.

Stata drops a regressor that is a linear combination of the regressors before it and
prints ``note: <name> omitted because of collinearity`` ([ME] mixed, example 2 of the
``me`` introduction: ``note: 8.thatch omitted because of collinearity``).  The constant
is considered first, then the columns in coefficient order, so it is always a *later*
column that goes.

Numerics: with a constant the columns are centred first (projecting out the constant)
and each is scaled by its centred norm, so the test is relative to the column's own
variation and does not depend on its location: ``x + 1e9`` is kept exactly as ``x`` is.
A column whose centred norm is below ``CONSTANT_TOL`` (1e-13) times its uncentred norm
is constant up to rounding and is omitted.  A Householder QR reduces the n x p matrix
to its p x p triangle
``R`` (same column geometry, backward stable), and a sequential, re-orthogonalised
Gram-Schmidt pass over ``R``'s columns keeps column ``j`` only when its residual norm
after projecting on the kept columns exceeds ``tol`` (default 1e-9).  When the Cholesky
factor of the columns' Gram matrix already shows every residual norm above 1e-3, no
column can be near ``tol`` and the QR is skipped (one pass over the data instead of a
Householder QR of n x p, the largest cost of building a design with a million rows).
"""

from __future__ import annotations

import numpy as np

DEFAULT_TOL = 1e-9
CONSTANT_TOL = 1e-13  # centred / uncentred norm of a column taken as constant
MAX_LOCATION_RATIO = 1e6  # |mean| / sd above which a covariate must be centred first
# the me commands centre and scale a badly scaled design before the engine
# (memodels.glmm.scaling): centring in double precision keeps ~6 digits at 1e10
MAX_LOCATION_RATIO_CENTRED = 1e10


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
    if constant and n > p and _clearly_independent(X):
        return omit
    raw = np.sqrt(np.einsum("ij,ij->j", X, X))
    if constant:  # centre first: x + 1e9 is as informative as x
        X = X - X.mean(axis=0)
    norms = np.sqrt(np.einsum("ij,ij->j", X, X))
    zero = ~(norms > 0) | ~np.isfinite(norms)
    if constant:  # a constant column: what centring leaves is rounding error only
        zero |= norms <= CONSTANT_TOL * raw
    omit[zero] = True
    live = np.flatnonzero(~zero)
    if live.size == 0:
        return omit
    A = X[:, live] / norms[live]
    # fast path: the Cholesky factor of the Gram matrix of the unit-norm columns holds the
    # same Gram-Schmidt residual norms; all of them above 1e-3 (far beyond the rounding
    # error of A'A) means no column is anywhere near tol, and the n x p QR is skipped
    try:
        if np.diag(np.linalg.cholesky(np.einsum("ij,ik->jk", A, A))).min() > 1e-3:
            return omit
    except np.linalg.LinAlgError:
        pass
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


def _clearly_independent(X: np.ndarray) -> bool:
    """One pass over X (no centred copy): the centred Gram matrix from the raw one,
    X'X - n m m', used only where centring cancels fewer than 6 of its digits (every
    column's sd above 1e-3 of its root mean square); then every Gram-Schmidt residual
    of the centred unit-norm columns above 1e-3 means no column is collinear."""
    n = X.shape[0]
    mean = X.mean(axis=0)
    raw = np.einsum("ij,ik->jk", X, X) / n
    cen = raw - np.outer(mean, mean)
    d_raw, d_cen = np.diag(raw), np.diag(cen)
    if not (np.all(np.isfinite(cen)) and np.all(d_cen > 1e-6 * d_raw)):
        return False
    sd = np.sqrt(d_cen)
    try:
        return bool(np.diag(np.linalg.cholesky(cen / np.outer(sd, sd))).min() > 1e-3)
    except np.linalg.LinAlgError:
        return False


def location_ratios(X: np.ndarray) -> np.ndarray:
    """``|mean| / sd`` of each column (``inf`` for a constant column).

    The estimators work with cross-products of X, whose condition number grows as the
    square of this ratio: at 1e6 a mixed fit's slope is good to about 1e-5, at 1e7 it is
    lost.  :func:`memodels.design.fixed.build_fixed` refuses larger ratios.
    """
    X = np.asarray(X, dtype=float)
    if X.shape[1] == 0:
        return np.zeros(0)
    mean = X.mean(axis=0)
    # one pass (no centred copy) where the variance keeps 6+ digits after cancellation
    msq = np.einsum("ij,ij->j", X, X) / X.shape[0]
    var = msq - mean * mean
    if not (np.all(np.isfinite(var)) and np.all(var > 1e-6 * msq)):
        var = np.mean((X - mean) ** 2, axis=0)
    sd = np.sqrt(var)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sd > 0, np.abs(mean) / np.where(sd > 0, sd, 1.0), np.inf)
