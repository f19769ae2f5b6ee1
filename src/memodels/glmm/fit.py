"""Fitting a GLMM as Stata's me commands do ([ME] meglm, Remarks: starting values;
Methods and formulas).

1. "Fitting fixed-effects model": the GLM without random effects (its log likelihood is
   the LR-test comparison) gives beta and the ancillary parameters.
2. "Refining starting values": random-effects standard deviations start at 1 (Stata's
   default ``startvalues(fixedonly)``); the adaptive parameters are computed there.
3. "Fitting full model": Newton-Raphson with the exact Hessian, the adaptive parameters
   held fixed within an iteration and updated between iterations, until the scaled
   gradient g'(-H)^{-1}g and the relative change in the log likelihood are negligible.
4. The VCE is the inverse negative Hessian at the optimum, mapped from the optimization
   metric (Cholesky factor of Sigma) to Stata's estimation metric (ln sd, atanh corr).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
from threadpoolctl import threadpool_limits

from ..errors import ConvergenceWarning, OptionError
from ..lmm.terms import EngineTerm
from ..optimize import numdiff
from ..optimize.maximize import Maximize
from . import divergence, honesty, newton, resolved_newton
from .constraints import ConstrainedModel, EstimationConstraints, constrain
from .fixed_only import check_fixed_only_options, fixed_only_fit
from .laplace_boundary import lift_start
from .laplace_exact import escape_saddles, exact_gradient_fit, laplace_start
from .laplace_sparse import SparseLaplace
from .nested import NestedQuadrature
from .quasi_newton import maximize_lbfgs
from .repeated import merge_repeated, restore_terms
from .singular_boundary import singular_message
from .start import GridSearch, StartSpec, grid_search, initial_params
from .twolevel import Adaptive, TwoLevelQuadrature
from .types import GLMMFit
from .weights import any_weights, check_weights_allowed, fixed_model_weights

STAGES = ("Fitting fixed-effects model:", "Refining starting values:", "Fitting full model:")


def fit_glmm(
    y: np.ndarray,
    X: np.ndarray,
    terms: list[EngineTerm],
    family,
    *,
    offset: np.ndarray | None = None,
    intmethod: str = "mvaghermite",
    intpoints: int = 7,
    log: Callable[[str, int, float], None] | None = None,
    iterate: int = 300,
    start: np.ndarray | None = None,
    nrtolerance: float = 1e-5,
    resolve_modes: bool = False,
    weights: np.ndarray | None = None,
    level_weights: list[np.ndarray | None] | None = None,
    constraints: EstimationConstraints | None = None,
    start_spec: StartSpec | None = None,
    noestimate: bool = False,
    maximize: Maximize | None = None,
    re_options: dict | None = None,
) -> GLMMFit:
    """``resolve_modes`` (meqrlogit/meqrpoisson): mode-curvature adaptive quadrature with the
    posterior modes re-solved at every likelihood evaluation (Pinheiro and Bates 1995),
    instead of the me commands' adaptive parameters held fixed within an iteration.

    ``weights`` (observation weights) and ``level_weights`` (per term: None or the level's
    weights copied to its observations) give the weighted (pseudo)likelihood of [ME] meglm,
    Methods and formulas, Survey data (:mod:`memodels.glmm.weights`).

    Repeated equations at one level are fitted as one block-diagonal term
    (:mod:`memodels.glmm.repeated`); ``constraints`` (linear, in Stata's estimation metric)
    are imposed by reparameterization (:mod:`memodels.glmm.constraints`).

    ``maximize`` (:class:`memodels.optimize.maximize.Maximize`): Stata's maximize_options
    (iterate, tolerances, difficult, dnumerical, the trace displays); without it,
    ``iterate`` and ``nrtolerance`` with Stata's other defaults.  ``re_options`` (meqr's
    retolerance()/reiterate()): ``tol``/``maxiter`` of the posterior-mode solve at each
    evaluation of the re-solved-modes fits."""
    mx = maximize if maximize is not None else Maximize(iterate=iterate,
                                                        nrtolerance=nrtolerance)
    if intmethod == "mvaghermite" and intpoints == 1:
        intmethod = "laplace"  # one adaptive node: the Laplacian approximation
    merged, firsts = merge_repeated(terms)
    if level_weights and len(merged) < len(terms):
        level_weights = [level_weights[i] for i in firsts]
    with threadpool_limits(limits=1, user_api="blas"):
        fit = _fit(y, X, merged, family, offset, intmethod, intpoints, log, start,
                   mx, resolve_modes, weights, level_weights, constraints,
                   start_spec, terms, noestimate, re_options or {})
    return restore_terms(fit, terms)


def _fit(y, X, terms, family, offset, intmethod, intpoints, log, start, mx,
         resolve_modes=False, weights=None, level_weights=None, constraints=None,
         start_spec=None, design_terms=None, noestimate=False, re_options=None):
    from ..glm.fit import fit_glm

    if not terms:
        check_fixed_only_options(constraints, start_spec, noestimate, resolve_modes)
    crossed = not _is_nested(terms)
    check_weights_allowed(any_weights(weights, level_weights), intmethod, crossed)
    if crossed and intmethod != "laplace":
        raise OptionError(
            f"intmethod({intmethod}) is not available for crossed random effects; "
            "the crossed model is fitted by the Laplace approximation (intmethod(laplace))"
        )
    term = terms[0] if terms else None
    history: list[tuple[str, int, float]] = []

    def note(stage: str, it: int, val: float, flag: str = "") -> None:
        history.append((stage, it, val))
        if log is not None:
            if flag:
                log(stage, it, val, flag)
            else:
                log(stage, it, val)

    fixed_weights = fixed_model_weights(weights, level_weights, y.shape[0])
    glm = fit_glm(y, X, family, offset=offset, weights=fixed_weights,
                  start=None if terms or start is None else start)
    for it, val in getattr(glm, "log", []):
        note(STAGES[0], it, val)
    if not terms:
        return fixed_only_fit(glm, family, history, intmethod, intpoints, (y, X, offset),
                              fixed_weights)
    if intmethod == "laplace" and (len(terms) > 1 or (constraints is None and _single_level_sparse(
            terms, family, resolve_modes))):
        model = SparseLaplace(y, X, terms, family, offset=offset)
    elif len(terms) == 1:
        model = TwoLevelQuadrature(
            y, X, term.Z, term.groups, term.n_groups, family, term.structure,
            offset=offset, method=intmethod, points=intpoints, weights=weights,
            level_weights=level_weights[0] if level_weights else None,
        )
    else:
        model = NestedQuadrature(y, X, terms, family, offset=offset, method=intmethod,
                                 points=intpoints, weights=weights, level_weights=level_weights)
    spec = start_spec or StartSpec()
    design_terms = design_terms if design_terms is not None else terms
    if start is None:
        theta0 = [t.structure.start_theta(1.0) for t in design_terms]
        params = initial_params(spec, y, X, design_terms, family, offset, glm, fixed_weights,
                                theta0)
    else:
        params = np.asarray(start, float).copy()
    k_fixed = model.p + model.n_aux
    resid = model.p if getattr(family, "name", "") == "gaussian" else None
    if constraints is not None and spec.grids:
        raise OptionError("startgrid() with constraints() or fixed()/pattern() covariances "
                          "is not implemented")
    if isinstance(model, SparseLaplace):
        if (spec == StartSpec() and model.loglik_and_gradient(params)[1] is None):
            params = laplace_start(model, params)
        model, params = constrain(model, terms, params, constraints)
        params = grid_search(spec, params, design_terms, k_fixed,
                             lambda par: _safe(model.loglik, par),
                             lambda it, ll: note(STAGES[1], it, ll), resid,
                             default_grid=constraints is None)
        if noestimate:
            return _not_estimated(model, params, glm, family, terms, history, intmethod, 1)
        return _fit_laplace(model, params, None, glm, family, terms, note, history, mx)

    adapted: dict[bytes, object] = {}  # the adaptive parameters of the best grid node
    best = [-np.inf]

    def at_start(par: np.ndarray) -> float:
        def value(q: np.ndarray) -> float:
            ad_q = model.adapt(q, None)
            ll_q = model.loglik(q, ad_q)
            if ll_q > best[0]:
                best[0] = ll_q
                adapted.clear()
                adapted[q.tobytes()] = ad_q
            return ll_q
        return _safe(value, par)

    model, params = constrain(model, terms, params, constraints)
    params = grid_search(spec, params, design_terms, k_fixed, at_start,
                         lambda it, ll: note(STAGES[1], it, ll), resid,
                         default_grid=constraints is None)
    if noestimate:
        return _not_estimated(model, params, glm, family, terms, history, intmethod, intpoints)
    def adaptive_at(par: np.ndarray):
        """The best grid node's adaptive parameters when ``par`` is it, else computed."""
        cached = adapted.get(par.tobytes())
        return cached if cached is not None else model.adapt(par, None)

    ad = adaptive_at(params)

    if intmethod == "laplace" or resolve_modes:
        return _fit_laplace(model, params, ad, glm, family, terms, note, history, mx,
                            re_options)

    def infeasible(par: np.ndarray):
        # not feasible (e.g. overflow in the derivatives): Stata's default grid
        par = grid_search(StartSpec(grids=(GridSearch(),)), par, design_terms,
                          k_fixed, at_start, lambda i, v: note(STAGES[1], i, v), resid,
                          infeasible_start=True)
        return par, adaptive_at(par)

    run = newton.run(model, params, ad, mx, lambda i, v, flag: note(STAGES[2], i, v, flag),
                     infeasible if not spec.grids and constraints is None else None)
    params, ad, converged, it = run.params, run.adaptive, run.converged, run.iterations
    if not converged:
        warnings.warn("convergence not achieved", ConvergenceWarning, stacklevel=3)

    ad = model.adapt(params, ad)
    llf, grad, hess = model.derivatives(params, ad)
    return _assemble(model, params, ad, llf, grad, hess, glm, family, terms, history,
                     converged, it, intmethod, intpoints, singular=run.singular)


