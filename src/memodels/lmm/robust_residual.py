"""Robust (sandwich) VCE for ``mixed`` with a residual-error structure, two-level models
([ME] mixed, Methods and formulas: "robust variances are, at a minimum, clustered at the
highest level ... scores are obtained as the partial derivatives of L_j(beta, Sigma,
sigma_e^2) with respect to {beta, alpha, log(sigma_e)}"; with ``residuals()`` the residual
parameters rho join alpha).

The panels of the residual structure are the model's (only) level, so each cluster's log
likelihood is that of y_j ~ N(X_j b, V_j), V_j = Z_j Sigma Z_j' + sigma_e^2 R_j(rho),
evaluated for all panels at once on arrays padded to the largest panel (padding rows have
Z = 0, R = I and r = 0, contributing log sigma_e^2 each, which is subtracted).

V = H^{-1} {M/(M-1) sum_c s_c s_c'} H^{-1} in the metric {beta, alpha, rho, ln sigma_e},
with s_c the summed cluster scores and H the Hessian of the log likelihood, both by
central differences (as :mod:`memodels.lmm.robust`).
"""

from __future__ import annotations

import numpy as np

from ..covariance.residual import ResidualStructure
from .robust import sandwich


def _padded(resid: ResidualStructure, arr: np.ndarray) -> np.ndarray:
    """(M, T, k) copy of an (n, k) array in the sorted panel order, zeros on padding."""
    a2 = arr.reshape(arr.shape[0], -1)
    out = np.zeros((resid.m, resid.size, a2.shape[1]))
    out[resid.panel_of, resid.pos] = a2[resid.order_idx]
    return out


def panel_logliks(y: np.ndarray, X: np.ndarray, fit, resid: ResidualStructure):
    """psi = (beta, phi) -> the log likelihood of each panel (sorted panel order)."""
    nb = fit.beta.size
    structs = [t.structure for t in fit.terms]
    zp = _padded(resid, fit.terms[0].Z) if fit.terms else None
    yp = _padded(resid, np.asarray(y, float))[:, :, 0]
    xp = _padded(resid, np.asarray(X, float))
    sizes = np.bincount(resid.panel_of, minlength=resid.m).astype(float)
    pad = resid.size - sizes
    nre = sum(len(s.phi_names()) for s in structs)

    def f(psi: np.ndarray) -> np.ndarray:
        beta, phi = psi[:nb], psi[nb:]
        s2 = float(np.exp(2 * phi[-1]))
        v = s2 * resid.panel_matrices(phi[nre:-1])
        if zp is not None:
            sigma = structs[0].sigma_from_phi(phi[:nre])
            v = v + np.einsum("mti,ij,msj->mts", zp, sigma, zp)
        r = yp - np.einsum("mtk,k->mt", xp, beta)
        try:
            low = np.linalg.cholesky(v)
        except np.linalg.LinAlgError:
            return np.full(resid.m, -np.inf)
        logdet = 2.0 * np.log(np.diagonal(low, axis1=1, axis2=2)).sum(axis=1)
        sol = np.linalg.solve(low, r[:, :, None])[:, :, 0]
        quad = (sol ** 2).sum(axis=1)
        return -0.5 * (sizes * np.log(2 * np.pi) + logdet - pad * np.log(s2) + quad)

    return f


def residual_robust_vcov(y, X, fit, resid: ResidualStructure,
                         clusters: np.ndarray | None = None) -> np.ndarray:
    """Sandwich VCE of (beta, phi); ``clusters``: the vce(cluster) value of each panel
    (sorted panel order), or None to cluster at the panels."""
    psi = np.concatenate([fit.beta, fit.phi])
    return sandwich(panel_logliks(y, X, fit, resid), psi, clusters)
