"""Starting values for the relative covariance factors.

Random-intercept terms start from the one-way ANOVA (method-of-moments) estimate of
their variance ratio on the OLS residuals: between-group variance of the group means
minus the within-group variance over the group size.  Other terms start at
Sigma = sigma_e^2 I.  (Two-level models then take Stata's EM iterations; see
:meth:`memodels.lmm.profiled.ProfiledLMM.em_iterations`.)
"""

from __future__ import annotations

import numpy as np

from .terms import EngineTerm


def moment_start(y: np.ndarray, X: np.ndarray, terms: list[EngineTerm],
                 resid: np.ndarray | None = None) -> list[np.ndarray]:
    """``resid``: the OLS residuals when the caller has them (the engines keep them)."""
    if resid is None:
        beta = np.linalg.lstsq(X, y, rcond=None)[0] if X.shape[1] else np.zeros(0)
        resid = y - X @ beta
    s2 = max(float(resid @ resid) / max(y.size - X.shape[1], 1), 1e-300)
    out = []
    for t in terms:
        theta = t.structure.start_theta()
        if t.Z.shape[1] == 1 and np.all(t.Z[:, 0] == 1.0) and t.n_groups > 1:
            n_g = np.bincount(t.groups, minlength=t.n_groups).astype(float)
            mean_g = np.bincount(t.groups, weights=resid, minlength=t.n_groups) / n_g
            # sum (r - mean_g)^2 = sum r^2 - sum_g n_g mean_g^2 (no n-vector temporaries)
            ss = max(float(resid @ resid) - float(n_g @ mean_g**2), 0.0)
            within = ss / max(y.size - t.n_groups, 1)
            between = float(np.var(mean_g)) - within * float(np.mean(1.0 / n_g))
            ratio = max(between, 0.01 * s2) / max(within, 1e-300)
            theta = t.structure.start_theta(float(np.sqrt(ratio)))
        out.append(theta)
    return out
