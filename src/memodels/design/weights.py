"""Observation-level and level weights.

[ME] mixed, Syntax: "fweights and pweights are allowed" at the observation level via
``[fw=exp]`` / ``[pw=exp]``; re_options ``fweight(exp)`` and ``pweight(exp)`` give
weights at levels two and higher, and "weights at higher levels must be constant within
the groups of that level".  [U] 11.1.6 weight: frequency weights are integers, and no
weight may be negative.  (Other kinds, ``iweight``/``aweight``, are passed through for
the commands that allow them.)
"""

from __future__ import annotations

import numpy as np

from ..errors import DataError


def check_weights(values: np.ndarray, kind: str, label: str) -> None:
    """Negative weights (except iweights), and noninteger frequency weights, are errors."""
    if kind != "iweight" and values.size and np.nanmin(values) < 0:
        raise DataError(f"{label}: negative weights encountered")
    if kind == "fweight" and np.any(values != np.round(values)):
        raise DataError(f"{label}: frequency weights must be integers (may not be fractional)")


def check_constant_within(
    values: np.ndarray, groups: np.ndarray, n_groups: int, label: str, level: str
) -> None:
    """Level weights must not vary within the level's groups."""
    lo = np.full(n_groups, np.inf)
    hi = np.full(n_groups, -np.inf)
    np.minimum.at(lo, groups, values)
    np.maximum.at(hi, groups, values)
    scale = np.maximum(np.abs(hi), 1.0)
    if np.any(hi - lo > 1e-12 * scale):
        raise DataError(f"{label} is not constant within groups of level '{level}'")
