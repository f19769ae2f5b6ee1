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

from ..errors import OptionError
from ..optimize import numdiff
from ..optimize.maximize import Maximize
from ..optimize.newton_step import newton_step
from .singular_boundary import JUMP, SingularPins


@dataclass
class NewtonResult:
    params: np.ndarray
    adaptive: object
    converged: bool
    iterations: int
    singular: int = 0  # covariance directions held at 0 (glmm.singular_boundary)


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

    quasi = QuasiHessian(model, mx)
    pins = SingularPins(model) if mx.techniques == Maximize().techniques else None
    converged, it, backed = False, 0, False
    ll_prev, prev = -np.inf, None
    for it in range(mx.iterate + 1):
        ad = model.adapt(params, ad)
        with np.errstate(all="ignore") if it == 0 else nullcontext():  # checked below
            ll, grad, hess = derivatives(params, ad)
        if it == 0 and infeasible is not None and not _finite(ll, grad, hess):
            params, ad = infeasible(params)
            ll, grad, hess = derivatives(params, ad)
        if pins is not None and pins.pinned:
            step, concave = _pinned_step(pins.free(params.size), grad, hess, mx.difficult)
        else:
            step, concave = quasi.step(mx.technique_at(it), params, ad, grad, hess)
        # Stata's iteration-log flags: a Hessian that is not negative definite here, or a
        # previous step that had to be shortened
        note(it, ll, "(not concave)" if not concave else "(backed up)" if backed else "")
        nr = float(abs(grad @ step))
        moved = None if prev is None else float(abs((params - prev) @ hess @ (params - prev)))
        mx.show_iteration(params, grad, hess, prev, ll, ll_prev, nr, moved)
        if mx.converged(params, prev, ll, ll_prev, nr, concave, moved):
            if pins is None or not pins.pinned or not pins.release_if_saddle(params, hess, ll):
                converged = True
                break
        if it == mx.iterate:  # the cap: no step beyond the last iteration shown
            break
        jumped = _jump(pins, model, params, ad, ll, ll_prev, it)
        prev, ll_prev = params, ll
        if jumped is not None:
            params, ad = jumped
            backed = False
            continue
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
    return NewtonResult(params, ad, converged, it, len(pins.pinned) if pins else 0)


def _pinned_step(free: np.ndarray, grad, hess, difficult: bool) -> tuple[np.ndarray, bool]:
    """The Newton step in the free parameters (the pinned ones stay at 0)."""
    step = np.zeros_like(grad)
    sub, concave = newton_step(grad[free], hess[np.ix_(free, free)], difficult)
    step[free] = sub
    return step, concave


def _jump(pins, model, params, ad, ll, ll_prev, it):
    """Set the nearly singular Cholesky diagonals to 0 when the iterations crawl
    (:mod:`memodels.glmm.singular_boundary`): (params, adaptive) or None."""
    if pins is None or not np.isfinite(ll_prev):
        return None
    cands = pins.candidates(params, it, abs(ll - ll_prev) / (abs(ll_prev) + 1.0))
    if not cands:
        return None
    trial = pins.projected(params, cands)
    try:
        with np.errstate(all="ignore"):
            ad_t = model.adapt(trial, ad)
            ll_t = float(model.loglik(trial, ad_t))
    except (np.linalg.LinAlgError, FloatingPointError, ValueError):
        return None
    if not (np.isfinite(ll_t) and ll_t >= ll - JUMP):
        return None  # not near its maximum yet
    pins.pin(params, cands, ll)
    return trial, ad_t


class QuasiHessian:
    """The curvature each technique steps with ([R] maximize, technique()): ``nr`` the
    Hessian; ``bhhh`` the outer product of the top-level clusters' scores,
    sum_j s_j s_j' (the negative Hessian's expectation); ``bfgs``/``dfp`` the negative
    Hessian approximated by the BFGS/DFP updates from the changes in the parameters and
    the gradient between iterations, started from the (eigenvalue-reflected) Hessian
    when the technique takes over."""

    def __init__(self, model, mx: Maximize):
        self.model, self.mx = model, mx
        self.approx: np.ndarray | None = None  # positive definite: approximates -H
        self.last: tuple[str, np.ndarray, np.ndarray] | None = None

    def step(self, tech: str, params, ad, grad, hess) -> tuple[np.ndarray, bool]:
        if tech == "nr":
            self.last = (tech, params, grad)
            return newton_step(grad, hess, self.mx.difficult)
        if tech == "bhhh":
            if not hasattr(self.model, "scores") or hasattr(self.model, "unwrap"):
                raise OptionError("technique(bhhh) is not available for this model (no "
                                  "cluster scores: constrained or Laplace fits)")
            scores = self.model.scores(params, ad)
            info = scores.T @ scores
        else:
            info = self._updated(tech, params, grad, hess)
        self.last = (tech, params, grad)
        try:
            chol = np.linalg.cholesky(info)
        except np.linalg.LinAlgError:
            return newton_step(grad, -info, self.mx.difficult)
        return np.linalg.solve(chol.T, np.linalg.solve(chol, grad)), True

    def _updated(self, tech: str, params, grad, hess) -> np.ndarray:
        fresh = self.last is None or self.last[0] != tech or self.approx is None
        if fresh:
            w, vec = np.linalg.eigh(-hess)
            floor = 1e-8 * max(np.abs(w).max(), 1.0)
            self.approx = (vec * np.maximum(np.abs(w), floor)) @ vec.T
            return self.approx
        a = self.approx
        s = params - self.last[1]
        y = -(grad - self.last[2])  # the change in the gradient of -log L
        sy = float(s @ y)
        if sy <= 1e-12 * float(np.sqrt((s @ s) * (y @ y))):
            return a  # no curvature information: keep the approximation
        if tech == "bfgs":
            a_s = a @ s
            a = a - np.outer(a_s, a_s) / float(s @ a_s) + np.outer(y, y) / sy
        else:  # dfp
            rho = 1.0 / sy
            left = np.eye(a.shape[0]) - rho * np.outer(y, s)
            a = left @ a @ left.T + rho * np.outer(y, y)
        self.approx = 0.5 * (a + a.T)
        return self.approx


def _finite(*arrays) -> bool:
    return all(bool(np.all(np.isfinite(a))) for a in arrays)
