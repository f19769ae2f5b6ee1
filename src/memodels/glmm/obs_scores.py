"""Per-observation scores of a quadrature GLMM fit, in the engine's parameter metric
(beta, ancillary parameters, relative-factor parameters theta of each level).

[ME] meglm, Methods and formulas: the log likelihood is a sum over top-level clusters of
log L_j, each approximated by (adaptive) quadrature.  With the adaptive parameters held
fixed, as in the fit, the nodes v_k (standardized effects) and their weights do not
depend on the parameters, eta_ik = x_i beta + z_i' Lambda v_k is linear in them, and

    d log L_j / d par = sum_{i in j} sum_k W_j(k) d log f(y_i | eta_ik) / d par,

W_j(k) the posterior weight of node (path) k.  The observation's term of that sum is its
score: for beta, E_post{d log f_i / d eta} x_i; for theta, E_post{d log f_i / d eta
z_i' dLambda/dtheta v}; for an ancillary parameter, E_post{d log f_i / d aux}.  The scores
of a cluster's observations add up to the cluster's gradient, and over the sample to the
gradient of the fitted log likelihood (zero at the estimates).  Rows are returned in the
order of the data given to the engine.  Weighted fits (:mod:`memodels.glmm.weights`): the
posterior is that of the weighted integrand and the scores are not multiplied by the
weights (as Stata's score variables), so the weighted sum (observation weight times the
weights of its clusters) is the gradient.
"""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp

from .nested import NestedQuadrature
from .twolevel import TwoLevelQuadrature


def observation_scores(model, params: np.ndarray, adaptive) -> np.ndarray:
    """(n, P) scores of every observation (data order) at ``params`` (engine metric)."""
    if isinstance(model, TwoLevelQuadrature):
        sorted_scores = _two_level(model, params, adaptive)
    elif isinstance(model, NestedQuadrature):
        sorted_scores = _nested(model, params, adaptive)
    else:
        raise NotImplementedError(
            "scores are available after quadrature fits (not after the Laplace "
            "approximation of crossed or intmethod(laplace) models)")
    out = np.empty_like(sorted_scores)
    out[model.order] = sorted_scores
    return out


def _aux_part(model, eta, aux, weights) -> np.ndarray:
    """Posterior means of d log f / d aux per observation, (n, a)."""
    da, _, _ = model.family.aux_derivatives(model.y[:, None], eta, aux)
    return np.einsum("aik,ik->ia", np.asarray(da), weights)


def _two_level(model: TwoLevelQuadrature, params, ad) -> np.ndarray:
    beta, aux, theta = model.split(params)
    st = model.structure
    lam = st.relative_factor(theta)
    v, logw = model._nodes(ad)
    vi = v[model.cl]  # (n, K, q)
    eta = (model.X @ beta + model.offset)[:, None] + np.einsum("iq,ikq->ik", model.Z @ lam, vi)
    auxv = aux if model.n_aux else None
    lf, s, _ = model.family.derivatives(model.y[:, None], eta, auxv)
    if model.w_obs is not None:  # the posterior of the weighted integrand
        lf = lf * model.w_obs[:, None]
    ljk = model._sum(lf) + logw
    pw = np.exp(ljk - logsumexp(ljk, axis=1)[:, None])[model.cl]  # (n, K)
    ws = pw * s
    parts = [ws.sum(1)[:, None] * model.X]
    if model.n_aux:
        parts.append(_aux_part(model, eta, aux, pw))
    if st.n_theta:
        u = np.einsum("iq,mqr->imr", model.Z, st.factor_derivatives(theta))
        parts.append(np.einsum("ik,imr,ikr->im", ws, u, vi))
    return np.concatenate(parts, axis=1)


def _nested(model: NestedQuadrature, params, ads) -> np.ndarray:
    beta, aux, thetas = model.split(params)
    nodes = [model._level_nodes(lev, ads[lev]) for lev in range(model.depth)]
    eta, _ = model._eta(beta, thetas, nodes)
    n = eta.shape[0]
    auxv = aux if model.n_aux else None
    lf, s, _ = model.family.derivatives(model.y[:, None], eta, auxv)
    js, rs = model._integrate(lf, nodes)
    _, ws = model._posteriors(js, rs)
    wobs = ws[-1][model.cl[-1]]  # (n, Ktot): posterior weight of each full node path
    wsc = wobs * s
    parts = [wsc.sum(1)[:, None] * model.X]
    if model.n_aux:
        parts.append(_aux_part(model, eta, aux, wobs))
    for lev in range(model.depth):
        st = model.structures[lev]
        if not st.n_theta:
            continue
        u = np.einsum("iq,mqr->imr", model.Z[lev], st.factor_derivatives(thetas[lev]))
        vl = nodes[lev][0][model.cl[lev]]  # (n, prod K_<l, K_l, q)
        vl = vl.reshape(n, -1, vl.shape[-1])  # paths k_<=l
        inner = wsc.reshape(n, vl.shape[1], -1).sum(2)  # sum over the inner levels' nodes
        parts.append(np.einsum("ik,imr,ikr->im", inner, u, vl))
    return np.concatenate(parts, axis=1)


__all__ = ["observation_scores"]