def _assemble(model, params, ad, llf, grad, hess, glm, family, terms, history, converged, it,
              intmethod, intpoints, singular: int = 0) -> GLMMFit:
    cons = model if isinstance(model, ConstrainedModel) else None
    if cons is not None:  # back to the engine's parameters; VCE from the constrained fit
        model, params, vcov_cons, hessian_ok = cons.unwrap(params, hess)
    else:
        vcov_theta, hessian_ok = _invert(hess)
    # map the variance blocks to Stata's metric (ln sd, atanh corr)
    k = model.p + model.n_aux
    sizes = [t.structure.n_theta for t in terms]

    def to_phi(th: np.ndarray) -> np.ndarray:
        return _phi(terms, th)

    theta = params[k:]
    phi = to_phi(theta)
    jac = np.eye(params.size)
    jac[k:, k:] = numdiff.jacobian(to_phi, theta, rel=1e-7)
    vcov = jac @ vcov_theta @ jac.T if cons is None else vcov_cons
    out = np.concatenate([params[:k], phi])
    boundary, pos = [], 0
    for t, size in zip(terms, sizes, strict=True):
        lam = t.structure.relative_factor(theta[pos : pos + size])
        boundary += [bool(sd < 1e-6) for sd in np.sqrt(np.diag(lam @ lam.T))]
        pos += size
    # robust VCE (memodels.glmm.robust): the Hessian in the optimizer's parameters, the
    # Jacobian theta -> estimation metric, and the constrained parameterization if any
    extra = {"adaptive": ad, "gradient": grad, "model": model, "params_theta": params,
             "hessian": hess, "jacobian": jac, "constrained": cons}
    if hasattr(model, "posterior"):
        extra["eb_means"], extra["eb_cov"] = model.posterior(params, ad)
        extra["eb_modes"], extra["eb_mode_cov"] = model.posterior_modes(params, ad)
    unbounded, large = [], []
    if cons is None and getattr(family, "name", "") != "gaussian":
        found = divergence.large_variances(terms, params, k, llf,
                                           lambda par: _loglik_at(model, par, ad))
        unbounded, large = divergence.divergence_messages(found)
    # a singular covariance reached by the Newton iterations (glmm.singular_boundary) is
    # a boundary solution: its Hessian is not negative definite along the zero direction
    converged, notes = honesty.verdict(converged, hessian_ok, boundary + [singular > 0],
                                       llf, family, unbounded)
    if singular:
        notes.append(singular_message(singular))
    for text in large:
        warnings.warn(text, ConvergenceWarning, stacklevel=3)
    notes += large
    messages = [] if converged else ["convergence not achieved"]
    if not hessian_ok:
        messages.append("Hessian is not negative semidefinite")
    messages += notes
    if np.isfinite(glm.llf) and llf < glm.llf - 1e-3:
        # the random-effects model nests the fixed-effects model (variances 0), whose log
        # likelihood every rule here reproduces exactly: below it, the fit is not usable
        text = (f"log likelihood {llf:.4f} is below the fixed-effects model's "
                f"({glm.llf:.4f}): the integration is too coarse (increase intpoints()) or "
                "the maximum was not reached")
        messages.append(text)
        warnings.warn(text, ConvergenceWarning, stacklevel=4)
    return GLMMFit(
        llf=llf, params=out, vcov=vcov, n_beta=model.p, n_aux=model.n_aux,
        aux_names=tuple(family.aux_names), structures=[t.structure for t in terms],
        term_sources=[t.source for t in terms], converged=converged, iterations=it,
        hessian_ok=hessian_ok, ll_fixed=float(glm.llf), intmethod=intmethod,
        intpoints=1 if intmethod == "laplace" else intpoints, boundary=boundary,
        log=history, messages=messages, extra=extra,
        constraints=cons.report() if cons is not None else None,
    )


