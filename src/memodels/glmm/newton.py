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
steepest ascent in the others (:func:`memodels.optimize.newton_step.newton_step`).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np

from ..optimize import numdiff
from ..optimize.maximize import Maximize
from ..optimize.newton_step import newton_step


@dataclass
class NewtonResult:
    params: np.ndarray
    adaptive: object
    converged: bool
    iterations: int


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
