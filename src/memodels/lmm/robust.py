"""Robust (sandwich) VCE for ``mixed``, clustered at the top level or at vce(cluster var)
([ME] mixed, Methods and formulas: "robust variances are, at a minimum, clustered at the
highest level ... scores are obtained as the partial derivatives of L_j(beta, Sigma,
sigma_e^2) with respect to {beta, alpha, log(sigma_e)}").

V = H^{-1} {M/(M-1) sum_c s_c s_c'} H^{-1} in the metric {beta, alpha, ln sigma_e}, with
s_c the summed cluster scores and H the Hessian of the (pseudo)log likelihood, both by
central differences of the per-cluster log likelihoods.
"""

from __future__ import annotations

import numpy as np

from ..optimize import numdiff


def cluster_loglik_function(wmodel, fit):
    """(psi -> the groups' log likelihoods, the fitted psi) with psi = (beta, phi) in
    Stata's estimation metric (``predict, scores`` and the robust VCE use it)."""
    structs = [t.structure for t in fit.terms]
    nb = fit.beta.size
    psi = np.concatenate([fit.beta, fit.phi])

    def per_cluster(v: np.ndarray) -> np.ndarray:
        beta, phi = v[:nb], v[nb:]
        s2 = float(np.exp(2 * phi[-1]))
        st = structs[0]
        theta = st.theta_from_sigma(st.sigma_from_phi(phi[:-1]) / s2)
        return wmodel.cluster_loglik(beta, theta, s2)

    return per_cluster, psi


def robust_vcov(wmodel, fit, clusters: np.ndarray | None = None) -> np.ndarray:
    per_cluster, psi = cluster_loglik_function(wmodel, fit)
    return sandwich(per_cluster, psi, clusters)


def sandwich(per_unit, psi: np.ndarray, clusters: np.ndarray | None = None) -> np.ndarray:
    """The cluster-robust sandwich H^-1 (M/(M-1) sum s s') H^-1 of psi, from the
    per-unit log likelihoods ``per_unit(psi)`` (one per top-level group or panel);
    ``clusters`` (one value per unit) sums the units' scores by cluster first."""
    scores = numdiff.jacobian(per_unit, psi, rel=1e-6)  # (units, P)
    if clusters is not None:
        codes, inv = np.unique(clusters, return_inverse=True)
        summed = np.zeros((codes.size, scores.shape[1]))
        np.add.at(summed, inv, scores)
        scores = summed
    m = scores.shape[0]
    meat = (m / (m - 1)) * scores.T @ scores
    hess = numdiff.hessian(lambda v: float(per_unit(v).sum()), psi, rel=1e-4)
    bread = np.linalg.inv(-hess)
    return bread @ meat @ bread
