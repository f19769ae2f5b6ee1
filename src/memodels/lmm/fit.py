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
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from scipy.optimize import minimize

from ..errors import ConvergenceWarning, OptionError
from ..optimize import numdiff
from ..optimize.blas import single_threaded_blas
from ..optimize.maximize import Maximize
from .criteria import Evaluation, linear_evaluation
from .dense import DENSE_MAX_Q, DenseLMM
from .phi_derivatives import lstar_gradient_hessian
from .polish import NRSCALE, newton_polish
from .profiled import ProfiledLMM
from .start import moment_start
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
    model: ProfiledLMM | DenseLMM
    terms: list[EngineTerm]
    evaluation: Evaluation | None = None
    log: list[tuple[int, float]] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    resid: object | None = None  # ResidualStructure when residuals() was given
    n_resid: int = 0  # its parameters sit in phi between the RE components and ln sigma
    # x + 1e9 (memodels.lmm.centering): the centring and Var(beta*) of the centred fit,
    # for delta-method variances without cancellation (predict stdp, margins)
    centering: object | None = None
    vcov_beta_centred: np.ndarray | None = None


def split_by_sizes(vec: np.ndarray, sizes: list[int]) -> list[np.ndarray]:
    """Cut a parameter vector into consecutive pieces of the given ``sizes`` (one per
    random-effects term, in the order of the terms); shared by the LMM fits."""
    out, pos = [], 0
    for s in sizes:
        out.append(vec[pos : pos + s])
        pos += s
    return out


def em_options(opts: dict[str, Any]) -> dict[str, Any]:
    """The EM keywords of :func:`fit_lmm` from ``mixed``'s parsed options ([ME] mixed,
    Options, EM options): ``emiterate()``, ``emtolerance()``, ``emonly`` (20 EM
    iterations unless ``emiterate()`` says otherwise)."""
    kwargs: dict[str, Any] = {}
    if opts.get("emiterate") not in (None, True):
        kwargs["emiterate"] = int(float(opts["emiterate"]))
    if opts.get("emtolerance") not in (None, True):
        kwargs["emtolerance"] = float(opts["emtolerance"])
    if opts.get("emonly"):
        kwargs["emonly"] = True
        kwargs.setdefault("emiterate", 20)
    return kwargs


