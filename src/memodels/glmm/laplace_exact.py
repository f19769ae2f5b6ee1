"""The sparse Laplace fit with the exact gradient ([ME] meglm, Methods and formulas,
Laplacian approximation; :mod:`memodels.glmm.laplace_gradient`): starting variance
parameters from the profiled criterion (as lme4's first stage), L-BFGS-B then Newton on
the Hessian differenced from the exact gradient to Stata's stopping rules, and restarts
from a standard deviation at 0 that is a saddle (:mod:`memodels.glmm.laplace_boundary`)."""

from __future__ import annotations

import numpy as np

from ..optimize import numdiff
from ..optimize.maximize import Maximize
from .laplace_boundary import saddle_restart
from .laplace_sparse import SparseLaplace
from .quasi_newton import maximize_lbfgs


def exact_gradient_fit(model: SparseLaplace, params: np.ndarray, note, mx: Maximize):
    """Maximize the sparse Laplace likelihood with its exact gradient
    (:mod:`memodels.glmm.laplace_gradient`): L-BFGS-B, then Newton steps on the Hessian
    differenced from the exact gradient, to Stata's stopping rules.  ``None`` when the
    model is outside the analytic gradient's scope.  ``note(iteration, ll)`` logs."""

    def value_grad(par: np.ndarray) -> tuple[float, np.ndarray]:
        val, grad = model.loglik_and_gradient(par)
        if np.isfinite(val) and grad is None:  # e.g. a variance at exactly zero
            grad = numdiff.gradient(model.loglik, par)
        if grad is None:  # no likelihood here (overflow): no gradient either
            grad = np.full(np.shape(par), np.nan)
        return val, grad

    _, grad0 = model.loglik_and_gradient(params)
    if grad0 is None:
        return None
    cache: dict = {"x": None}

    def evaluate(par: np.ndarray) -> tuple[float, np.ndarray]:
        if cache["x"] is None or not np.array_equal(cache["x"], par):
            cache["x"], cache["v"] = par.copy(), value_grad(par)
        return cache["v"]

    def grad_of(par: np.ndarray) -> np.ndarray:
        return value_grad(par)[1]

    res = maximize_lbfgs(lambda p: evaluate(p)[0], params, mx,
                         note,
                         gradient=lambda p: evaluate(p)[1],
                         hessian=lambda p: numdiff.hessian_from_gradient(grad_of, p, rel=1e-5),
                         fd_gradient=grad_of, gtol=1e-8, ftol=1e-15, polish=5)
    llf, grad = value_grad(res.params)  # leave the model's modes at the reported optimum
    return res.params, llf, grad, res.hess, res.converged, res.iterations


def escape_saddles(model: SparseLaplace, exact: tuple, note, mx: Maximize,
                    restarts: int = 3) -> tuple:
    """Restart the exact-gradient fit while some standard deviation at about 0 is a
    saddle rather than a maximum (:mod:`memodels.glmm.laplace_boundary`); the better
    optimum is kept, the iteration log continues its numbering."""
    for _ in range(restarts):
        restart = saddle_restart(model, exact[0], exact[1])
        if restart is None:
            break
        offset = exact[5] + 1

        def shifted(it: int, val: float, _o: int = offset) -> None:
            note(it + _o, val)

        again = exact_gradient_fit(model, restart, shifted, mx)
        if again is None or not again[1] > exact[1] + 1e-9:
            model.loglik_and_gradient(exact[0])  # the engine's modes back at the optimum
            break
        exact = (*again[:5], again[5] + offset)
    return exact


def laplace_start(model: SparseLaplace, params: np.ndarray) -> np.ndarray:
    """Starting values for the Laplace fit: the variance parameters maximizing the criterion
    with beta at its joint posterior mode (a search in theta only), as lme4's first stage."""
    from scipy.optimize import minimize

    k = model.p + model.n_aux
    state = {"params": params.copy()}

    def neg(theta: np.ndarray) -> float:
        trial = state["params"].copy()
        trial[k:] = theta
        try:
            val, new = model.profiled_start(trial)
        except (np.linalg.LinAlgError, ValueError, RuntimeError, FloatingPointError):
            return np.inf
        if np.isfinite(val):
            state["params"] = new
            state["params"][k:] = theta
        return -val if np.isfinite(val) else np.inf

    with np.errstate(invalid="ignore", over="ignore"):
        res = minimize(neg, params[k:], method="L-BFGS-B", jac="2-point",
                       options={"maxiter": 200, "ftol": 1e-10, "gtol": 1e-5})
    out = state["params"].copy()
    out[k:] = res.x
    return out
