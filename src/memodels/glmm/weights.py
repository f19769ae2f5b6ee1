"""Observation and level weights as the quadrature engines use them.

[ME] meglm, Methods and formulas, Survey data: the weighted log pseudolikelihood of a
two-level model is

    L = sum_j w_j log int exp{ sum_i w_{i|j} log f(y_ij | eta_ij) } phi(v_j) dv_j,

"weighted estimation is achieved through the direct application of w_j and w_{i|j} into
the likelihood calculations ... to reflect replicated clusters for w_j and replicated
observations within clusters for w_{i|j}.  Because this estimation is based on replicated
clusters and observations, frequency weights are handled similarly."  With more levels,
every cluster's contribution to its parent's integrand is multiplied by its weight.

The engines receive the weights per observation in data order (``[fw=]``/``[iw=]``/
``[pw=]`` values, and each level's ``fweight()``/``iweight()``/``pweight()`` copied to its
observations, as :class:`memodels.design.types.RandomTerm` holds them) and keep, in
their sorted order, the observation weights and one weight per cluster of each level.
"""

from __future__ import annotations

import numpy as np

from ..errors import DataError, OptionError

WEIGHTS_NOT_ALLOWED = "weights are not allowed with crossed models or the Laplacian approximation"


def obs_weights(weights: np.ndarray | None, order: np.ndarray, n: int) -> np.ndarray:
    """Observation weights in the engine's sorted order (ones when unweighted)."""
    if weights is None:
        return np.ones(n)
    w = np.asarray(weights, float)
    if w.shape != (n,):
        raise ValueError(f"weights must have one value per observation ({n}), not {w.shape}")
    if not np.all(np.isfinite(w)):
        raise DataError("weights must be nonmissing")
    return w[order]


def cluster_weights(values: np.ndarray | None, order: np.ndarray, cl: np.ndarray,
                    m: int, label: str = "level weight") -> np.ndarray:
    """One weight per cluster (cluster order) from per-observation copies in data order;
    the weight must be constant within each cluster ([ME] meglm, Remarks: Survey data,
    "needs to be constant within schools")."""
    if values is None:
        return np.ones(m)
    v = np.asarray(values, float)
    if v.shape != order.shape:
        raise ValueError(f"{label} must have one value per observation")
    v = v[order]
    if not np.all(np.isfinite(v)):
        raise DataError(f"{label} must be nonmissing")
    first = np.flatnonzero(np.r_[True, np.diff(cl) != 0])
    out = v[first]
    if np.any(np.abs(v - out[cl]) > 1e-12 * np.maximum(np.abs(v), 1.0)):
        raise DataError(f"{label} is not constant within groups")
    return out


def any_weights(weights: np.ndarray | None, level_weights) -> bool:
    """True when observation weights or any level weight is given."""
    return weights is not None or any(w is not None for w in (level_weights or ()))


def check_weights_allowed(weighted: bool, intmethod: str, crossed: bool) -> None:
    """[ME] meglm, Methods and formulas: "Weights are not allowed with crossed models or the
    Laplacian approximation."""
    if weighted and (crossed or intmethod == "laplace"):
        raise OptionError(WEIGHTS_NOT_ALLOWED)


def fixed_model_weights(weights: np.ndarray | None, level_weights, n: int) -> np.ndarray | None:
    """Per-observation weights of the fixed-effects model (starting values, LR test):
    the product of the observation weight and the weights of every level above it, i.e.
    the replication count of the observation."""
    if not any_weights(weights, level_weights):
        return None
    out = np.ones(n) if weights is None else np.asarray(weights, float).copy()
    for lw in level_weights or ():
        if lw is not None:
            out = out * np.asarray(lw, float)
    return out


__all__ = ["obs_weights", "cluster_weights", "any_weights", "check_weights_allowed",
           "fixed_model_weights", "WEIGHTS_NOT_ALLOWED"]