def fit_lmm(*args, **kwargs) -> LMMFit:
    """Fit by ML or REML; see module docstring.  BLAS runs single-threaded here: the
    engine's dense pieces are small, and threaded BLAS on small matrices is far slower."""
    with single_threaded_blas():
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
    emiterate: int = 20,
    emtolerance: float = 1e-10,
    log: Callable[[int, float], None] | None = None,
    model=None,
    emonly: bool = False,
    maximize: Maximize | None = None,
    em_log: Callable[[int, float], None] | None = None,
    start: list[np.ndarray] | None = None,
    linear=None,
) -> LMMFit:
    """``model`` overrides the likelihood evaluator (the weighted pseudolikelihood).
    ``start`` (the moment start per term) and ``linear`` (the model without random
    effects) replace what is otherwise computed from ``y`` and ``X``: the Dask engine
    passes them, built from sufficient statistics, with ``model``.
    ``maximize``: Stata's maximize_options (:class:`memodels.optimize.maximize.Maximize`);
    ``iterate(#)`` caps the quasi-Newton and Newton iterations together.  ``em_log``
    receives (iteration, log likelihood) of every EM iteration (emlog, emdots); it is
    called with iteration -1 when no EM iterations are run (several random-effects
    terms, weights, or emiterate(0))."""
    mx = maximize if maximize is not None else Maximize(
        iterate=iterate, nrtolerance=nrtolerance, nrscale=NRSCALE)
    q_total = sum(t.n_groups * t.Z.shape[1] for t in terms)
    if model is None:
        dense = len(terms) > 1 and q_total <= DENSE_MAX_Q
        model = (DenseLMM if dense else ProfiledLMM)(y, X, terms, weights)
    if weights is None and getattr(model, "wj", None) is not None:  # weighted pseudolikelihood
        weights = model.wi * model.wj[model.g]
    if linear is not None:  # given (the Dask engine)
        ll_linear = -0.5 * linear.deviance_from(linear.evaluate([]), reml)
    elif isinstance(model, ProfiledLMM | DenseLMM):  # same sufficient statistics
        ll_linear = -0.5 * model.deviance_from(
            linear_evaluation(model.xtx, model.xty, model.yty, model.beta0), reml)
    else:
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
        f, _ = _make_lstar(model, structs, reml)
        hess = numdiff.hessian(f, phi)
        return LMMFit(
            reml, -0.5 * model.deviance_from(ev, reml), ev.beta,
            s2 * np.linalg.inv(ev.rxtrx), s2, [], phi, np.linalg.inv(-hess),
            True, 0, True, [], ll_linear, model, terms, ev, history, messages,
        )

    last = {"x": None, "f": np.inf}
    analytic = bool(getattr(model, "has_gradient", True))

    def dev(theta: np.ndarray):
        if analytic:
            val, grad = model.deviance_and_gradient(_split(theta, tsizes), reml)
        else:
            val, grad = model.deviance(_split(theta, tsizes), reml), None
        last["x"], last["f"] = theta.copy(), val
        return (val, grad) if analytic else val

    theta0 = np.concatenate(start if start is not None
                            else moment_start(y, X, terms, getattr(model, "resid0", None)))
    if isinstance(model, ProfiledLMM) and model.has_gradient and emiterate > 0:
        theta0 = model.em_iterations(theta0, reml, emiterate, emtolerance, log=em_log)
    elif em_log is not None:
        em_log(-1, float("nan"))
    if emonly:
        if not (isinstance(model, ProfiledLMM) and model.has_gradient):
            raise OptionError("emonly is available for two-level models without weights "
                              "or residual structures")
        return _em_only_fit(model, structs, theta0, reml, ll_linear, terms, emiterate)
    it = [0]
    lls = [-0.5 * model.deviance(_split(theta0, tsizes), reml)]

    def callback(xk: np.ndarray) -> None:
        it[0] += 1
        val = last["f"] if np.array_equal(last["x"], xk) else model.deviance(
            _split(xk, tsizes), reml)
        history.append((it[0], -0.5 * val))
        lls.append(-0.5 * val)
        if mx.trace and mx.echo is not None:
            mx.echo("Parameter vector (relative Cholesky factors):")
            mx.echo("  " + "  ".join(f"{v:11.7g}" for v in xk))
        if log is not None:
            log(it[0], -0.5 * val)

    if log is not None:
        log(0, lls[0])
    # L-BFGS-B needed the fewest evaluations on every manual example and benchmark case
    # (BFGS's line searches cost 3-10 times more); the Newton polish below finishes.
    theta = theta0
    fast = _newton_first(model, structs, theta0, reml, mx)
    if fast is not None:
        phi, hess, n_newton, steps_log = fast
        for k, val in steps_log:
            history.append((k, val))
            if log is not None:
                log(k, val)
        return _finish_fit(model, structs, tsizes, phi, hess, True, n_newton, reml,
                           ll_linear, terms, history, messages,
                           [False] * (phi.size - 1))
    if mx.iterate > 0:
        res = minimize(dev, theta0, method="L-BFGS-B", jac=True if analytic else "2-point",
                       callback=callback,
                       options={"maxiter": mx.iterate, "ftol": 1e-13,
                                "gtol": 1e-9 if analytic else 1e-7})
        theta = res.x
    ev = model.evaluate(_split(theta, tsizes))
    s2 = model.sigma2(ev, reml)
    lams = [s.relative_factor(t) for s, t in zip(structs, _split(theta, tsizes), strict=True)]
    sigmas = [s2 * (lam @ lam.T) for lam in lams]
    phi = np.concatenate([s.phi_from_sigma(sg) for s, sg in zip(structs, sigmas, strict=True)])
    phi = np.append(phi, 0.5 * np.log(s2))
    boundary = _boundary_flags(structs, phi)

    lstar, lstar_grad = _make_lstar(model, structs, reml)
    lstar_hess = None
    if lstar_grad is not None and hasattr(model, "cov_pieces"):
        lstar_grad, lstar_hess = _exact_derivatives(model, structs, reml)
    free = ~np.array(boundary + [False])
    phi, hess, converged, n_newton = newton_polish(
        lstar, phi, free, mx, lstar_grad, budget=mx.iterate - it[0],
        ll_prev=lls[-2] if len(lls) > 1 else -np.inf, first=it[0], log=_logger(log, history),
        hessian=lstar_hess)
    if not converged:
        messages.append("convergence not achieved")
        warnings.warn("mixed: convergence not achieved", ConvergenceWarning, stacklevel=3)
    return _finish_fit(model, structs, tsizes, phi, hess, converged, it[0] + n_newton, reml,
                       ll_linear, terms, history, messages, boundary, free)


