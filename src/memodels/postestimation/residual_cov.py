"""The fitted residual-error covariance of ``mixed`` in postestimation ([ME] mixed
postestimation, Methods and formulas: Prediction; Within-cluster covariance matrix).

With ``residuals()``, Var(e_j) = sigma_e^2 R_j within each lowest-level panel, so

* BLUPs are u~ = G Z'V^{-1}(y - X b) with V = Z G Z' + sigma_e^2 R.  With R_j = C_j C_j'
  (Cholesky, rows in t() order within the panel) and the transformed data
  y* = C^{-1}y, X* = C^{-1}X, Z* = C^{-1}Z of [ME] mixed, Methods and formulas, this
  equals G Z*'V*^{-1}(y* - X* b) with V* = Z* G Z*' + sigma_e^2 I, so the BLUPs and
  their standard errors are the independent-error formulas applied to the transformed
  system (the same transformation the fit uses);
* standardized residuals are sigma_e^{-1} R^{-1/2} e.  memodels takes R^{-1/2} = C^{-1}
  (the same square root as the likelihood's Lambda_j^{-1/2}): the residuals of each panel
  in t() order become independent with unit variance, the first one scaled by its own
  standard deviation and each later one standardized given its predecessors.  For
  ``independent, by()`` (diagonal R) this is e_i / sd(e_i), with no choice involved;
* the within-cluster marginal covariance is V_j = Z_j G Z_j' + sigma_e^2 R_j.
"""

from __future__ import annotations

import numpy as np

from ..lmm.terms import EngineTerm


def residual_params(fit) -> np.ndarray:
    """The residual-structure parameters (between the RE components and ln sigma_e)."""
    k0 = fit.phi.size - 1 - int(fit.n_resid)
    return np.asarray(fit.phi[k0:-1], float)


def has_structure(fit) -> bool:
    return getattr(fit, "resid", None) is not None


def whitened_system(fit, r: np.ndarray, X: np.ndarray, terms: list[EngineTerm]
                    ) -> tuple[np.ndarray, np.ndarray, list[EngineTerm]]:
    """(C^{-1} r, C^{-1} X, terms with C^{-1} Z), all in estimation-sample order."""
    arrays = [np.asarray(r, float)[:, None], np.asarray(X, float)] + [t.Z for t in terms]
    out, _ = fit.resid.transform(residual_params(fit), arrays)
    new_terms = [EngineTerm(t.groups, t.n_groups, z, t.structure, t.source)
                 for t, z in zip(terms, out[2:], strict=True)]
    return out[0][:, 0], out[1], new_terms


def standardize(fit, e: np.ndarray) -> np.ndarray:
    """sigma_e^{-1} R^{-1/2} e over the estimation sample (NaN stays confined to its
    panel)."""
    e = np.asarray(e, float)
    out, _ = fit.resid.transform(residual_params(fit), [e[:, None]])
    return out[0][:, 0] / np.sqrt(float(fit.sigma2))


def residual_covariance(fit, obs: np.ndarray) -> np.ndarray:
    """sigma_e^2 R among the estimation-sample observations ``obs`` (positions)."""
    obs = np.asarray(obs, dtype=np.int64)
    s2 = float(fit.sigma2)
    if not has_structure(fit):
        return s2 * np.eye(obs.size)
    return s2 * fit.resid.covariance_among(residual_params(fit), obs)
