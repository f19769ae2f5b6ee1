"""Fitting the linear mixed model by ML or REML ([ME] mixed, Methods and formulas).

1. Maximize the profiled log (restricted) likelihood over the relative covariance
   factors (beta and sigma_e^2 profiled out), quasi-Newton from a start at
   Sigma = sigma_e^2 I.
2. Reparameterize to Stata's estimation metric {alpha, log sigma_e}: log standard
   deviations and atanh correlations of each level's Sigma, and polish with Newton-
   Raphson steps on L*(alpha, log sigma_e) -- the log likelihood with only beta profiled
   out -- until the scaled gradient g'H^{-1}g is below Stata's nrtolerance.
3. The observed information of L* at the optimum gives the joint VCE of
   {alpha, log sigma_e}; Var(beta) = sigma_e^2 (X'V^{-1}X)^{-1}, uncorrelated with them.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize
from threadpoolctl import threadpool_limits

from ..errors import ConvergenceWarning
from ..optimize import numdiff
from .profiled import Evaluation, ProfiledLMM
from .terms import EngineTerm

BOUNDARY_LOG_RATIO = -9.0  # sd / sigma_e below e^-9: treat as a variance at the boundary


@dataclass
class LMMFit:
    reml: bool
    llf: float
    beta: np.ndarray
    vcov_beta: np.ndarray
    sigma2: float
    sigmas: list[np.ndarray]  # absolute Sigma per engine term
    phi: np.ndarray  # Stata's metric: per engine term, then ln sigma_e
    vcov_phi: np.ndarray
    converged: bool
    iterations: int
    hessian_ok: bool
    boundary: list[bool]
    ll_linear: float
    model: ProfiledLMM
    terms: list[EngineTerm]
    evaluation: Evaluation | None = None
    log: list[tuple[int, float]] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)


def _split(vec: np.ndarray, sizes: list[int]) -> list[np.ndarray]:
    out, pos = [], 0
    for s in sizes:
        out.append(vec[pos : pos + s])
        pos += s
    return out


def fit_lmm(*args, **kwargs) -> LMMFit:
    """Fit by ML or REML; see module docstring.  BLAS runs single-threaded here: the
    engine's dense pieces are small, and threaded BLAS on small matrices is far slower."""
    with threadpool_limits(limits=1, user_api="blas"):
        return _fit_lmm(*args, **kwargs)


def _fit_lmm(
    y: np.ndarray,
    X: np.ndarray,
    terms: list[EngineTerm],
    *,
    reml: bool = False,
    weights: np.ndarray | None = None,
    iterate: int = 300,
    nrtolerance: float = 1e-5,
    log: Callable[[int, float], None] | None = None,
) -> LMMFit:
    model = ProfiledLMM(y, X, terms, weights)
    linear = ProfiledLMM(y, X, [], weights)
    ll_linear = -0.5 * linear.deviance_from(linear.evaluate([]), reml)
    structs = [t.structure for t in terms]
    tsizes = [s.n_theta for s in structs]
    history: list[tuple[int, float]] = []
    messages: list[str] = []

    if not terms:
        ev = model.evaluate([], keep=True)
        s2 = model.sigma2(ev, reml)
        phi = np.array([0.5 * np.log(s2)])
        f = _make_lstar(model, structs, reml)
        hess = numdiff.hessian(f, phi)
        return LMMFit(
            reml, -0.5 * model.deviance_from(ev, reml), ev.beta,
            s2 * np.linalg.inv(ev.rxtrx), s2, [], phi, np.linalg.inv(-hess),
            True, 0, True, [], ll_linear, model, terms, ev, history, messages,
        )

    def dev(theta: np.ndarray) -> float:
        return model.deviance(_split(theta, tsizes), reml)

    theta0 = np.concatenate([s.start_theta() for s in structs])
    it = [0]

    def callback(xk: np.ndarray) -> None:
        it[0] += 1
        val = -0.5 * dev(xk)
        history.append((it[0], val))
        if log is not None:
            log(it[0], val)

    if log is not None:
        log(0, -0.5 * dev(theta0))
    res = minimize(
        dev, theta0, method="BFGS", jac="2-point", callback=callback,
        options={"gtol": 1e-6, "maxiter": iterate},
    )
    theta = res.x
    ev = model.evaluate(_split(theta, tsizes))
    s2 = model.sigma2(ev, reml)
    lams = [s.relative_factor(t) for s, t in zip(structs, _split(theta, tsizes), strict=True)]
    sigmas = [s2 * (lam @ lam.T) for lam in lams]
    phi = np.concatenate([s.phi_from_sigma(sg) for s, sg in zip(structs, sigmas, strict=True)])
    phi = np.append(phi, 0.5 * np.log(s2))
    boundary = _boundary_flags(structs, phi)

    lstar = _make_lstar(model, structs, reml)
    free = ~np.array(boundary + [False])
    phi, hess, nr_ok, n_newton = _newton_polish(lstar, phi, free, nrtolerance)
    converged = bool(res.success or nr_ok)
    if not converged:
        messages.append("convergence not achieved")
        warnings.warn("mixed: convergence not achieved", ConvergenceWarning, stacklevel=3)

    sigmas = [s.sigma_from_phi(pp) for s, pp in zip(structs, _split(phi[:-1], tsizes), strict=True)]
    s2 = float(np.exp(2 * phi[-1]))
    thetas = [
        s.theta_from_sigma(sg / s2) for s, sg in zip(structs, sigmas, strict=True)
    ]
    ev = model.evaluate(thetas, keep=True)
    llf = lstar(phi)
    vcov_phi, hessian_ok = _invert_information(hess, free)
    if not hessian_ok:
        messages.append("Hessian is not negative semidefinite")
    vcov_beta = s2 * np.linalg.inv(ev.rxtrx)
    return LMMFit(
        reml, llf, ev.beta, vcov_beta, s2, sigmas, phi, vcov_phi, converged,
        it[0] + n_newton, hessian_ok, boundary, ll_linear, model, terms, ev, history, messages,
    )


