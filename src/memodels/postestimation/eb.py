"""Empirical Bayes predictions of the random effects after the me commands, for every
engine: two-level and nested adaptive quadrature, and the Laplace approximation
([ME] meglm postestimation, Methods and formulas).

* EB means (``ebmeans``, the default) and their posterior covariances, by mean-variance
  adaptive quadrature with the estimation's number of points ("This multivariate
  integral is approximated by the mean-variance adaptive Gaussian quadrature"): two-level
  ``mvaghermite`` fits store them at estimation
  (:meth:`memodels.glmm.twolevel.TwoLevelQuadrature.posterior`), other two-level fits
  re-adapt (:mod:`memodels.glmm.posterior_twolevel`);
  nested fits compute them on demand over the whole tree of each top-level cluster
  (:mod:`memodels.glmm.posterior_nested`); ``intpoints()``, ``iterate()`` and
  ``tolerance()`` recompute them with that rule.
* EB modes (``ebmodes``) and the inverse negative Hessian at them: two-level fits store
  them; nested and crossed fits solve the joint posterior mode on sparse matrices
  (:mod:`memodels.glmm.posterior_modes`).
* After the Laplace approximation (one quadrature point, the default for crossed
  models) the EB mean is its one-point approximation, the posterior mode, unless
  ``intpoints()`` asks for more points (two-level fits).

Results are lists over the engine's random-effects terms (design order): means
(G_t, q_t) and covariances (G_t, q_t, q_t) indexed by the terms' group codes, and are
cached on the fit.
"""

from __future__ import annotations

import numpy as np

from ..errors import OptionError
from ..glmm.laplace_sparse import SparseLaplace
from ..glmm.nested import NestedQuadrature
from ..glmm.posterior_modes import nested_modes, nested_modes_weighted, sparse_modes
from ..glmm.posterior_nested import cluster_to_group, nested_posterior
from ..glmm.posterior_twolevel import twolevel_posterior
from ..glmm.repeated import merge_repeated
from ..glmm.scaling import unscale_effects
from ..glmm.twolevel import TwoLevelQuadrature
from ..lmm.terms import engine_terms

EBResult = tuple[list[np.ndarray], list[np.ndarray]]


def eb_estimates(res, *, modes: bool = False, points: int | None = None,
                 tol: float | None = None, maxiter: int | None = None,
                 wanted_effects: bool = False) -> EBResult:
    """EB means (or modes) and their covariances for every random-effects term (none for
    a model without random effects; an error when the effects themselves are
    ``wanted_effects``)."""
    fit = res.fit
    extra = fit.extra if fit.extra is not None else {}
    if extra.get("fixed_only"):
        if wanted_effects:
            raise OptionError("predict: the model has no random effects")
        return [], []  # no random effects: conditional predictions are fixed-only ones
    key = (bool(modes), points, tol, maxiter)
    cache = extra.setdefault("eb_cache", {})
    if key not in cache:
        means, covs = _compute(res, extra, modes, points, tol, maxiter)
        means, covs = _split_repeated(engine_terms(res.design.terms), means, covs)
        # the engine's random effects were rescaled (memodels.glmm.scaling): back to Z's units
        cache[key] = unscale_effects(extra.get("re_scaling"), means, covs)
    return cache[key]


def _split_repeated(terms, means: list[np.ndarray], covs: list[np.ndarray]) -> EBResult:
    """Per equation: the engine merges repeated equations at one level into one
    block-diagonal term (:mod:`memodels.glmm.repeated`); split its effects back."""
    merged, firsts = merge_repeated(terms)
    if len(merged) == len(terms):
        return means, covs
    out_m: list[np.ndarray] = []
    out_c: list[np.ndarray] = []
    bounds = firsts + [len(terms)]
    for k in range(len(merged)):
        pos = 0
        for t in terms[bounds[k] : bounds[k + 1]]:
            q = t.Z.shape[1]
            out_m.append(means[k][:, pos : pos + q])
            out_c.append(covs[k][:, pos : pos + q, pos : pos + q])
            pos += q
    return out_m, out_c


def _compute(res, extra: dict, modes: bool, points, tol, maxiter) -> EBResult:
    model = extra.get("model")
    params = extra.get("params_theta")
    adaptive = extra.get("adaptive")
    tol = 1e-8 if tol is None else float(tol)
    maxiter = 100 if maxiter is None else int(maxiter)
    if isinstance(model, TwoLevelQuadrature):
        if modes:
            return [np.asarray(extra["eb_modes"])], [np.asarray(extra["eb_mode_cov"])]
        if points is None and model.method == "laplace":
            # one quadrature point: the EB mean is the posterior mode
            return [np.asarray(extra["eb_modes"])], [np.asarray(extra["eb_mode_cov"])]
        if (points is None and model.method == "mvaghermite" and "eb_means" in extra
                and (tol, maxiter) == (1e-8, 100)):
            return [np.asarray(extra["eb_means"])], [np.asarray(extra["eb_cov"])]
        mean, cov = twolevel_posterior(model, params, adaptive, points=points, tol=tol,
                                       maxiter=maxiter)
        return [mean], [cov]
    if isinstance(model, NestedQuadrature):
        terms = merge_repeated(engine_terms(res.design.terms))[0]
        if modes:
            if model.w_obs is not None or model.w_lev is not None:
                return nested_modes_weighted(model, terms, params)
            return nested_modes(model, terms, params)
        means, covs = nested_posterior(model, params, adaptive, points=points, tol=tol,
                                       maxiter=maxiter)
        out_m, out_c = [], []
        for lev, t in enumerate(terms):
            c2g = cluster_to_group(model, lev, t.groups, t.n_groups)
            out_m.append(means[lev][c2g])
            out_c.append(covs[lev][c2g])
        return out_m, out_c
    if isinstance(model, SparseLaplace):
        return sparse_modes(model, params)
    raise NotImplementedError(f"empirical Bayes predictions are not available after "
                              f"{res.command} (no fitted engine stored)")


__all__ = ["eb_estimates"]
