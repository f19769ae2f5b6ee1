"""The sample-wide decisions on the fixed-effects columns, taken on the client from the
cross-products the workers return (never from the rows).

In memory, :func:`memodels.design.collinear.collinear_columns` centres the columns,
scales each by its centred norm, reduces the n x p matrix to a p x p triangle R by QR
and runs a re-orthogonalised Gram-Schmidt pass over R's columns.  Every step depends on
the columns only through their Gram matrix, so the same pass is run here on a p x p
matrix with the same Gram matrix as the centred, scaled columns (its symmetric square
root), built from the pooled centred cross-products of the partitions (Chan, Golub and
LeVeque's pairwise update, which keeps the digits a raw X'X - n m m' would lose).
"""

from __future__ import annotations

import numpy as np

from ..design.collinear import (
    CONSTANT_TOL,
    MAX_LOCATION_RATIO,
    MAX_LOCATION_RATIO_CENTRED,
    collinear_columns,
)
from ..errors import DataError


def moments(X: np.ndarray, y: np.ndarray) -> dict:
    """Per partition: count, column means and centred cross-products of [X, y]."""
    A = np.column_stack([X, y])
    n = A.shape[0]
    mean = A.mean(axis=0) if n else np.zeros(A.shape[1])
    C = (A - mean).T @ (A - mean) if n else np.zeros((A.shape[1], A.shape[1]))
    return {"n": n, "mean": mean, "C": C, "raw": np.einsum("ij,ij->j", A, A)}


def pool(a: dict, b: dict) -> dict:
    """The moments of two partitions together (pairwise update)."""
    n = a["n"] + b["n"]
    if n == 0:
        return a
    d = b["mean"] - a["mean"]
    mean = a["mean"] + d * (b["n"] / n)
    C = a["C"] + b["C"] + np.outer(d, d) * (a["n"] * b["n"] / n)
    return {"n": n, "mean": mean, "C": C, "raw": a["raw"] + b["raw"]}


def _sqrt_psd(G: np.ndarray) -> np.ndarray:
    vals, vecs = np.linalg.eigh(G)
    return (vecs * np.sqrt(np.clip(vals, 0.0, None))) @ vecs.T


def omitted(mom: dict, p_cand: int, constant: bool) -> np.ndarray:
    """Columns to omit among the ``p_cand`` candidate columns (``_cons`` excluded), as
    :func:`collinear_columns` would decide on the rows."""
    omit = np.zeros(p_cand, bool)
    if p_cand == 0:
        return omit
    n = mom["n"]
    raw = np.sqrt(mom["raw"][:p_cand])
    if constant:
        G = mom["C"][:p_cand, :p_cand]
    else:
        m = mom["mean"][:p_cand]
        G = mom["C"][:p_cand, :p_cand] + n * np.outer(m, m)
    norms = np.sqrt(np.clip(np.diag(G), 0.0, None))
    zero = ~(norms > 0) | ~np.isfinite(norms)
    if constant:
        zero |= norms <= CONSTANT_TOL * raw
    omit[zero] = True
    live = np.flatnonzero(~zero)
    if live.size == 0:
        return omit
    Gs = G[np.ix_(live, live)] / np.outer(norms[live], norms[live])
    R = _sqrt_psd(Gs)
    sub = collinear_columns(R, constant=False)
    omit[live[sub]] = True
    return omit


def check_location(mom: dict, names: list[str], kept: np.ndarray, command: str) -> None:
    """The location check of :func:`memodels.design.fixed.build_fixed` (same message)."""
    limit = MAX_LOCATION_RATIO if command == "mixed" else MAX_LOCATION_RATIO_CENTRED
    n = mom["n"]
    for j in np.flatnonzero(kept):
        mean = float(mom["mean"][j])
        sd = float(np.sqrt(max(mom["C"][j, j], 0.0) / n)) if n else 0.0
        if sd <= 0:
            continue
        ratio = abs(mean) / sd
        if ratio > limit:
            raise DataError(
                f"covariate {names[j]} cannot be estimated accurately: its mean ({mean:.6g}) "
                f"is {ratio:.3g} times its standard deviation (the limit is "
                f"{limit:g}); centre it first, e.g. generate c_{names[j]} = "
                f"{names[j]} - {mean:.6g}")
