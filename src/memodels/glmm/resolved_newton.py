"""Newton-Raphson for the re-solved-modes quadrature likelihood of meqrlogit/meqrpoisson
([ME] meqrlogit, Methods and formulas; Pinheiro and Chao 2006; [R] maximize).

meqr's log likelihood L(b) = Q(b, a(b)) is the mode-curvature adaptive quadrature Q with
the adaptive parameters a(b) (posterior modes and curvatures) re-solved at every b.
With several quadrature points Q depends on a only through the quadrature error, so the
exact derivatives of Q at fixed a (the me commands' engine, :func:`newton.run`) are
those of L up to that error: Newton on them, re-solving the modes between iterations,
converges in a handful of iterations to the point where dQ/db = 0 at a = a(b), within
about 1e-3 of the maximum of L in the log likelihood (hdp random-slope model: -3553.4681
against -3553.4677).  The remaining term dQ/da da/db is then taken into account by
Newton steps whose gradient is the central difference of L itself (modes solved to
1e-10 at every evaluation, so that the differences are not noise) and whose Hessian is
the exact fixed-a one, until Stata's stopping rules hold for L.  Last, the Hessian of L
itself by central differences (Stata's standard errors; the fixed-a Hessian misses the
modes' dependence on the parameters), with which the rule is checked again.

With the nested engine, logit or Poisson and no weights (and no retolerance() or
reiterate()), :func:`run` hands over to :mod:`memodels.glmm.resolved_exact` instead:
Newton on L with L's exact gradient (:mod:`memodels.glmm.resolved_gradient`), no
differencing of L.  The algorithm below serves the other cases.

Before this, the fit ran L-BFGS-B on finite differences of L from the start values and
then differenced L twice for the Hessian: hundreds of iterations (the hdp model was at
iteration 238 after 15 minutes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..optimize import numdiff
from ..optimize.maximize import Maximize
from ..optimize.newton_step import newton_step
from . import newton, resolved_exact, resolved_gradient


@dataclass
class ResolvedResult:
    params: np.ndarray
    adaptive: object
    llf: float
    grad: np.ndarray
    hess: np.ndarray
    converged: bool
    iterations: int


def applies(model, mx: Maximize) -> bool:
    """This algorithm needs the quadrature engine's exact fixed-a derivatives (several
    points: with one point, Laplace, Q at fixed a is not an approximation of L) and
    Newton-Raphson without ``dnumerical``."""
    return (hasattr(model, "derivatives") and getattr(model, "method", "") == "mcaghermite"
            and not mx.dnumerical and all(name == "nr" for name, _ in mx.techniques))


def run(model, params: np.ndarray, ad, mx: Maximize, note: Callable[[int, float], None],
        re_options: dict | None = None, polish: int = 10) -> ResolvedResult:
    """Maximize L from ``params`` (adaptive parameters ``ad``): fixed-a Newton, then at
    most ``polish`` Newton steps on the differenced gradient of L; at most
    ``mx.iterate`` iterations in all, numbered on from the first stage's."""
    refine = (re_options or {}).get("refine", True)
    re_options = mode_options(re_options)
    if not re_options and resolved_gradient.supported(model):
        # the exact gradient of L: Newton on L itself (resolved_exact)
        return ResolvedResult(*resolved_exact.run(model, params, ad, mx, note, refine))
    re_tol = {"tol": re_options.get("tol", 1e-10), "maxiter": re_options.get("maxiter", 100)}
    first = _ModeOptions(model, re_options) if re_options else model
    stage = newton.run(first, params, ad, mx, lambda i, v, flag: note(i, v))
    params, ad, it = stage.params, stage.adaptive, stage.iterations
    state = {"ad": model.adapt(params, ad, **re_tol)}

    def ll_of(par: np.ndarray) -> float:
        try:
            with np.errstate(all="ignore"):
                state["ad"] = model.adapt(par, state["ad"], **re_tol)
        except (np.linalg.LinAlgError, FloatingPointError, ValueError):
            return -np.inf
        val = model.loglik(par, state["ad"])
        return val if np.isfinite(val) else -np.inf

    def value_at(par: np.ndarray) -> tuple[float, object]:
        val = ll_of(par)
        return val, state["ad"]

    llf, ad = value_at(params)
    if stage.converged and mx.nonrtolerance:
        # Stata's rule is then tolerance()/ltolerance() alone, and it held: no polishing
        grad = numdiff.gradient(ll_of, params, rel=1e-5)
        hess = hessian(ll_of, params)
        llf, ad = value_at(params)
        return ResolvedResult(params, ad, llf, grad, hess, True, it)
    # the fixed-a Hessian at the first stage's end serves every polishing step (it changes
    # little over them; the steps' gradient is L's own)
    _, _, hess = model.derivatives(params, ad)
    prev, ll_prev = None, -np.inf
    steps, converged, extra = 0, False, False
    while True:
        grad = numdiff.gradient(ll_of, params, rel=1e-5)
        step, concave = newton_step(grad, hess, mx.difficult)
        nr = float(abs(grad @ step))
        mx.show_iteration(params, grad, hess, prev, llf, ll_prev, nr)
        converged = mx.converged(params, prev, llf, ll_prev, nr, concave)
        # one step more once the rule holds: the approximate curvature's steps converge
        # linearly and stop ~1e-4 standard errors short (toenail, intpoints(30): var
        # 16.06508 against the printed 16.06538)
        if (converged and extra) or steps >= polish or it >= mx.iterate or not concave:
            break
        extra = extra or converged
        lam, cand_ll = 1.0, -np.inf
        while lam > 1e-8:
            cand = params + lam * step
            cand_ll = ll_of(cand)
            mx.show_step(lam, cand_ll)
            if np.isfinite(cand_ll) and cand_ll >= llf - 1e-9:  # the criterion's noise
                break
            lam /= 2
        else:
            # no step increases L: at its maximum to working precision when the scaled
            # gradient is small there
            converged = concave and (converged or mx.nonrtolerance or nr < mx.nrtolerance)
            break
        prev, ll_prev = params, llf
        params, llf = cand, cand_ll
        steps += 1
        it += 1
        note(it, llf)
    # the observed information of L itself (Stata's standard errors): the fixed-a Hessian
    # misses the modes' and curvatures' dependence on the parameters (hdp random-slope
    # model: var(_cons[did])'s standard error 10% low); the rule is checked again with
    # it, and while it fails Newton steps on it follow
    hess = hessian(ll_of, params)
    held, prev = converged, None
    for _ in range(3):
        step, concave = newton_step(grad, hess, mx.difficult)
        nr = float(abs(grad @ step))
        if prev is None:  # the polishing stage's rule, its scaled gradient now L's
            converged = held and concave and (mx.nonrtolerance
                                              or nr < mx.nrtolerance * mx.nrscale)
        else:
            converged = mx.converged(params, prev, llf, ll_prev, nr, concave)
        if converged or it >= mx.iterate or not concave:
            break
        cand = params + step
        cand_ll = ll_of(cand)
        if not (np.isfinite(cand_ll) and cand_ll >= llf - 1e-9):
            converged = held  # no better point along the exact Newton step
            break
        prev, ll_prev = params, llf
        params, llf = cand, cand_ll
        it += 1
        note(it, llf)
        grad = numdiff.gradient(ll_of, params, rel=1e-5)
        hess = hessian(ll_of, params)
    llf, ad = value_at(params)  # the adaptive parameters at the reported optimum
    return ResolvedResult(params, ad, llf, grad, hess, converged, it)


