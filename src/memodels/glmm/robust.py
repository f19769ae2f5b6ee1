"""Robust (sandwich) VCE of a GLMM fit, clustered at the top level or at a coarser
``vce(cluster clustvar)`` ([ME] meglm, Options, SE/Robust).

"If vce(robust) is specified, robust variances are clustered at the highest level in the
multilevel model" and "Robust standard errors are clustered at the top level of the model
... unless you specify vce(cluster clustvar), where clustvar identifies an even higher
level of grouping" ([ME] meglm, Remarks, example 5).  The (pseudo)log likelihood is a sum
over top-level clusters, L = sum_j w_j log L_j, so with s_j the score of cluster j's term
(:meth:`TwoLevelQuadrature.scores`, :meth:`NestedQuadrature.scores`; their sum is the
gradient) and s_c = sum_{j in c} s_j over the clusters c of clustvar,

    V = H^{-1} { M/(M-1) sum_c s_c s_c' } H^{-1},

H the Hessian of L, both in the optimizer's parameter metric (Cholesky factors of Sigma)
at the optimum, with the adaptive parameters held at their fitted values as in the fit
itself.  V is then mapped to Stata's estimation metric (ln sd, atanh corr) with the
Jacobian the fit used for the model-based VCE (``fit.extra["jacobian"]``); under
constraints the optimizer's parameters are the free ones and the scores and the
Jacobian are taken through the constrained parameterization.

For Laplace fits (the sparse engine) the clusters' scores are central differences of the
per-cluster Laplace approximations with the posterior modes re-solved (two-level and
two nested levels).
"""

from __future__ import annotations

import numpy as np

from ..errors import DataError, OptionError
from ..optimize import numdiff
from .types import GLMMFit


def sandwich(scores: np.ndarray, hess: np.ndarray) -> np.ndarray:
    """H^{-1} {M/(M-1) S'S} H^{-1} for cluster scores S (M, P) and Hessian H (P, P)."""
    m = scores.shape[0]
    if m < 2:
        raise OptionError("robust variance requires at least two clusters")
    meat = (m / (m - 1)) * scores.T @ scores
    neg = -hess
    try:
        ok = bool(np.linalg.eigvalsh(neg).min() > 0)
    except np.linalg.LinAlgError:
        ok = False
    bread = np.linalg.inv(neg) if ok else np.linalg.pinv(neg)
    return bread @ meat @ bread


def cluster_map(top_groups: np.ndarray, n_top: int, values: np.ndarray,
                level: str, clustvar: str) -> np.ndarray:
    """Index (0..C-1) of the cluster of every top-level group (0..n_top-1), from
    per-observation ``values``; each top-level group must lie within one cluster."""
    codes = np.unique(np.asarray(values), return_inverse=True)[1].reshape(-1)
    top = np.asarray(top_groups, np.int64)
    out = np.full(n_top, -1, dtype=np.int64)
    out[top] = codes
    if np.any(out[top] != codes):
        raise DataError(f"highest-level groups ({level}) are not nested within {clustvar}")
    return out


def cluster_scores(fit: GLMMFit) -> np.ndarray:
    """Scores (M_top, P) of the top-level clusters in the optimizer's metric."""
    model = fit.extra["model"]
    params = fit.extra["params_theta"]
    if getattr(model, "method", "") == "laplace":
        return _laplace_scores(model, params)
    if not hasattr(model, "scores"):
        raise OptionError("vce(robust) is not available for this model")
    return model.scores(params, fit.extra["adaptive"])


def robust_vcov(fit: GLMMFit, clusters: np.ndarray | None = None) -> np.ndarray:
    """The sandwich VCE in Stata's estimation metric (the metric of ``fit.vcov``);
    ``clusters`` maps each top-level cluster to its vce(cluster) group (None: the
    top-level clusters themselves)."""
    scores = cluster_scores(fit)
    to_opt, jac = _optimizer_metric(fit)
    if to_opt is not None:
        scores = scores @ to_opt
    if clusters is not None:
        summed = np.zeros((int(clusters.max()) + 1, scores.shape[1]))
        np.add.at(summed, clusters, scores)
        scores = summed
    v_opt = sandwich(scores, fit.extra["hessian"])
    return jac @ v_opt @ jac.T


