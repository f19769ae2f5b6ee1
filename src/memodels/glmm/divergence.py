"""A random-effects variance that grows without bound (group-level separation).

When the outcome is constant within many clusters (all failures in some, all successes in
others, or all-zero counts), the marginal likelihood can keep increasing as a variance
grows: the clusters' probabilities tend to their limits (for a logit model 1/2 each) and
no finite maximum exists.  The optimizer then stops where the steps became negligible,
with a huge variance, a gradient near 0 and a nearly flat Hessian, and the stopping rules
of [R] maximize are met although the estimates are not a maximum.

The check: a standard deviation whose contribution to the linear predictor is large (the
sd times the root mean square of its Z column above :data:`LARGE`, i.e. effects that move
a logit or a log rate by dozens of units) is multiplied by e with the other parameters
held fixed; at an interior maximum the log likelihood falls, here it does not fall by
more than :data:`FLAT`.  Ordinary fits never reach the size threshold, so the check costs
nothing for them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

LARGE = 8.0   # sd x rms(z) on the linear-predictor scale
FLAT = 1e-3   # log likelihood units: no interior maximum within a factor e of the sd


def _scaled_theta(structure, theta: np.ndarray, j: int, factor: float) -> np.ndarray:
    """The term's parameters with sd ``j`` multiplied by ``factor`` (correlations kept),
    or all its sds when its structure shares one variance."""
    lam = structure.relative_factor(theta)
    sigma = lam @ lam.T
    d = np.ones(sigma.shape[0])
    d[j] = factor
    target = sigma * np.outer(d, d)
    new = structure.theta_from_sigma(target)
    lam2 = structure.relative_factor(new)
    if not np.allclose(lam2 @ lam2.T, target, rtol=1e-8, atol=1e-12 * np.abs(target).max()):
        new = structure.theta_from_sigma(sigma * factor**2)
    return new


def large_variances(terms, params: np.ndarray, k: int, llf: float,
                    loglik: Callable[[np.ndarray], float]
                    ) -> list[tuple[int, int, float, bool]]:
    """(term index, effect index, variance, unbounded) of each variance above the size
    threshold; ``unbounded`` when the log likelihood keeps increasing (does not fall by
    :data:`FLAT`) as its sd grows by a factor e.  ``params`` in the engine's metric (fixed
    part of length ``k``, then each term's theta); ``loglik(params)`` the fit's log
    likelihood (-inf where it cannot be evaluated)."""
    out: list[tuple[int, int, float, bool]] = []
    pos = k
    for ti, t in enumerate(terms):
        st = t.structure
        theta = params[pos : pos + st.n_theta]
        lam = st.relative_factor(theta)
        sd = np.sqrt(np.diag(lam @ lam.T))
        Z = np.asarray(t.Z, float)
        rms = np.sqrt(np.mean(Z**2, axis=0)) if Z.ndim == 2 and Z.shape[0] else np.ones(sd.size)
        for j in range(sd.size):
            if not sd[j] * rms[j] > LARGE:
                continue
            trial = params.copy()
            trial[pos : pos + st.n_theta] = _scaled_theta(st, theta, j, np.e)
            try:
                with np.errstate(all="ignore"):
                    val = float(loglik(trial))
            except (np.linalg.LinAlgError, FloatingPointError, ValueError, ZeroDivisionError):
                val = -np.inf
            out.append((ti, j, float(sd[j] ** 2), bool(np.isfinite(val) and val > llf - FLAT)))
        pos += st.n_theta
    return out


def _which(found) -> str:
    return "; ".join(f"level {ti + 1}, random effect {j + 1}: variance {v:.4g}"
                     for ti, j, v, _ in found)


def divergence_messages(found: list[tuple[int, int, float, bool]]) -> tuple[list[str],
                                                                            list[str]]:
    """(messages of unbounded variances: the fit is not converged, messages of large
    variances at an interior maximum: a warning only)."""
    flat = [f for f in found if f[3]]
    big = [f for f in found if not f[3]]
    out_flat = [("a random-effects variance grows without bound (" + _which(flat) + "): "
                 "the log likelihood does not fall as it increases, as when the outcome is "
                 "constant within many clusters (group-level separation); its maximum "
                 "likelihood estimate does not exist")] if flat else []
    out_big = [("a random-effects variance is very large on the scale of the linear "
                "predictor (" + _which(big) + "): the outcome is nearly constant within "
                "clusters (group-level separation); the estimate is unreliable (with "
                "intmethod(laplace), compare intmethod(mvaghermite))")] if big else []
    return out_flat, out_big


__all__ = ["large_variances", "divergence_messages", "LARGE", "FLAT"]
