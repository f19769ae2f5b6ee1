"""The Laplace fits' maximization ([ME] meglm and [ME] meqrlogit, Methods and formulas;
[R] maximize): L-BFGS-B on the approximated log likelihood (posterior modes re-solved
at every evaluation), then Newton-Raphson steps on a differenced Hessian, under Stata's
stopping rules and ``iterate()`` cap (:class:`memodels.optimize.maximize.Maximize`).

Every accepted L-BFGS-B iterate and every Newton step is one printed ``Iteration #``;
``iterate(#)`` caps their total.  Convergence is declared by Stata's rule at the last
iterate (compared with the one before it) with a negative definite Hessian; reaching the
cap first, or an L-BFGS-B stage stopped by its iteration limit, is "convergence not
achieved".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from ..optimize.maximize import Maximize
from ..optimize.newton_step import newton_step


@dataclass
class QuasiResult:
    params: np.ndarray
    llf: float
    grad: np.ndarray
    hess: np.ndarray
    converged: bool
    iterations: int


def maximize_lbfgs(value: Callable[[np.ndarray], float], params: np.ndarray, mx: Maximize,
                   note: Callable[[int, float], None], *,
                   gradient: Callable[[np.ndarray], np.ndarray] | None,
                   hessian: Callable[[np.ndarray], np.ndarray],
                   fd_gradient: Callable[[np.ndarray], np.ndarray],
                   gtol: float, ftol: float, polish: int) -> QuasiResult:
    """Maximize ``value`` from ``params``: L-BFGS-B (``gradient`` exact, or 3-point
    differences when None) then up to ``polish`` Newton steps on ``hessian``; at most
    ``mx.iterate`` iterations in all.  ``fd_gradient`` is the gradient used for the
    convergence check when ``gradient`` is None."""
    grad_of = gradient if gradient is not None else fd_gradient
    it = [0]
    last: dict = {"x": None, "f": -np.inf}
    trail = {"prev": None, "ll_prev": -np.inf, "cur": params.copy(), "ll": np.nan}

    def neg(par: np.ndarray):
        val = value(par)
        last["x"], last["f"] = par.copy(), val
        if gradient is None:
            return -val if np.isfinite(val) else np.inf
        if not np.isfinite(val):
            return np.inf, np.zeros_like(par)
        return -val, -gradient(par)

    def callback(xk: np.ndarray) -> None:
        it[0] += 1
        val = last["f"] if np.array_equal(last["x"], xk) else value(xk)
        trail["prev"], trail["ll_prev"] = trail["cur"], trail["ll"]
        trail["cur"], trail["ll"] = xk.copy(), val
        note(it[0], val)
        if mx.trace and mx.echo is not None:  # the quasi-Newton iterates: vector only
            mx.echo("Parameter vector:")
            mx.echo("  " + "  ".join(f"{v:11.7g}" for v in xk))
        if mx.nonrtolerance and mx.converged(trail["cur"], trail["prev"], trail["ll"],
                                             trail["ll_prev"], 0.0, True):
            # nonrtolerance: Stata's rule is tolerance() or ltolerance() alone, which needs
            # no Hessian; the concavity check follows at the stopping point
            raise StopIteration

    ll0 = value(params)
    trail["ll"] = ll0
    note(0, ll0)
    if mx.iterate > 0:
        res = minimize(neg, params, method="L-BFGS-B",
                       jac=True if gradient is not None else "3-point", callback=callback,
                       options={"maxiter": mx.iterate, "ftol": ftol, "gtol": gtol})
        params = res.x
        if not np.array_equal(params, trail["cur"]):  # the reported iterate is the last one
            trail["prev"], trail["ll_prev"] = trail["cur"], trail["ll"]
            trail["cur"], trail["ll"] = params.copy(), value(params)
    llf = value(params)
    grad = grad_of(params)
    hess = hessian(params)
    step, concave = newton_step(grad, hess, mx.difficult)
    nr = float(abs(grad @ step))

    def done() -> bool:
        return mx.converged(params, trail["prev"], llf, trail["ll_prev"], nr, concave)

    mx.show_iteration(params, grad, hess, trail["prev"], llf, trail["ll_prev"], nr)
    steps, stuck = 0, False
    while not done() and steps < polish and it[0] < mx.iterate and concave:
        lam = 1.0
        while lam > 1e-6:
            cand = params + lam * step
            cand_ll = value(cand)
            mx.show_step(lam, cand_ll)
            if np.isfinite(cand_ll) and cand_ll >= llf - 1e-12:
                break
            lam /= 2
        else:
            # no step increases the log likelihood: at the maximum to working precision
            # when the scaled gradient is small there
            stuck = mx.nonrtolerance or nr < mx.nrtolerance
            break
        trail["prev"], trail["ll_prev"] = params, llf
        params, llf = cand, cand_ll
        it[0] += 1
        steps += 1
        note(it[0], llf)
        grad, hess = grad_of(params), hessian(params)
        step, concave = newton_step(grad, hess, mx.difficult)
        nr = float(abs(grad @ step))
        mx.show_iteration(params, grad, hess, trail["prev"], llf, trail["ll_prev"], nr)
    converged = done() or (stuck and concave)
    return QuasiResult(params, llf, grad, hess, bool(converged), it[0])