def _loglik_at(model, par: np.ndarray, ad) -> float:
    """The fit's log likelihood at ``par`` (adaptive parameters re-computed from ``ad``)."""
    if isinstance(model, SparseLaplace):
        return _safe(model.loglik, par)
    return _safe(lambda q: model.loglik(q, model.adapt(q, ad)), par)


def _fit_laplace(model, params, ad, glm, family, terms, note, history, mx, re_options=None):
    """The Laplace approximation proper: posterior modes and curvatures re-solved at every
    evaluation (with one node a fixed-node Newton step would have no prior penalty on
    Sigma), maximized with finite-difference derivatives of the approximated likelihood
    (:func:`memodels.glmm.quasi_newton.maximize_lbfgs`).  meqr's quadrature fits with
    several points use Newton on the engine's exact fixed-mode derivatives instead
    (:mod:`memodels.glmm.resolved_newton`)."""
    if any(name != "nr" for name, _ in mx.techniques):
        raise OptionError("technique() other than nr is implemented for the adaptive "
                          "quadrature fits only; the Laplacian approximation (and meqr) "
                          "use Newton-Raphson after a quasi-Newton stage")
    state = {"ad": ad}
    sparse = isinstance(model, SparseLaplace)
    if sparse and not mx.dnumerical:
        free = not isinstance(model, ConstrainedModel)  # zero sds: the free engine only
        if free:
            params = lift_start(model, params)
        exact = exact_gradient_fit(model, params, lambda i, v: note(STAGES[2], i, v), mx)
        if exact is not None and free:
            exact = escape_saddles(model, exact, lambda i, v: note(STAGES[2], i, v), mx)
        if exact is not None:
            params, llf, grad, hess, converged, iters = exact
            _warn_unless(converged)
            ad = None
            if len(terms) == 1:  # the two-level engine gives the EB means and modes
                t = terms[0]
                model = TwoLevelQuadrature(model.y, model.X, t.Z, t.groups, t.n_groups,
                                           family, t.structure, offset=model.offset,
                                           method="laplace")
                ad = model.adapt(params, None)
            return _assemble(model, params, ad, llf, grad, hess, glm, family, terms,
                             history, converged, iters, "laplace", 1)

    if not sparse and resolved_newton.applies(model, mx):
        res = resolved_newton.run(model, params, state["ad"], mx,
                                  lambda i, v: note(STAGES[2], i, v), re_options)
        _warn_unless(res.converged)
        return _assemble(model, res.params, res.adaptive, res.llf, res.grad, res.hess, glm,
                         family, terms, history, res.converged, res.iterations, model.method,
                         _points_of(model))

    def ll_of(par: np.ndarray) -> float:
        if sparse:
            val = model.loglik(par)
            return val if np.isfinite(val) else -np.inf
        try:
            state["ad"] = model.adapt(par, state["ad"],
                                      **resolved_newton.mode_options(re_options))
        except (np.linalg.LinAlgError, FloatingPointError, ValueError):
            return -np.inf
        val = model.loglik(par, state["ad"])
        return val if np.isfinite(val) else -np.inf

    # gtol: the finite-difference gradient of a criterion with re-solved modes is accurate
    # to about 1e-5 at best; asking for less only makes the optimizer stall
    res = maximize_lbfgs(ll_of, params, mx, lambda i, v: note(STAGES[2], i, v),
                         gradient=None, hessian=lambda p: numdiff.hessian(ll_of, p, rel=1e-4),
                         fd_gradient=lambda p: numdiff.gradient(ll_of, p),
                         gtol=1e-5, ftol=1e-13, polish=2)
    params, grad, hess = res.params, res.grad, res.hess
    _warn_unless(res.converged)
    llf = ll_of(params)  # leaves the adaptive parameters at the reported optimum
    return _assemble(model, params, state["ad"], llf, grad, hess, glm, family, terms, history,
                     res.converged, res.iterations, model.method, _points_of(model))


