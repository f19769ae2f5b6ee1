"""Newton-Raphson on meqr's re-solved-modes likelihood with its exact gradient
([ME] meqrlogit, Methods and formulas; [R] maximize).

L(b) = Q(b, a(b)), the mode-curvature quadrature with the modes and curvatures re-solved
at every b.  Its gradient is exact (:func:`memodels.glmm.resolved_gradient.total_gradient`,
implicit differentiation through the modes and curvatures).  The iterations are Newton's
on L itself, with Stata's stopping rules ([R] maximize: nrtolerance and tolerance or
ltolerance) and step halving judged by L (modes re-solved at every candidate):

* the starting values are first refined on the same likelihood with one node per
  dimension (the Laplacian approximation with the same modes and curvatures; each pass
  ~K times cheaper), by Newton with the difference of the exact gradient as Hessian,
  not shown in the log (Stata's meqr also refines its starting values in a first
  stage, [ME] meqrlogit, Options, refineopts(); here that stage is a cheaper
  likelihood, not fixed quadrature points);
* the iterations shown then step with the exact Hessian of Q at the re-solved adaptive
  parameters (one quadrature pass), which misses only the modes' and curvatures'
  second-order dependence on b (hdp random-slope model: the Newton iteration's
  contraction factor is then about 0.2 per iteration; a secant correction of that
  difference was tried and crawled from poor starting values);
* at the optimum, the Hessian of L (standard errors) is the forward difference of the
  exact gradient (:func:`jacobian`), and the rule is checked again with it.

Before: fixed-mode Newton, differenced polishing and a 183-evaluation differenced Hessian,
12 iterations and ~42 s for the hdp random-slope model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from ..optimize.maximize import Maximize
from ..optimize.newton_step import newton_step
from .resolved_gradient import total_gradient

TOL = 1e-10  # the modes' tolerance: the implicit derivatives assume grad_v F = 0


class ResolvedModel:
    """L of ``model``: modes solved tightly and warm-started from the latest ones."""

    def __init__(self, model, maxiter: int = 100) -> None:
        self.model, self.maxiter = model, maxiter
        self.last = None  # the latest adaptive parameters (warm start)

    def solve(self, params, ad=None):
        ad = ad if ad is not None else self.last
        with np.errstate(all="ignore"):
            out = self.model.adapt(params, ad, tol=TOL, maxiter=self.maxiter)
        self.last = out
        return out

    def loglik(self, params, ad=None) -> float:
        try:
            cur = self.solve(params, ad)
            with np.errstate(all="ignore"):
                val = self.model.loglik(params, cur)
        except (np.linalg.LinAlgError, FloatingPointError, ValueError):
            return -np.inf
        return val if np.isfinite(val) else -np.inf

    def gradient(self, params, ad=None) -> tuple[float, np.ndarray]:
        cur = self.solve(params, ad)
        with np.errstate(all="ignore"):
            return total_gradient(self.model, params, cur)

    def fixed(self, params, ad=None):
        """L, its exact gradient, and Q's exact Hessian at the re-solved a."""
        cur = self.solve(params, ad)
        with np.errstate(all="ignore"):
            return total_gradient(self.model, params, cur, fixed_hessian=True)

    def differenced(self, params, ad=None, central: bool = False):
        """L, its exact gradient, and the difference of the gradient as Hessian."""
        llf, grad = self.gradient(params, ad)
        base = self.last
        hess = jacobian(lambda p: self.gradient(p, base)[1], params,
                        None if central else grad, central=central)
        self.last = base
        return llf, grad, hess


def jacobian(grad_of: Callable[[np.ndarray], np.ndarray], x: np.ndarray,
             g0: np.ndarray | None = None, central: bool = True) -> np.ndarray:
    """The (symmetrized) Jacobian of an exact gradient by differences: central (2p
    gradients, step 1e-4 relative) or forward (p, step 1e-6 relative, from ``g0``; the
    gradient being exact to rounding, its error is O(step): hdp random-slope model,
    standard errors within 4e-6 of the central difference's)."""
    x = np.asarray(x, float)
    k = x.size
    h = (1e-4 if central else 1e-6) * np.maximum(np.abs(x), 1.0)
    out = np.empty((k, k))
    for i in range(k):
        e = np.zeros(k)
        e[i] = h[i]
        if central:
            out[:, i] = (grad_of(x + e) - grad_of(x - e)) / (2 * h[i])
        else:
            out[:, i] = (grad_of(x + e) - g0) / h[i]
    return 0.5 * (out + out.T)


