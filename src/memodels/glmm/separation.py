"""Separation: fixed-effects directions along which the log likelihood never decreases,
so that the maximum likelihood estimates of some coefficients do not exist ([R] logit,
Model identification; the linear-programming test of Konis 2007, used by R's
``detectseparation`` and Stata's ``ppmlhdfe`` for counts).

For the discrete families and survival data, each observation's contribution to the
conditional log likelihood, as a function of its linear predictor eta, is bounded above
and either monotone or has an interior maximum:

* Bernoulli/binomial: increasing in eta when every trial is a success, decreasing when
  none is, an interior maximum otherwise;
* Poisson/negative binomial: decreasing when the count is 0, interior maximum otherwise;
* survival (censored observation): monotone (its survivor function tends to 1 as the
  hazard goes to 0); a failure has an interior maximum;
* ordinal: with cutpoints k_1 < ... < k_{K-1}, an observation in category c has
  probability F(k_c - eta) - F(k_{c-1} - eta), nondecreasing along a direction
  (v, w) of (beta, cutpoints) when w_c - x v >= 0 and w_{c-1} - x v <= 0.

A direction v with X_i v >= 0 on the observations whose contribution increases with eta,
<= 0 where it decreases, = 0 where it has an interior maximum, and not 0 everywhere, makes
every conditional likelihood (given the random effects) nondecreasing along beta + t v and
some strictly increasing: the marginal likelihood increases with t without a maximum.  The
random effects cannot remove such a direction; the coefficients with v_j != 0 diverge.
The test is a linear program (maximize the sum of the inequality slacks over the box
|v| <= 1): its optimum is 0 exactly when no such direction exists.
"""

from __future__ import annotations

import numpy as np

# outcome families whose log likelihood contributions are bounded in the linear predictor
DISCRETE = ("bernoulli", "binomial", "poisson", "nbinomial", "ordinal")


def _null_space(A: np.ndarray, rtol: float = 1e-10) -> np.ndarray:
    """Orthonormal basis (columns) of {v: A v = 0}, from the eigen-decomposition of A'A."""
    p = A.shape[1]
    if A.shape[0] == 0:
        return np.eye(p)
    gram = A.T @ A
    vals, vecs = np.linalg.eigh(gram)
    cut = rtol * max(float(vals.max()), 1e-300)
    return vecs[:, vals <= cut]


def _direction(A: np.ndarray, E: np.ndarray) -> np.ndarray | None:
    """A nonzero v with A v >= 0 (some > 0) and E v = 0, or None.  Rows of A and E are
    scaled already."""
    from scipy.optimize import linprog

    N = _null_space(E)
    if N.shape[1] == 0 or A.shape[0] == 0:
        return None
    B = np.unique(A @ N, axis=0)  # equal rows are one constraint
    B = B[np.abs(B).max(axis=1) > 1e-12]
    if B.shape[0] == 0:
        return None
    res = linprog(-B.sum(axis=0), A_ub=-B, b_ub=np.zeros(B.shape[0]),
                  bounds=[(-1.0, 1.0)] * N.shape[1], method="highs")
    if res.status != 0 or res.x is None or -res.fun <= 1e-7:
        return None
    v = N @ res.x
    slack = A @ v
    scale = max(float(np.abs(slack).max()), 1e-300)
    # a real direction: no violated inequality, some strict one, equalities held
    if slack.min() < -1e-7 * scale or slack.max() <= 1e-6:
        return None
    if E.shape[0] and np.abs(E @ v).max() > 1e-7 * scale:
        return None
    return v


def _rows(kind: str, y: np.ndarray, trials: np.ndarray | None, X: np.ndarray
          ) -> tuple[np.ndarray, np.ndarray]:
    """(A, E): rows with A v >= 0 required and rows with E v = 0 (binary, binomial, counts,
    survival with ``y`` the failure indicator)."""
    if kind in ("bernoulli", "binomial"):
        top = y >= (trials if trials is not None else 1.0)
        low = y <= 0
    elif kind in ("poisson", "nbinomial", "survival"):
        top = np.zeros(y.shape, bool)
        low = y <= 0
    else:
        raise ValueError(kind)
    A = np.concatenate([X[top], -X[low]])
    E = X[~(top | low)]
    return A, E


def _ordinal_rows(y: np.ndarray, X: np.ndarray, n_cat: int) -> np.ndarray:
    """A v >= 0 rows over (beta, cutpoints) for category indices ``y`` in 0..K-1."""
    n, p = X.shape
    rows = []
    cat = y.astype(int)
    for c in range(n_cat):
        Xc = X[cat == c]
        if Xc.shape[0] == 0:
            continue
        if c < n_cat - 1:  # w_c - x v >= 0
            W = np.zeros((Xc.shape[0], n_cat - 1))
            W[:, c] = 1.0
            rows.append(np.hstack([-Xc, W]))
        if c > 0:  # x v - w_{c-1} >= 0
            W = np.zeros((Xc.shape[0], n_cat - 1))
            W[:, c - 1] = -1.0
            rows.append(np.hstack([Xc, W]))
    return np.concatenate(rows) if rows else np.zeros((0, p + n_cat - 1))


def separated_columns(kind: str, y: np.ndarray, X: np.ndarray, *,
                      trials: np.ndarray | None = None, n_categories: int | None = None
                      ) -> list[int]:
    """Indices of the columns of ``X`` whose coefficients diverge (empty: the fixed-effects
    likelihood has no such direction).  ``kind``: a family name in :data:`DISCRETE` or
    ``"survival"`` (``y`` then the failure indicator); ``y`` as the family validated it
    (ordinal: category indices 0..K-1)."""
    y = np.asarray(y, float).reshape(-1)
    X = np.asarray(X, float)
    if X.ndim != 2 or X.shape[1] == 0 or y.size != X.shape[0]:
        return []
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        return []
    scale = np.abs(X).max(axis=0)
    scale[scale == 0] = 1.0
    Xs = X / scale
    p = X.shape[1]
    try:
        if kind == "ordinal":
            K = int(n_categories or (int(y.max()) + 1))
            v = _direction(_ordinal_rows(y, Xs, K), np.zeros((0, p + K - 1)))
        else:
            tr = None if trials is None else np.broadcast_to(np.asarray(trials, float),
                                                            y.shape)
            A, E = _rows(kind, y, tr, Xs)
            v = _direction(A, E)
    except (ValueError, np.linalg.LinAlgError):
        return []
    if v is None:
        return []
    v = v[:p]
    big = np.abs(v).max() if v.size else 0.0
    if big <= 0:
        return []
    return [int(j) for j in np.flatnonzero(np.abs(v) > 1e-6 * big)]


__all__ = ["separated_columns", "DISCRETE"]