def _points_of(model) -> int:
    """The quadrature points per dimension of a quadrature engine (1: Laplace)."""
    points = 1 if model.method == "laplace" else (
        model.rules[0][0].shape[0] ** (1 / max(model.q[0], 1)) if hasattr(model, "rules")
        else model.nodes.shape[0] ** (1 / max(model.q, 1)))
    return int(round(points))


def _warn_unless(converged: bool) -> None:
    if not converged:
        warnings.warn("convergence not achieved", ConvergenceWarning, stacklevel=5)


def _single_level_sparse(terms: list[EngineTerm], family, resolve_modes: bool) -> bool:
    """A two-level Laplace fit runs on the sparse engine, whose exact gradient
    (memodels.glmm.laplace_gradient) makes it several times faster than finite differences
    of the per-cluster Laplace approximation."""
    return len(terms) == 1 and not resolve_modes


def _is_nested(terms: list[EngineTerm]) -> bool:
    """True when every term's groups are nested in the previous term's (Stata's nested
    levels); crossed designs (and repeated levels) are not.  A single outer group is
    nested when it is a real level with one group in the sample (``|| school: ||
    class:`` on one school); an ``_all: R.b`` term (one group whose random effects are
    the indicators of ``b``'s levels) makes the design crossed."""
    for outer, inner in zip(terms, terms[1:], strict=False):
        pairs = np.unique(np.stack([inner.groups, outer.groups]), axis=1)
        if (pairs.shape[1] != inner.n_groups or inner.n_groups == outer.n_groups
                or (outer.n_groups == 1 and _factor_indicators(outer))):
            return False
    return True