def optimizer_metric(fit: GLMMFit) -> tuple[np.ndarray | None, np.ndarray]:
    """Public name of :func:`_optimizer_metric` (used by :mod:`memodels.glmm.survey`)."""
    return _optimizer_metric(fit)


def _optimizer_metric(fit: GLMMFit) -> tuple[np.ndarray | None, np.ndarray]:
    """(d engine params / d optimizer params or None when they are the same, d estimation
    metric / d optimizer params).  Under constraints() or fixed()/pattern() covariances
    the optimizer works on the free parameters z of :mod:`memodels.glmm.constraints`;
    the fit's Hessian is in z, and both maps are differentiated through the
    parameterization (constrained coordinates get zero rows: variance exactly 0)."""
    cons = fit.extra.get("constrained")
    if cons is None:
        return None, fit.extra["jacobian"]
    z = cons.free_from_full(fit.extra["params_theta"])
    to_engine = numdiff.jacobian(cons.full, z, rel=1e-7)
    jac = numdiff.jacobian(lambda zz: _estimation_metric(fit, cons.full(zz)), z, rel=1e-7)
    scaling = fit.extra.get("scaling_jacobian")  # memodels.glmm.scaling: engine -> original
    if scaling is not None:
        jac = scaling @ jac
    fixed = getattr(getattr(fit, "constraints", None), "fixed", None)
    if fixed is not None:
        jac[np.asarray(fixed, bool)] = 0.0
    return to_engine, jac


def _estimation_metric(fit: GLMMFit, params: np.ndarray) -> np.ndarray:
    """Engine parameters (beta, aux, theta) -> Stata's (beta, aux, ln sd / atanh corr)."""
    k = fit.n_beta + fit.n_aux
    out, pos = [params[:k]], k
    for st in fit.structures:
        lam = st.relative_factor(params[pos : pos + st.n_theta])
        out.append(st.phi_from_sigma(lam @ lam.T))
        pos += st.n_theta
    return np.concatenate(out)


def apply_robust(fit: GLMMFit, clusters: np.ndarray | None = None) -> None:
    """Replace ``fit.vcov`` by the robust VCE (the model-based one is kept in
    ``fit.extra["vcov_oim"]``)."""
    fit.extra["vcov_oim"] = fit.vcov
    fit.vcov = robust_vcov(fit, clusters)


def _laplace_scores(model, params: np.ndarray) -> np.ndarray:
    """Central differences of the per-top-cluster Laplace log likelihoods (modes and
    curvatures re-solved at every evaluation), via the quadrature engines with one node."""
    from .nested import NestedQuadrature
    from .twolevel import TwoLevelQuadrature

    if hasattr(model, "cluster_loglik") and hasattr(model, "adapt"):
        quad = model  # a quadrature engine with one node, modes re-solved by adapt()
        return _numeric_cluster_scores(quad, params)
    terms = model.terms
    if len(terms) == 1:
        t = terms[0]
        quad = TwoLevelQuadrature(model.y, model.X, t.Z, t.groups, t.n_groups, model.family,
                                  t.structure, offset=model.offset, method="laplace")
    elif len(terms) == 2:
        quad = NestedQuadrature(model.y, model.X, terms, model.family, offset=model.offset,
                                method="laplace")
    else:
        raise OptionError("vce(robust) with intmethod(laplace) and more than two nested "
                          "levels is not implemented yet")
    return _numeric_cluster_scores(quad, params)


def _numeric_cluster_scores(quad, params: np.ndarray) -> np.ndarray:
    start = quad.adapt(params, None)

    def per_cluster(par: np.ndarray) -> np.ndarray:
        return quad.cluster_loglik(par, quad.adapt(par, start))[0]

    return numdiff.jacobian(per_cluster, params, rel=1e-5)


__all__ = ["sandwich", "cluster_map", "cluster_scores", "robust_vcov", "apply_robust",
           "optimizer_metric"]
