"""Simulation: a fitted LMM recovers the parameters it was generated from."""

from __future__ import annotations

import numpy as np

from memodels.covariance.structures import CovStructure
from memodels.lmm.fit import fit_lmm
from memodels.lmm.terms import EngineTerm


def test_recovers_random_slope_model():
    rng = np.random.default_rng(42)
    G, m = 400, 12
    g = np.repeat(np.arange(G), m)
    n = g.size
    x = rng.normal(size=n)
    sigma = np.array([[0.5, 0.2], [0.2, 1.5]])  # (x, _cons)
    u = rng.multivariate_normal([0, 0], sigma, size=G)
    y = 2.0 + 0.7 * x + u[g, 1] + u[g, 0] * x + rng.normal(scale=0.8, size=n)
    X = np.column_stack([x, np.ones(n)])
    term = EngineTerm(g, G, np.column_stack([x, np.ones(n)]), CovStructure("unstructured", 2), 0)
    fit = fit_lmm(y, X, [term])
    assert fit.converged and fit.hessian_ok
    se_b = np.sqrt(np.diag(fit.vcov_beta))
    assert np.all(np.abs(fit.beta - [0.7, 2.0]) < 4 * se_b)
    phi_true = CovStructure("unstructured", 2).phi_from_sigma(sigma)
    phi_true = np.append(phi_true, np.log(0.8))
    se_phi = np.sqrt(np.diag(fit.vcov_phi))
    assert np.all(np.abs(fit.phi - phi_true) < 4 * se_phi)


def test_boundary_variance_is_flagged():
    rng = np.random.default_rng(1)
    G, m = 30, 5
    g = np.repeat(np.arange(G), m)
    n = g.size
    y = rng.normal(size=n)  # no group effect at all
    X = np.ones((n, 1))
    term = EngineTerm(g, G, np.ones((n, 1)), CovStructure("identity", 1), 0)
    fit = fit_lmm(y, X, [term])
    # either a boundary estimate or a tiny variance; the likelihood is no worse than OLS
    assert fit.llf >= fit.ll_linear - 1e-8
    if fit.sigmas[0][0, 0] < 1e-8:
        assert fit.boundary[0]