def _boundary_flags(structs, phi: np.ndarray) -> list[bool]:
    flags: list[bool] = []
    ln_sigma = phi[-1]
    pos = 0
    for s in structs:
        for kind, _i, _j in s.phi_names():
            flags.append(kind == "lnsd" and phi[pos] - ln_sigma < BOUNDARY_LOG_RATIO)
            pos += 1
    return flags


def _make_lstar(model: ProfiledLMM, structs, reml: bool) -> Callable[[np.ndarray], float]:
    sizes = [s.n_theta for s in structs]

    def lstar(phi: np.ndarray) -> float:
        s2 = float(np.exp(2 * phi[-1]))
        thetas = []
        for s, pp in zip(structs, _split(phi[:-1], sizes), strict=True):
            thetas.append(s.theta_from_sigma(s.sigma_from_phi(pp) / s2))
        try:
            return model.loglik_at(thetas, s2, reml)
        except (np.linalg.LinAlgError, ValueError):
            return -np.inf

    return lstar


def _newton_polish(
    f: Callable[[np.ndarray], float], phi: np.ndarray, free: np.ndarray, nrtol: float
) -> tuple[np.ndarray, np.ndarray, bool, int]:
    """Newton-Raphson on the free coordinates of phi, maximizing f.

    The Hessian is recomputed while the scaled gradient g'H^{-1}g is large and reused
    once it is small (the last steps are then nearly free); where the Hessian is not
    negative definite its eigenvalues are reflected (a modified Newton step).  The
    returned Hessian is the one at the reported optimum.  Returns phi, Hessian, whether
    g'H^{-1}g < nrtol, and the number of steps.
    """
    idx = np.flatnonzero(free)
    hess = numdiff.hessian(f, phi)
    fresh = True
    steps = 0
    nr = np.inf if idx.size else 0.0
    for _ in range(60):
        if not idx.size:
            break
        here = phi
        g = numdiff.gradient(lambda v, here=here: f(_put(here, idx, v)), phi[idx])
        h = hess[np.ix_(idx, idx)]
        w, v = np.linalg.eigh(h)
        concave = bool(w.max() < 0)
        w_mod = -np.maximum(np.abs(w), 1e-8 * max(np.abs(w).max(), 1.0))
        step = -(v @ ((v.T @ g) / w_mod))
        nr = float(abs(g @ step))
        if nr < 1e-13 or (nr < nrtol * 1e-4 and concave and fresh):
            break
        f0 = f(phi)
        lam = 1.0
        moved = False
        while lam > 1e-6:
            cand = _put(phi, idx, phi[idx] + lam * step)
            if f(cand) >= f0 - 1e-12:
                phi, moved = cand, True
                break
            lam /= 2
        steps += 1
        if not moved:
            if fresh:
                break
            hess, fresh = numdiff.hessian(f, phi), True
            continue
        if nr > 1e-8 or lam < 1.0 or not concave:
            hess, fresh = numdiff.hessian(f, phi), True
        else:
            fresh = False
    if not fresh:
        hess = numdiff.hessian(f, phi)
    return phi, hess, bool(nr < nrtol), steps


def _put(vec: np.ndarray, idx: np.ndarray, vals: np.ndarray) -> np.ndarray:
    out = vec.copy()
    out[idx] = vals
    return out


def _invert_information(hess: np.ndarray, free: np.ndarray) -> tuple[np.ndarray, bool]:
    k = hess.shape[0]
    vcov = np.zeros((k, k))
    idx = np.flatnonzero(free)
    h = hess[np.ix_(idx, idx)]
    try:
        ok = bool(np.linalg.eigvalsh(-h).min() > 0)
        sub = np.linalg.inv(-h) if ok else np.linalg.pinv(-h)
    except np.linalg.LinAlgError:
        ok, sub = False, np.linalg.pinv(-h)
    vcov[np.ix_(idx, idx)] = sub
    return vcov, ok
