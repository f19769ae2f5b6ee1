"""Fitting ``mixed`` with a residual-error structure ([ME] mixed, Methods and formulas:
"the data are first transformed according to y*_j = Lambda_j^{-1/2} y_j, X*_j, Z*_j ...
and the likelihood-evaluation techniques described above are applied to y*_j, X*_j and
Z*_j instead").

With R_j = C_j C_j' the panel's relative residual covariance, the transformed model has
independent homoskedastic errors, and log|V| gains sum_j log|R_j|.  The residual
parameters rho enter the optimization beside the relative covariance factors; the
observed information is taken in Stata's metric {alpha, rho, ln sigma_e}.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.optimize import minimize

from ..covariance.residual import ResidualStructure
from ..errors import ConvergenceWarning, OptionError
from ..optimize.blas import single_threaded_blas
from ..optimize.maximize import Maximize
from .dense import DENSE_MAX_Q, DenseLMM
from .fit import LMMFit
from .fit import invert_information as _invert_information
from .fit import iteration_logger as _logger
from .fit import split_by_sizes as _split
from .polish import NRSCALE, newton_polish
from .profiled import ProfiledLMM
from .start import moment_start
from .terms import EngineTerm


def fit_lmm_residual(y, X, terms: list[EngineTerm], resid: ResidualStructure, *,
                     reml: bool = False, iterate: int = 300, nrtolerance: float = 1e-5,
                     log=None, maximize: Maximize | None = None, transformed=None,
                     start: list[np.ndarray] | None = None, linear=None) -> LMMFit:
    """``maximize``: Stata's maximize_options; ``iterate(#)`` caps the quasi-Newton and
    Newton iterations together.

    ``transformed(rho)`` -> (likelihood object of the transformed data, sum_j log|R_j|),
    ``start`` (the moment start per term) and ``linear`` (the model without random
    effects) replace what is otherwise computed from ``y``, ``X`` and the terms' rows:
    the Dask engine passes them, computed on its workers (the panels are then checked
    there)."""
    if transformed is None:
        _check_panels(terms, resid)
    mx = maximize if maximize is not None else Maximize(
        iterate=iterate, nrtolerance=nrtolerance, nrscale=NRSCALE)
    with single_threaded_blas():
        return _fit(y, X, terms, resid, reml, mx, log, transformed, start, linear)


def _check_panels(terms: list[EngineTerm], resid: ResidualStructure) -> None:
    """The transformation C_j^{-1} mixes the rows of a panel, so every random effect must
    be shared by the whole panel (one group of each term per lowest-level group)."""
    sizes = np.diff(np.r_[resid.starts, resid.order_idx.size])
    for t in terms:
        g = np.asarray(t.groups)[resid.order_idx]
        if np.any(g != np.repeat(g[resid.starts], sizes)):
            raise OptionError(
                "residuals(): the random effects vary within the lowest-level groups "
                "(crossed effects or R.varname); residual-error structures are "
                "implemented for nested random effects only")


def _fit(y, X, terms, resid, reml, mx, log, transformed=None, start=None,
         linear=None) -> LMMFit:
    structs = [t.structure for t in terms]
    tsizes = [s.n_theta for s in structs]
    nt, nr = sum(tsizes), resid.n_params
    q_total = sum(t.n_groups * t.Z.shape[1] for t in terms)
    cache: dict[bytes, tuple] = {}

    def model_for(rho: np.ndarray):
        key = np.asarray(rho, float).tobytes()
        if key not in cache and transformed is not None:
            if len(cache) > 8:
                cache.clear()
            cache[key] = transformed(np.asarray(rho, float))
        if key not in cache:
            arrays = [y[:, None], X] + [t.Z for t in terms]
            out, logdet = resid.transform(np.asarray(rho, float), arrays)
            new_terms = [EngineTerm(t.groups, t.n_groups, z, t.structure, t.source)
                         for t, z in zip(terms, out[2:], strict=True)]
            if len(new_terms) > 1 and q_total <= DENSE_MAX_Q:
                model = DenseLMM(out[0][:, 0], out[1], new_terms)
            else:
                model = ProfiledLMM(out[0][:, 0], out[1], new_terms)
            if len(cache) > 8:
                cache.clear()
            cache[key] = (model, logdet)
        return cache[key]

    def dev(params: np.ndarray) -> float:
        try:
            model, logdet = model_for(params[nt:])
        except (np.linalg.LinAlgError, ValueError, FloatingPointError):
            return np.inf
        return model.deviance(_split(params[:nt], tsizes), reml) + logdet

    if start is None:
        start = moment_start(y, X, terms) if terms else []
    theta0 = np.concatenate(start) if terms else np.zeros(0)
    starts = [np.concatenate([theta0, r0]) for r0 in resid.start_candidates()]
    params0 = min(starts, key=dev)
    history: list[tuple[int, float]] = []
    it = [0]
    lls = [-0.5 * dev(params0)]

    def callback(xk):
        it[0] += 1
        val = -0.5 * dev(xk)
        history.append((it[0], val))
        lls.append(val)
        if log is not None:
            log(it[0], val)

    if log is not None:
        log(0, lls[0])
    with np.errstate(invalid="ignore", over="ignore"):  # infeasible trial points are +inf
        # L-BFGS-B can stop early when its line search meets infeasible (+inf) points;
        # restarting it from where it stopped (fresh curvature memory) continues the descent
        x, fx = params0, dev(params0)
        for _ in range(6 if mx.iterate > 0 else 0):
            res = minimize(dev, x, method="L-BFGS-B", jac="2-point", callback=callback,
                           options={"maxiter": max(mx.iterate - it[0], 1), "ftol": 1e-13,
                                    "gtol": 1e-8})
            improved = fx - res.fun
            if res.fun <= fx:
                x, fx = res.x, res.fun
            if not improved > 1e-6 or it[0] >= mx.iterate:
                break
    par = x
    model, _ = model_for(par[nt:])
    ev = model.evaluate(_split(par[:nt], tsizes))
    s2 = model.sigma2(ev, reml)
    sigmas = []
    for s, th in zip(structs, _split(par[:nt], tsizes), strict=True):
        lam = s.relative_factor(th)
        sigmas.append(s2 * (lam @ lam.T))
    phi_re = np.concatenate([s.phi_from_sigma(sg) for s, sg in zip(structs, sigmas, strict=True)]
                            ) if structs else np.zeros(0)
    phi = np.concatenate([phi_re, par[nt:], [0.5 * np.log(s2)]])
    kre = phi_re.size

    def lstar(ph: np.ndarray) -> float:
        sig2 = float(np.exp(2 * ph[-1]))
        try:
            mod, logdet = model_for(ph[kre:-1])
            thetas, pos = [], 0
            for s in structs:
                k = len(s.phi_names())
                thetas.append(s.theta_from_sigma(s.sigma_from_phi(ph[pos:pos + k]) / sig2))
                pos += k
            return mod.loglik_at(thetas, sig2, reml) - 0.5 * logdet
        except (np.linalg.LinAlgError, ValueError, FloatingPointError):
            return -np.inf

    boundary = [False] * phi.size
    for i in range(kre):
        boundary[i] = bool(phi[i] - phi[-1] < -9.0)
    free = ~np.array(boundary)
    # Hessians by finite differences of L* cost O(k^2) evaluations: reuse them
    phi, hess, nr_ok, n_newton = newton_polish(
        lstar, phi, free, mx, budget=mx.iterate - it[0],
        ll_prev=lls[-2] if len(lls) > 1 else -np.inf, first=it[0], log=_logger(log, history),
        reuse_below=1e-2)
    phi, hess, nr_ok, n_newton, saddle = _escape_saddles(lstar, phi, hess, free, mx, nr_ok,
                                                          n_newton)
    vcov_phi, hessian_ok = _invert_information(hess, free)
    sig2 = float(np.exp(2 * phi[-1]))
    pos, sigmas, thetas = 0, [], []
    for s in structs:
        k = len(s.phi_names())
        sg = s.sigma_from_phi(phi[pos:pos + k])
        sigmas.append(sg)
        thetas.append(s.theta_from_sigma(sg / sig2))
        pos += k
    model, logdet = model_for(phi[kre:-1])
    ev = model.evaluate(thetas, keep=True)
    llf = lstar(phi)
    ols = linear if linear is not None else ProfiledLMM(y, X, [])
    ll_linear = -0.5 * ols.deviance_from(ols.evaluate([]), reml)
    nr_ok = nr_ok and hessian_ok  # a maximum: the Hessian negative definite there
    messages = [] if nr_ok else ["convergence not achieved"]
    if saddle:
        messages.append("stopped at a stationary point that is not a maximum (the Hessian "
                        "has a positive eigenvalue)")
    if not nr_ok:
        warnings.warn("mixed: convergence not achieved", ConvergenceWarning, stacklevel=3)
    if not hessian_ok:
        messages.append("Hessian is not negative semidefinite")
    fit = LMMFit(reml, llf, ev.beta, sig2 * np.linalg.inv(ev.rxtrx), sig2, sigmas, phi,
                 vcov_phi, bool(nr_ok), it[0] + n_newton, hessian_ok, boundary[:kre],
                 ll_linear, model, terms, ev, history, messages)
    fit.resid = resid
    fit.n_resid = nr
    return fit


def _positive_curvature(hess: np.ndarray, idx: np.ndarray) -> tuple[float, float, np.ndarray]:
    """(largest eigenvalue, scale max |eigenvalue|, its eigenvector) of the free block."""
    w, v = np.linalg.eigh(hess[np.ix_(idx, idx)])
    return float(w.max()), max(float(np.abs(w).max()), 1.0), v[:, int(np.argmax(w))]


def _escape_saddles(lstar, phi, hess, free, mx, nr_ok, n_newton, tries: int = 4):
    """Leave a stationary point that is not a maximum.

    A zero gradient where the Hessian has a positive eigenvalue (a saddle, or a minimum
    along that direction) is not a maximum: step along the eigenvector, in the direction
    that increases L*, and polish again.  When no step increases L*, a clearly positive
    eigenvalue (above 1e-3 of the largest in magnitude) is reported as not converged;
    a smaller one is finite-difference noise in a flat direction (the Hessian is then
    reported as not negative semidefinite).  Returns phi, Hessian, converged, Newton
    steps, and whether a saddle remains."""
    idx = np.flatnonzero(free)
    if not idx.size:
        return phi, hess, nr_ok, n_newton, False
    for _ in range(tries):
        if not np.all(np.isfinite(hess[np.ix_(idx, idx)])):
            return phi, hess, False, n_newton, False
        top, scale, direction = _positive_curvature(hess, idx)
        if not top > 1e-6 * scale:
            return phi, hess, nr_ok, n_newton, False
        f0 = lstar(phi)
        best = None
        for size in (1.0, 0.5, 0.25, 0.1, 0.03):
            for sgn in (1.0, -1.0):
                cand = phi.copy()
                cand[idx] += sgn * size * direction
                val = lstar(cand)
                if np.isfinite(val) and val > f0 + 1e-8 and (best is None or val > best[0]):
                    best = (val, cand)
            if best is not None:
                break
        if best is None:
            clear = top > 1e-3 * scale
            return phi, hess, nr_ok and not clear, n_newton, clear
        phi, hess, nr_ok, steps = newton_polish(lstar, best[1], free, mx, reuse_below=1e-2)
        n_newton += steps
    if not np.all(np.isfinite(hess[np.ix_(idx, idx)])):
        return phi, hess, False, n_newton, False
    top, scale, _ = _positive_curvature(hess, idx)
    saddle = top > 1e-3 * scale
    return phi, hess, nr_ok and not saddle, n_newton, saddle