def _newton_first(model, structs, theta0, reml, mx: Maximize):
    """Newton-Raphson on L*(phi) with the exact gradient and Hessian straight from the
    (EM) start, skipping the quasi-Newton stage: a handful of steps on every manual example
    and benchmark case.  Taken only when it ends cleanly -- Stata's convergence rule met,
    the Hessian negative definite, no variance heading for its boundary (where the
    quasi-Newton stage in the relative factor, which can reach 0, does better) -- and
    without display options (trace, gradient, ...), whose output follows the usual path;
    otherwise None and the fit starts over as before.
    Returns phi, Hessian, the number of steps and their (iteration, L*) log."""
    if not hasattr(model, "cov_pieces") or not getattr(model, "has_gradient", False):
        return None
    if mx.iterate <= 0 or mx.trace or mx.gradient or mx.hessian or mx.showstep \
            or mx.showtolerance:
        return None
    tsizes = [s.n_theta for s in structs]
    try:
        ev = model.evaluate(_split(theta0, tsizes))
        s2 = model.sigma2(ev, reml)
        parts = _split(theta0, tsizes)
        lams = [s.relative_factor(t) for s, t in zip(structs, parts, strict=True)]
        phi = np.concatenate([s.phi_from_sigma(s2 * (lam @ lam.T))
                              for s, lam in zip(structs, lams, strict=True)])
        phi = np.append(phi, 0.5 * np.log(s2))
        if any(_boundary_flags(structs, phi)) or not np.all(np.isfinite(phi)):
            return None
        lstar, _ = _make_lstar(model, structs, reml)
        grad, hess_fn = _exact_derivatives(model, structs, reml)
        steps_log: list[tuple[int, float]] = []
        free = np.ones(phi.size, dtype=bool)
        quiet = replace(mx, echo=None)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            phi, hess, ok, steps = newton_polish(
                lstar, phi, free, quiet, grad, budget=min(mx.iterate, 20),
                log=lambda k, v: steps_log.append((k, v)), hessian=hess_fn)
    except (np.linalg.LinAlgError, ValueError, FloatingPointError):
        return None
    if not ok or any(_boundary_flags(structs, phi)) or not np.all(np.isfinite(hess)):
        return None
    try:
        if np.linalg.eigvalsh(-hess).min() <= 0:
            return None
    except np.linalg.LinAlgError:
        return None
    return phi, hess, steps, steps_log


