"""Gauss-Hermite rules for the standard normal weight, and their product grids.

[ME] meglm, Methods and formulas, Gauss-Hermite quadrature: with nodes x_k and weights
w_k of the rule for exp(-x^2), the standard-normal rule has a_k = sqrt(2) x_k and
w_k / sqrt(pi), so that E g(v) ~= sum_k w_k g(a_k) for v ~ N(0, 1).  A q-dimensional
rule is the product grid of r points per dimension (r^q nodes).
"""

from __future__ import annotations

from functools import cache

import numpy as np


@cache
def normal_rule(points: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights (summing to 1) of the r-point rule for N(0, 1)."""
    if points < 1:
        raise ValueError("the number of quadrature points must be at least 1")
    x, w = np.polynomial.hermite.hermgauss(points)
    nodes, weights = np.sqrt(2.0) * x, w / np.sqrt(np.pi)
    nodes.setflags(write=False)
    weights.setflags(write=False)
    return nodes, weights


@cache
def product_rule(points: int, dim: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Product grid: nodes (r^q, q), log weights (r^q,), and 0.5 |a_k|^2 (r^q,)."""
    a, w = normal_rule(points)
    if dim == 0:
        return np.zeros((1, 0)), np.zeros(1), np.zeros(1)
    grids = np.meshgrid(*([a] * dim), indexing="ij")
    nodes = np.stack([g.ravel() for g in grids], axis=1)
    wgrids = np.meshgrid(*([np.log(w)] * dim), indexing="ij")
    logw = sum(g.ravel() for g in wgrids)
    half_sq = 0.5 * (nodes**2).sum(axis=1)
    for arr in (nodes, logw, half_sq):
        arr.setflags(write=False)
    return nodes, logw, half_sq
