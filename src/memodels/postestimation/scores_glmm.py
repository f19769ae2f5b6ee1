"""``predict, scores`` after the me commands: the score of every parameter of e(b) for
every observation ([ME] meglm postestimation: "scores calculates the scores for each
coefficient in e(b)").

The engine gives each observation's share of the gradient of the fitted log likelihood
with respect to its own parameters (beta, ancillary parameters, relative-factor
parameters; :mod:`memodels.glmm.obs_scores`).  The chain rule takes them to e(b)'s
metric -- fixed effects, ancillary parameters as estimated (``/lnalpha``, ``/cut1`` ...),
variances and covariances of the random effects (``var(_cons[district])``,
``cov(week,_cons[id])``) and ``var(e.depvar)`` -- with J = d(e(b))/d(engine):

    scores_e(b) = scores_engine J^{-1}.

Summed over the estimation sample the scores are the gradient of the log likelihood,
zero at the estimates (up to the optimizer's tolerance) -- after adaptive quadrature.
After ``intmethod(laplace)`` the one-node scores hold the modes and curvatures fixed and
do not add up to the Laplace gradient: a warning says so (the robust and survey VCEs use
numerical cluster scores of the Laplace likelihood instead,
:func:`memodels.glmm.robust.cluster_scores`).  Scores exist for the estimation sample
only (NaN for other rows of ``data=``).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..errors import MemodelsWarning
from ..glmm.obs_scores import observation_scores
from ..optimize import numdiff
from ..results.glmm import _blocks, variance_rows_me


def _engine_to_estimation(fit, params: np.ndarray) -> np.ndarray:
    """d(beta, aux, ln sd / atanh corr) / d(beta, aux, theta); when the engine fitted a
    rescaled design (:mod:`memodels.glmm.scaling`), its parameters are the rescaled ones
    and the map back to the original metric is included."""
    k = fit.n_beta + fit.n_aux
    sizes = [s.n_theta for s in fit.structures]

    def to_phi(th: np.ndarray) -> np.ndarray:
        out, pos = [], 0
        for st, size in zip(fit.structures, sizes, strict=True):
            lam = st.relative_factor(th[pos : pos + size])
            out.append(st.phi_from_sigma(lam @ lam.T))
            pos += size
        return np.concatenate(out) if out else np.zeros(0)

    jac = np.eye(params.size)
    if params.size > k:
        jac[k:, k:] = numdiff.jacobian(to_phi, params[k:], rel=1e-7)
    scaling = (fit.extra or {}).get("scaling_jacobian")  # memodels.glmm.scaling
    return jac if scaling is None else scaling @ jac


def _estimation_to_reported(res) -> np.ndarray:
    """d(e(b)) / d(beta, aux, ln sd / atanh corr), rows in the order of ``res.params``
    (as :func:`memodels.results.glmm.build_glmm_results` orders them)."""
    fit = res.fit
    nb, na, total = fit.n_beta, fit.n_aux, fit.params.size
    grads, resid = [], []
    for k in range(nb):
        grads.append(np.eye(total)[k])
    for k in range(na):
        g = np.zeros(total)
        if res.family == "gaussian" and k == 0:  # /lnsigma -> var(e.depvar)
            g[nb] = 2 * np.exp(2 * fit.params[nb])
            resid.append(g)
            continue
        g[nb + k] = 1.0
        grads.append(g)
    _, vgrads = variance_rows_me(_blocks(res.design, fit), fit.phi, nb + na, total)
    jac = np.vstack(grads + list(vgrads) + resid)
    if jac.shape[0] != len(res.params):
        raise NotImplementedError("scores: e(b) does not match the engine's parameters")
    return jac


LAPLACE_SCORES_WARNING = (
    "predict, scores after intmethod(laplace): the scores hold each cluster's posterior "
    "mode and curvature fixed (one-node quadrature), so they do not add up to the "
    "gradient of the Laplace log likelihood (their sum is not zero at the estimates); "
    "refit with intmethod(mvaghermite) for scores that do")


def glmm_scores(res, index: pd.Index) -> pd.DataFrame:
    """Scores of the estimation sample's observations, aligned with ``index``."""
    fit = res.fit
    extra = fit.extra or {}
    params = np.asarray(extra["params_theta"], float)
    if extra.get("fixed_only"):
        from ..glmm.fixed_only import fixed_only_scores

        eng = fixed_only_scores(fit)
    else:
        eng = observation_scores(extra.get("model"), params, extra.get("adaptive"))
        if getattr(res, "intmethod", "") == "laplace":
            warnings.warn(LAPLACE_SCORES_WARNING, MemodelsWarning, stacklevel=3)
    jac = _estimation_to_reported(res) @ _engine_to_estimation(fit, params)
    try:
        rep = np.linalg.solve(jac.T, eng.T).T
    except np.linalg.LinAlgError:  # a variance at the boundary
        rep = eng @ np.linalg.pinv(jac)
    out = pd.DataFrame(rep, index=res.design.index, columns=list(res.params.index))
    return out.reindex(index)


__all__ = ["glmm_scores"]
