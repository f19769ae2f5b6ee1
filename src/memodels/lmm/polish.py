"""``mixed``'s Newton-Raphson stage in Stata's estimation metric ([ME] mixed, Methods and
formulas; [R] maximize): after the quasi-Newton stage on the profiled likelihood,
Newton steps on L*(alpha, log sigma_e) under Stata's stopping rules and what is left of
the ``iterate()`` budget (:class:`memodels.optimize.maximize.Maximize`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..optimize import numdiff
from ..optimize.maximize import Maximize
from ..optimize.newton_step import newton_step

# mixed's scaled-gradient criterion is g'(-H)^{-1}g < nrtolerance() * NRSCALE: the exact
# gradient makes the extra Newton steps nearly free, and it pins the estimates to ~1e-5 of
# the optimum rather than the ~3e-3 standard errors nrtolerance(1e-5) alone allows
NRSCALE = 1e-4


def newton_polish(
    f: Callable[[np.ndarray], float],
    phi: np.ndarray,
    free: np.ndarray,
    mx: Maximize,
    grad: Callable[[np.ndarray], np.ndarray] | None = None,
    *,
    budget: int | None = None,
    ll_prev: float = -np.inf,
    first: int = 0,
    log: Callable[[int, float], None] | None = None,
    reuse_below: float = 1e-8,
    hessian: Callable[[np.ndarray], np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, bool, int]:
    """Newton-Raphson on the free coordinates of phi, maximizing f.

    At most ``budget`` steps (default ``mx.iterate``); each step is logged as iteration
    ``first + k``.  Convergence is Stata's rule (:meth:`Maximize.converged`) against the
    previous iterate (``ll_prev``: the log likelihood of the iterate before ``phi``).
    The Hessian is recomputed while the scaled gradient g'H^{-1}g is large and reused once
    it is small (the last steps are then nearly free); where it is not negative definite
    the step is a modified Newton step (``difficult``: Newton/steepest-ascent mix).  The
    returned Hessian is the one at the reported optimum.  ``reuse_below``: after a full
    step on a concave Hessian, the Hessian is kept while the scaled gradient is below this
    (a larger value saves Hessians where they are costly, by finite differences of f).
    ``hessian``: the exact Hessian of f, where the model has one (else finite differences
    of ``grad``, or of f).
    Returns phi, Hessian, whether convergence was declared, and the number of steps."""
    idx = np.flatnonzero(free)
    budget = mx.iterate if budget is None else max(int(budget), 0)

    def hessian_at(x: np.ndarray) -> np.ndarray:
        if hessian is not None:
            return hessian(x)
        if grad is not None:
            return numdiff.hessian_from_gradient(grad, x)
        return numdiff.hessian(f, x)

    def gradient_at(x: np.ndarray) -> np.ndarray:
        if grad is not None:
            return grad(x)[idx]
        return numdiff.gradient(lambda v: f(_put(x, idx, v)), x[idx])

    hess = hessian_at(phi)
    hess_at = phi.copy()
    fresh = True
    steps = 0
    converged = not idx.size
    prev = None
    f0 = f(phi)
    while idx.size:
        g = gradient_at(phi)
        h = hess[np.ix_(idx, idx)]
        if not (np.all(np.isfinite(h)) and np.all(np.isfinite(g))):
            converged = False  # the likelihood is not finite around phi
            break
        step, concave = newton_step(g, h, mx.difficult)
        nr = float(abs(g @ step))
        mx.show_iteration(phi[idx], g, h, None if prev is None else prev[idx], f0, ll_prev, nr)
        if (fresh or nr < 1e-11) and mx.converged(
                phi[idx], None if prev is None else prev[idx], f0, ll_prev, nr, concave):
            converged = True
            break
        if steps >= budget:
            break
        lam = 1.0
        moved = False
        while lam > 1e-6:
            cand = _put(phi, idx, phi[idx] + lam * step)
            f_cand = f(cand)
            mx.show_step(lam, f_cand)
            if f_cand >= f0 - 1e-12:
                moved = True
                break
            lam /= 2
        if not moved:
            if fresh:
                # no step increases L*: at the maximum to working precision when the
                # scaled gradient is small there
                converged = concave and (mx.nonrtolerance or nr < mx.nrtolerance)
                break
            hess, hess_at, fresh = hessian_at(phi), phi.copy(), True
            continue
        prev, ll_prev, phi, f0 = phi, f0, cand, f_cand
        steps += 1
        if log is not None:
            log(first + steps, f0)
        if nr > reuse_below or lam < 1.0 or not concave:
            hess, hess_at, fresh = hessian_at(phi), phi.copy(), True
        else:
            fresh = False
    # the information matrix at the reported optimum (a tiny final step changes it by
    # far less than the finite-difference error)
    if not fresh and np.abs(phi - hess_at).max() > 1e-4:
        hess = hessian_at(phi)
    return phi, hess, converged, steps


def _put(vec: np.ndarray, idx: np.ndarray, vals: np.ndarray) -> np.ndarray:
    out = vec.copy()
    out[idx] = vals
    return out
