"""Marginal (population-averaged) predictions of the me commands
([ME] meglm postestimation, Options for predict: "marginal specifies that the predicted
statistic be computed marginally with respect to the random effects, which means that
statistic is calculated by integrating the prediction function with respect to all the
random effects over their entire support").

For observation i the random part of the linear predictor, sum_t z_ti' u_t (one term per
random-effects equation, every level), is normal with mean 0 and variance

    s_i^2 = sum_t z_ti' Sigma_t z_ti

(the equations are independent), so every marginal prediction is a one-dimensional
integral, E g^{-1}(x_i beta + s_i t), t ~ N(0, 1).  It is evaluated by Gauss-Hermite
quadrature with ``intpoints()`` points ("the number of quadrature points used to compute
marginal predictions"; by default the number used in estimation, 7 after a Laplace
fit); for a random-intercept model this is Stata's nonadaptive rule for the effect
itself.  Evaluating at ``points`` = 30 or more gives the integral to about machine
precision for smooth inverse links.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..errors import OptionError
from ..quadrature.gauss_hermite import normal_rule


def random_sd(z_blocks: list[np.ndarray], sigmas: list[np.ndarray]) -> np.ndarray:
    """s_i = sqrt(sum_t z_ti' Sigma_t z_ti) per row (NaN where a covariate is missing)."""
    total = None
    for z, sig in zip(z_blocks, sigmas, strict=True):
        part = np.einsum("iq,qr,ir->i", z, sig, z)
        total = part if total is None else total + part
    if total is None:
        raise ValueError("the model has no random effects")
    return np.sqrt(np.clip(total, 0, None))


def random_sigmas(fit, phi: np.ndarray | None = None) -> list[np.ndarray]:
    """Sigma_t of every random-effects term from the variance components in Stata's
    estimation metric (ln sd, atanh corr): ``fit.phi`` or the given ``phi``."""
    phi = np.asarray(fit.phi if phi is None else phi, dtype=float)
    out, pos = [], 0
    for st in fit.structures:
        out.append(st.sigma_from_phi(phi[pos : pos + st.n_params]))
        pos += st.n_params
    return out


def integrate(func: Callable[[np.ndarray], np.ndarray], center: np.ndarray, sd: np.ndarray,
              points: int) -> np.ndarray:
    """E func(center + sd t), t ~ N(0, 1), per row; ``func`` maps an (n, K) array of
    linear predictors to (n, K) or (n, K, C) values."""
    nodes, weights = normal_rule(int(points))
    eta = center[:, None] + sd[:, None] * nodes[None, :]
    vals = func(eta)
    return np.einsum("ik...,k->i...", vals, weights)


def default_points(res, given: int | None) -> int:
    if given is not None:
        if int(given) < 1:
            raise OptionError("intpoints() must be a positive integer")
        return int(given)
    return int(res.intpoints) if int(res.intpoints) > 1 else 7


__all__ = ["random_sd", "random_sigmas", "integrate", "default_points"]
