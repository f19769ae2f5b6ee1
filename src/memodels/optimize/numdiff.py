"""Central finite differences for gradients and Hessians of smooth scalar functions.

Used for the observed information in Stata's estimation metric (log standard
deviations, atanh correlations), where the function is cheap and the dimension small.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def _steps(x: np.ndarray, rel: float) -> np.ndarray:
    return rel * np.maximum(np.abs(x), 1.0)


def gradient(f: Callable[[np.ndarray], float], x: np.ndarray, rel: float = 1e-5) -> np.ndarray:
    x = np.asarray(x, float)
    h = _steps(x, rel)
    g = np.empty_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h[i]
        g[i] = (f(x + e) - f(x - e)) / (2 * h[i])
    return g


def hessian(f: Callable[[np.ndarray], float], x: np.ndarray, rel: float = 1e-3) -> np.ndarray:
    """Symmetric Hessian by central differences (4 evaluations per off-diagonal pair)."""
    x = np.asarray(x, float)
    k = x.size
    h = _steps(x, rel)
    f0 = f(x)
    hess = np.empty((k, k))
    for i in range(k):
        ei = np.zeros(k)
        ei[i] = h[i]
        hess[i, i] = (f(x + ei) - 2 * f0 + f(x - ei)) / h[i] ** 2
        for j in range(i):
            ej = np.zeros(k)
            ej[j] = h[j]
            val = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (
                4 * h[i] * h[j]
            )
            hess[i, j] = hess[j, i] = val
    return hess


def jacobian(
    f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, rel: float = 1e-6
) -> np.ndarray:
    """Central-difference Jacobian of a vector function, shape (len(f(x)), len(x))."""
    x = np.asarray(x, float)
    h = _steps(x, rel)
    cols = []
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h[i]
        cols.append((np.asarray(f(x + e)) - np.asarray(f(x - e))) / (2 * h[i]))
    return np.column_stack(cols) if cols else np.zeros((0, 0))


def hessian_from_gradient(
    grad: Callable[[np.ndarray], np.ndarray], x: np.ndarray, rel: float = 1e-5
) -> np.ndarray:
    """Hessian as the symmetrized central-difference Jacobian of an exact gradient."""
    jac = jacobian(grad, x, rel)
    return 0.5 * (jac + jac.T)