def _finish_fit(model, structs, tsizes, phi, hess, converged, iterations, reml, ll_linear,
                terms, history, messages, boundary, free=None) -> LMMFit:
    """Estimates, L*, the VCEs and the convergence messages at the final phi."""
    if free is None:
        free = np.ones(phi.size, dtype=bool)
    lstar, _ = _make_lstar(model, structs, reml)
    sigmas = [s.sigma_from_phi(pp) for s, pp in zip(structs, _split(phi[:-1], tsizes), strict=True)]
    s2 = float(np.exp(2 * phi[-1]))
    thetas = [
        s.theta_from_sigma(sg / s2) for s, sg in zip(structs, sigmas, strict=True)
    ]
    ev = model.evaluate(thetas, keep=True)
    llf = lstar(phi)
    vcov_phi, hessian_ok = _invert_information(hess, free)
    if not hessian_ok:
        if converged:  # not a maximum (a variance at its boundary is fixed, not free)
            converged = False
            messages.append("convergence not achieved")
            warnings.warn("mixed: Hessian is not negative definite at the estimates: they "
                          "are not a maximum (convergence not achieved)",
                          ConvergenceWarning, stacklevel=3)
        messages.append("Hessian is not negative semidefinite")
    vcov_beta = s2 * np.linalg.inv(ev.rxtrx)
    return LMMFit(
        reml, llf, ev.beta, vcov_beta, s2, sigmas, phi, vcov_phi, converged,
        iterations, hessian_ok, boundary, ll_linear, model, terms, ev, history, messages,
    )


def _em_only_fit(model, structs, theta, reml, ll_linear, terms, emiterate) -> LMMFit:
    """``emonly``: the EM estimates; no standard errors for the variance components
    ([ME] mixed, Options: emonly)."""
    ev = model.evaluate([theta], keep=True)
    s2 = model.sigma2(ev, reml)
    lam = structs[0].relative_factor(theta)
    sigma = s2 * (lam @ lam.T)
    phi = np.append(structs[0].phi_from_sigma(sigma), 0.5 * np.log(s2))
    llf = -0.5 * model.deviance_from(ev, reml)
    vcov_phi = np.full((phi.size, phi.size), np.nan)
    return LMMFit(reml, llf, ev.beta, s2 * np.linalg.inv(ev.rxtrx), s2, [sigma], phi,
                  vcov_phi, True, emiterate, True, [False] * (phi.size - 1), ll_linear, model,
                  terms, ev, [], ["EM only: no standard errors for variance components"])


def _boundary_flags(structs, phi: np.ndarray) -> list[bool]:
    flags: list[bool] = []
    ln_sigma = phi[-1]
    pos = 0
    for s in structs:
        for kind, _i, _j in s.phi_names():
            flags.append(kind == "lnsd" and phi[pos] - ln_sigma < BOUNDARY_LOG_RATIO)
            pos += 1
    return flags


def _thetas_of_phi(structs, sizes: list[int], phi: np.ndarray) -> list[np.ndarray]:
    s2 = float(np.exp(2 * phi[-1]))
    return [
        s.theta_from_sigma(s.sigma_from_phi(pp) / s2)
        for s, pp in zip(structs, _split(phi[:-1], sizes), strict=True)
    ]


def _make_lstar(model: ProfiledLMM | DenseLMM, structs, reml: bool):
    """L*(phi) in Stata's metric, and its exact gradient where the model has one.

    The gradient is the chain rule through theta(phi) = relative factor of
    Sigma(phi) / sigma^2, whose small Jacobian is taken by central differences."""
    sizes = [s.n_theta for s in structs]

    def lstar(phi: np.ndarray) -> float:
        try:
            return model.loglik_at(_thetas_of_phi(structs, sizes, phi), float(np.exp(2 * phi[-1])),
                                   reml)
        except (np.linalg.LinAlgError, ValueError):
            return -np.inf

    if not getattr(model, "has_gradient", False):
        return lstar, None
    if hasattr(model, "cov_gradients"):
        return lstar, _covariance_gradient(model, structs, sizes, reml)

    def grad(phi: np.ndarray) -> np.ndarray:
        thetas = _thetas_of_phi(structs, sizes, phi)
        _, g_theta, g_lns = model.lstar_and_gradient(
            thetas, float(np.exp(2 * phi[-1])), reml)
        jac = numdiff.jacobian(
            lambda v: np.concatenate(_thetas_of_phi(structs, sizes, v)), phi, rel=1e-7)
        out = jac.T @ g_theta
        out[-1] += g_lns
        return out

    return lstar, grad


