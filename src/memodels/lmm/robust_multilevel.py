"""Robust (sandwich) VCE of ``mixed`` with three or more levels (no weights): [ME] mixed,
Methods and formulas, "robust variances are, at a minimum, clustered at the highest
level"; the scores are the derivatives of the highest-level groups' log likelihoods L_j
with respect to psi = (beta, the log standard deviations and atanh correlations, ln
sigma_e), as for two levels (:mod:`memodels.lmm.robust`).

For each highest-level group j, y_j ~ N(X_j beta, V_j) with V_j = sigma_e^2 I + sum_t
(Z_tj Sigma_t Z_tj') masked to the pairs of observations sharing the level-t group; L_j is
its Gaussian log density (dense, per group).  Groups larger than :data:`MAX_GROUP`
observations are refused rather than factored densely.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import solve_triangular

from ..errors import OptionError
from .robust import sandwich

MAX_GROUP = 3000


def multilevel_robust_vcov(y: np.ndarray, X: np.ndarray, fit,
                           clusters: np.ndarray | None = None) -> np.ndarray:
    """The sandwich VCE of psi, clustered at the highest level (or by ``clusters``, one
    code per highest-level group)."""
    terms = fit.terms
    top = np.asarray(terms[0].groups)
    order = np.argsort(top, kind="stable")
    bounds = np.flatnonzero(np.r_[True, np.diff(top[order]) != 0, True])
    groups = [order[bounds[k]:bounds[k + 1]] for k in range(len(bounds) - 1)]
    if max(len(g) for g in groups) > MAX_GROUP:
        raise OptionError(f"vce(robust|cluster) with three or more levels: a highest-level "
                          f"group has more than {MAX_GROUP:,} observations (dense per-group "
                          "likelihoods would be too large)")
    y = np.asarray(y, float)
    X = np.asarray(X, float)
    nb = X.shape[1]
    sizes = [t.structure.n_theta for t in terms]
    pieces = []
    for idx in groups:
        masks = []
        for t in terms:
            g = np.asarray(t.groups)[idx]
            masks.append((g[:, None] == g[None, :], np.asarray(t.Z, float)[idx]))
        pieces.append((idx, masks))

    def per_group(psi: np.ndarray) -> np.ndarray:
        beta = psi[:nb]
        pos = nb
        sigmas = []
        for t, k in zip(terms, sizes, strict=True):
            sigmas.append(t.structure.sigma_from_phi(psi[pos:pos + k]))
            pos += k
        s2 = float(np.exp(2 * psi[-1]))
        out = np.empty(len(pieces))
        for j, (idx, masks) in enumerate(pieces):
            r = y[idx] - X[idx] @ beta
            v = s2 * np.eye(idx.size)
            for (same, z), sig in zip(masks, sigmas, strict=True):
                v += (z @ sig @ z.T) * same
            c = np.linalg.cholesky(v)
            w = solve_triangular(c, r, lower=True, check_finite=False)
            out[j] = -0.5 * (idx.size * np.log(2 * np.pi)
                             + 2 * np.log(np.diag(c)).sum() + w @ w)
        return out

    psi = np.concatenate([fit.beta, fit.phi])
    if psi.size != nb + sum(sizes) + 1:
        raise OptionError("vce(robust) with three or more levels: the model's parameters "
                          "could not be matched (residual structures are not supported)")
    return sandwich(per_group, psi, clusters)


__all__ = ["MAX_GROUP", "multilevel_robust_vcov"]