def newton(w: ResolvedModel, params: np.ndarray, mx: Maximize, note,
           derivatives: Callable, first: int = 0, reuse: bool = False):
    """Newton-Raphson on L from ``params`` with Stata's rule ([R] maximize: nrtolerance,
    and tolerance or ltolerance; a concave Hessian); ``derivatives(params)`` gives
    (L, gradient, Hessian).  ``reuse``: after a full step from a concave point the
    previous Hessian serves again (only the exact gradient is recomputed; the quiet
    refinement stage).  Returns (params, llf, grad, hess, converged, last iteration
    number)."""
    prev, ll_prev, backed = None, -np.inf, False
    it = first
    hess, concave = None, False
    while True:
        if reuse and hess is not None and concave and not backed:
            ll, grad = w.gradient(params)
        else:
            ll, grad, hess = derivatives(params)
        step, concave = newton_step(grad, hess, mx.difficult)
        nr = float(abs(grad @ step))
        note(it, ll, "(not concave)" if not concave else "(backed up)" if backed else "")
        mx.show_iteration(params, grad, hess, prev, ll, ll_prev, nr)
        if mx.converged(params, prev, ll, ll_prev, nr, concave):
            return params, ll, grad, hess, True, it
        if it >= mx.iterate:
            return params, ll, grad, hess, False, it
        base = w.last
        lam = 1.0
        while lam > 1e-8:
            cand = params + lam * step
            cand_ll = w.loglik(cand, base)
            mx.show_step(lam, cand_ll)
            if np.isfinite(cand_ll) and cand_ll >= ll - 1e-12:
                break
            lam /= 2
        else:
            w.last = base
            ok = concave and (mx.nonrtolerance or nr < mx.nrtolerance)
            return params, ll, grad, hess, ok, it
        prev, ll_prev = params, ll
        params = cand
        backed = lam < 1.0
        it += 1


def refine(model, params: np.ndarray, mx: Maximize) -> np.ndarray:
    """Starting values refined on the one-node version of the likelihood (silent)."""
    if all(k == 1 for k in model.K) or not hasattr(model, "with_points"):
        return params
    coarse = ResolvedModel(model.with_points(1))
    # loose: the shown iterations finish the job on the full likelihood
    quiet = replace(mx, echo=None, iterate=min(mx.iterate, 50), ltolerance=1e-5,
                    tolerance=1e-4, nrtolerance=1e-2, nonrtolerance=False, trace=False,
                    gradient=False, hessian=False, showstep=False, showtolerance=False)
    try:
        out = newton(coarse, params, quiet, lambda *a: None, coarse.differenced,
                     reuse=True)
    except (np.linalg.LinAlgError, FloatingPointError, ValueError):
        return params
    par, llf = out[0], out[1]
    return par if np.isfinite(llf) and np.all(np.isfinite(par)) else params


def run(model, params: np.ndarray, ad, mx: Maximize, note: Callable[[int, float], None],
        refined: bool = True):
    """Newton-Raphson on L from ``params`` (first refined, unless ``refined`` is False:
    refineopts(iterate(0))); returns (params, adaptive, llf, grad, hess, converged,
    iterations) for :class:`memodels.glmm.resolved_newton.ResolvedResult`."""
    params = np.asarray(params, float)
    w = ResolvedModel(model)
    if refined:
        cand = refine(model, params, mx)
        # kept only when L itself is higher there (the one-node maximum can sit where
        # the full likelihood is flat, e.g. a variance the Laplacian sends to 0)
        if cand is not params and w.loglik(cand, ad) >= w.loglik(params, ad):
            params = cand
    w.solve(params, ad)
    par, llf, grad, _, converged, it = newton(
        w, params, mx, lambda i, v, flag: note(i, v), w.fixed)
    llf, grad, hess = w.differenced(par)
    # the rule again with L's own Hessian (the steps' curvature was approximate); while
    # it fails, Newton steps on it follow
    step, concave = newton_step(grad, hess, mx.difficult)
    nr = float(abs(grad @ step))
    if not (converged and concave and (mx.nonrtolerance or nr < mx.nrtolerance)):
        par, llf, grad, hess, converged, it = newton(
            w, par, mx, lambda i, v, flag: note(i, v), w.differenced, first=it + 1)
        w.solve(par)
    return par, w.last, llf, grad, hess, converged, it


__all__ = ["ResolvedModel", "jacobian", "newton", "refine", "run"]
