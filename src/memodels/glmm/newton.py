"""The me commands' Newton-Raphson iterations ([ME] meglm, Methods and formulas; [R]
maximize): the adaptive parameters are held fixed within an iteration (derivatives and
step) and updated between iterations; convergence by Stata's stopping rules
(:class:`memodels.optimize.maximize.Maximize`).

One iteration k (printed as ``Iteration k:``): update the adaptive parameters at b_k,
evaluate L_k, g_k, H_k; stop when the rule holds (comparing with b_{k-1}, L_{k-1}); stop
without convergence at the ``iterate()`` cap; else step b_{k+1} = b_k + lambda d,
halving lambda until the log likelihood does not decrease (``showstep`` prints the
trials).  Where the Hessian is not negative definite the step is a modified Newton step
(its eigenvalues reflected), or with ``difficult`` Newton in the concave directions and
steepest ascent in the others (:func:`newton_step`).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np

from ..errors import EstimationError
from ..optimize import numdiff
from ..optimize.maximize import Maximize


@dataclass
class NewtonResult:
    params: np.ndarray
    adaptive: object
    converged: bool
    iterations: int


def newton_step(grad: np.ndarray, hess: np.ndarray, difficult: bool = False
                ) -> tuple[np.ndarray, bool]:
    """The Newton direction and whether the Hessian is negative definite.

    Not concave: the default reflects the Hessian's nonnegative eigenvalues (a modified
    Newton step); ``difficult`` takes Newton steps in the directions of negative
    curvature and steepest-ascent steps, scaled by the largest curvature, in the others
    ([R] maximize, difficult: a different stepping algorithm in nonconcave regions)."""
    if not (np.all(np.isfinite(grad)) and np.all(np.isfinite(hess))):
        raise EstimationError("the derivatives of the log likelihood are not finite at the "
                              "current estimates; try other starting values "
                              "(startvalues(iv), startgrid(), from())")
    w, vec = np.linalg.eigh(hess)
    concave = bool(w.max() < 0)
    scale = max(np.abs(w).max(), 1.0)
    if difficult and not concave:
        w_mod = np.where(w < -1e-8 * scale, w, -scale)
    else:
        w_mod = -np.maximum(np.abs(w), 1e-8 * scale)
    return -(vec @ ((vec.T @ grad) / w_mod)), concave


def run(model, params: np.ndarray, ad, mx: Maximize,
        note: Callable[[int, float, str], None],
        infeasible: Callable[[np.ndarray], tuple[np.ndarray, object]] | None = None
        ) -> NewtonResult:
    """Newton-Raphson from ``params`` with the adaptive parameters ``ad``; ``note(k, L,
    flag)`` prints the iteration line; ``infeasible(params)`` gives new starting values
    when the derivatives at iteration 0 are not finite (Stata's default grid)."""

    def derivatives(par, ad_):
        if not mx.dnumerical:
            return model.derivatives(par, ad_)

        def f(p):
            return model.loglik(p, ad_)
        return (f(par), numdiff.gradient(f, par, rel=1e-6),
                numdiff.hessian(f, par, rel=1e-4))

    converged, it, backed = False, 0, False
    ll_prev, prev = -np.inf, None
    for it in range(mx.iterate + 1):
        ad = model.adapt(params, ad)
        with np.errstate(all="ignore") if it == 0 else nullcontext():  # checked below
            ll, grad, hess = derivatives(params, ad)
        if it == 0 and infeasible is not None and not _finite(ll, grad, hess):
            params, ad = infeasible(params)
            ll, grad, hess = derivatives(params, ad)
        step, concave = newton_step(grad, hess, mx.difficult)
        # Stata's iteration-log flags: a Hessian that is not negative definite here, or a
        # previous step that had to be shortened
        note(it, ll, "(not concave)" if not concave else "(backed up)" if backed else "")
        nr = float(abs(grad @ step))
        moved = None if prev is None else float(abs((params - prev) @ hess @ (params - prev)))
        mx.show_iteration(params, grad, hess, prev, ll, ll_prev, nr, moved)
        if mx.converged(params, prev, ll, ll_prev, nr, concave, moved):
            converged = True
            break
        if it == mx.iterate:  # the cap: no step beyond the last iteration shown
            break
        prev, ll_prev = params, ll
        lam = 1.0
        while lam > 1e-8:
            cand = params + lam * step
            cand_ll = model.loglik(cand, ad)
            mx.show_step(lam, cand_ll)
            if cand_ll >= ll - 1e-12:
                params = cand
                break
            lam /= 2
        else:
            # no step increases the log likelihood: at the maximum to working precision
            # when the scaled gradient is small there, otherwise stuck
            converged = concave and (mx.nonrtolerance or nr < mx.nrtolerance)
            break
        backed = lam < 1.0
    return NewtonResult(params, ad, converged, it)


def _finite(*arrays) -> bool:
    return all(bool(np.all(np.isfinite(a))) for a in arrays)