def _factor_indicators(term: EngineTerm) -> bool:
    """True when the term's Z holds the indicators of a factor's levels (an ``R.``
    term): at least two 0/1 columns with exactly one 1 in each row."""
    z = np.asarray(term.Z)
    if z.ndim != 2 or z.shape[1] < 2:
        return False
    return bool(np.all((z == 0) | (z == 1)) and np.all(z.sum(axis=1) == 1))


def _phi(terms, theta: np.ndarray) -> np.ndarray:
    """The variance components in Stata's estimation metric (ln sd, atanh corr) from the
    engine's Cholesky-factor parameters, term by term."""
    out, pos = [], 0
    for t in terms:
        st = t.structure
        lam = st.relative_factor(theta[pos : pos + st.n_theta])
        out.append(st.phi_from_sigma(lam @ lam.T))
        pos += st.n_theta
    return np.concatenate(out) if out else np.zeros(0)


def _safe(func: Callable[[np.ndarray], float], par: np.ndarray) -> float:
    """The log likelihood at ``par``, -inf where it cannot be evaluated."""
    try:
        with np.errstate(all="ignore"):
            val = float(func(par))
    except (np.linalg.LinAlgError, FloatingPointError, ValueError, ZeroDivisionError):
        return -np.inf
    return val if np.isfinite(val) else -np.inf


def _not_estimated(model, params, glm, family, terms, history, intmethod, intpoints
                   ) -> GLMMFit:
    """``noestimate``: the starting values in the estimation metric, not a fit (no VCE)."""
    if isinstance(model, ConstrainedModel):  # the free parameters -> the engine's
        params = model.full(params)
    k = model.p + model.n_aux
    out = np.concatenate([params[:k], _phi(terms, params[k:])])
    llf = next((ll for stage, _, ll in reversed(history) if stage == STAGES[1]), np.nan)
    return GLMMFit(
        llf=float(llf), params=out, vcov=np.full((out.size, out.size), np.nan),
        n_beta=model.p, n_aux=model.n_aux, aux_names=tuple(family.aux_names),
        structures=[t.structure for t in terms], term_sources=[t.source for t in terms],
        converged=False, iterations=0, hessian_ok=False, ll_fixed=float(glm.llf),
        intmethod=intmethod, intpoints=intpoints, log=history,
        messages=["noestimate: starting values shown; the model was not fitted"],
        extra={"noestimate": True, "params_theta": params, "model": model},
    )


def _invert(hess: np.ndarray) -> tuple[np.ndarray, bool]:
    try:
        ok = bool(np.linalg.eigvalsh(-hess).min() > 0)
        return (np.linalg.inv(-hess) if ok else np.linalg.pinv(-hess)), ok
    except np.linalg.LinAlgError:
        return np.full_like(hess, np.nan), False


__all__ = ["fit_glmm", "Adaptive"]


# public for the Dask engine (memodels.distributed.glmm), which runs the same stages
assemble = _assemble