def _covariance_gradient(model, structs, sizes: list[int], reml: bool):
    """The exact gradient of L*(phi) from the derivatives F_t = d(.)/dG_t of log|V| (or
    log|V| + log|X'V^{-1}X|) and of r^2 with respect to each relative covariance
    G_t = Sigma_t / sigma^2 (``model.cov_gradients``):

        dL*/dphi_tk = -1/2 <F_det,t + F_r2,t / sigma^2, dSigma_t/dphi_tk> / sigma^2
        dL*/dln sigma = -n' + r^2/sigma^2 + sum_t <F_det,t + F_r2,t / sigma^2, G_t>

    (G_t = Sigma_t e^{-2 ln sigma} moves with sigma at fixed Sigma_t)."""
    def grad(phi: np.ndarray) -> np.ndarray:
        s2 = float(np.exp(2 * phi[-1]))
        parts = _split(phi[:-1], sizes)
        thetas = [s.theta_from_sigma(s.sigma_from_phi(pp) / s2)
                  for s, pp in zip(structs, parts, strict=True)]
        ev, f_det, f_r2 = model.cov_gradients(thetas, reml)
        out = np.empty(phi.size)
        g_lns = -model.dof(reml) + ev.r2 / s2
        pos = 0
        for s, pp, fd, fr in zip(structs, parts, f_det, f_r2, strict=True):
            f = fd + fr / s2
            dsig = s.sigma_derivatives(pp)
            out[pos:pos + dsig.shape[0]] = -0.5 * np.einsum("kij,ij->k", dsig, f) / s2
            pos += dsig.shape[0]
            g_lns += float(np.sum(f * s.sigma_from_phi(pp))) / s2
        out[-1] = g_lns
        return out

    return grad


def _exact_derivatives(model, structs, reml: bool):
    """The exact gradient and Hessian of L*(phi) (:mod:`memodels.lmm.phi_derivatives`),
    both from one evaluation of the model's pieces (kept for the last phi)."""
    sizes = [s.n_theta for s in structs]
    last: dict = {"phi": None}

    def both(phi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if last["phi"] is None or not np.array_equal(last["phi"], phi):
            pieces = model.cov_pieces(_thetas_of_phi(structs, sizes, phi), reml)
            last["val"] = lstar_gradient_hessian(pieces, structs, phi, model.dof(reml), reml)
            last["phi"] = phi.copy()
        return last["val"]

    return (lambda phi: both(phi)[0]), (lambda phi: both(phi)[1])


def _newton_polish(f, phi, free, nrtol, grad=None):
    """The Newton stage with Stata's default stopping rules (``nrtolerance`` given)."""
    return newton_polish(f, phi, free, Maximize(nrtolerance=nrtol, nrscale=NRSCALE), grad)


def iteration_logger(log, history):
    """Log a Newton iteration like the quasi-Newton ones (and keep it in the history)."""
    def note(it: int, val: float) -> None:
        history.append((it, val))
        if log is not None:
            log(it, val)
    return note


def invert_information(hess: np.ndarray, free: np.ndarray) -> tuple[np.ndarray, bool]:
    """The covariance of the free parameters: the inverse of the observed information
    (minus the Hessian ``hess``) restricted to ``free`` (zero rows/columns for the fixed
    ones); the flag is False when the information is not finite or not positive definite
    ([ME] mixed, Methods and formulas: the variance of the estimated variance components)."""
    k = hess.shape[0]
    vcov = np.zeros((k, k))
    idx = np.flatnonzero(free)
    h = hess[np.ix_(idx, idx)]
    if not np.all(np.isfinite(h)):
        vcov[np.ix_(idx, idx)] = np.nan
        return vcov, False
    try:
        ok = bool(np.linalg.eigvalsh(-h).min() > 0)
        sub = np.linalg.inv(-h) if ok else np.linalg.pinv(-h)
    except np.linalg.LinAlgError:
        ok, sub = False, np.linalg.pinv(-h)
    vcov[np.ix_(idx, idx)] = sub
    return vcov, ok


# Short module-internal names of the public helpers above (kept so that this busy file's
# call sites, and tests/lmm/test_mixed_refusals.py, are unchanged; other modules import
# the public names).
_split = split_by_sizes
_logger = iteration_logger
_invert_information = invert_information