def mode_options(re_options: dict | None) -> dict:
    """meqr's options for the posterior-mode solves (retolerance() as ``tol``,
    reiterate() as ``maxiter``), without the ``refine`` flag of refineopts(iterate(0))."""
    return {k: v for k, v in (re_options or {}).items() if k != "refine"}


class _ModeOptions:
    """``model`` with retolerance()/reiterate() applied to every mode solve of the
    first stage ([ME] meqrlogit, Options, Integration)."""

    def __init__(self, model, options: dict) -> None:
        self._model, self._options = model, options

    def __getattr__(self, name: str):
        return getattr(self._model, name)

    def adapt(self, params, ads, **kwargs):
        return self._model.adapt(params, ads, **{**kwargs, **self._options})


def hessian(f: Callable[[np.ndarray], float], x: np.ndarray, rel: float = 1e-4
            ) -> np.ndarray:
    """Central-difference Hessian from 2 evaluations per off-diagonal pair (Abramowitz
    and Stegun 25.3.27): H_ij = [f(x+e_i+e_j) + f(x-e_i-e_j) - f(x+e_i) - f(x-e_i) -
    f(x+e_j) - f(x-e_j) + 2 f(x)] / (2 h_i h_j), second-order accurate like the 4-point
    formula at half its cost (k^2 + k + 1 evaluations for k parameters)."""
    x = np.asarray(x, float)
    k = x.size
    h = rel * np.maximum(np.abs(x), 1.0)
    eye = np.diag(h)
    f0 = f(x)
    plus = np.array([f(x + eye[i]) for i in range(k)])
    minus = np.array([f(x - eye[i]) for i in range(k)])
    out = np.empty((k, k))
    for i in range(k):
        out[i, i] = (plus[i] - 2 * f0 + minus[i]) / h[i] ** 2
        for j in range(i):
            e = eye[i] + eye[j]
            val = (f(x + e) + f(x - e) - plus[i] - minus[i] - plus[j] - minus[j] + 2 * f0)
            out[i, j] = out[j, i] = val / (2 * h[i] * h[j])
    return out


__all__ = ["ResolvedResult", "applies", "hessian", "mode_options", "run"]
