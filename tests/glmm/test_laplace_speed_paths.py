"""The Laplace fast paths (#16 item 3) give the same matrices and fits as the general code."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import memodels
from memodels.covariance.structures import CovStructure
from memodels.families.registry import make_family
from memodels.glmm.laplace_sparse import SparseLaplace, kron_identity
from memodels.lmm.terms import EngineTerm
from memodels.optimize import numdiff


@pytest.mark.parametrize("lam", [np.array([[0.7]]), np.array([[0.0]]),
                                 np.array([[1.2, 0.0], [0.3, 0.5]]),
                                 np.array([[1.0, 0, 0], [0.2, 0.0, 0], [0.1, 0.4, 2.0]])])
def test_kron_identity_matches_scipy_kron(lam):
    ref = sp.kron(sp.identity(7, format="csr"), sp.csr_matrix(lam)).tocsr()
    got = kron_identity(lam, 7)
    assert got.shape == ref.shape
    assert abs(got - ref).max() == 0.0
    assert got.nnz == ref.nnz


def _sim(n_groups=60, per=25, seed=3):
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(n_groups), per)
    x = rng.normal(size=g.size)
    u = rng.normal(scale=0.8, size=n_groups)
    eta = -0.3 + 0.6 * x + u[g]
    return pd.DataFrame({"y": (rng.random(g.size) < 1 / (1 + np.exp(-eta))).astype(float),
                         "c": rng.poisson(np.exp(0.2 + 0.3 * x + 0.5 * u[g])), "x": x, "g": g})


def test_laplace_logit_equals_direct_laplace_formula():
    """The fitted Laplace ll equals the Laplace approximation computed here from scratch
    (per-group Newton for the mode, then log f + log phi - 1/2 log(H/sigma^2)), at the
    reported estimates."""
    df = _sim()
    res = memodels.melogit("y x || g:, intmethod(laplace)", df, nolog=True)
    names = list(res.params.index)
    var = float(res.params[[n for n in names if "var(" in n][0]])
    b1 = float(res.params[[n for n in names if n.endswith("x")][0]])
    b0 = float(res.params[[n for n in names if n.endswith("_cons")][0]])
    total = 0.0
    for _, d in df.groupby("g"):
        xb = b0 + b1 * d["x"].to_numpy()
        y = d["y"].to_numpy()
        u = 0.0
        for _ in range(50):
            p = 1 / (1 + np.exp(-(xb + u)))
            grad = np.sum(y - p) - u / var
            hess = np.sum(p * (1 - p)) + 1 / var
            u += grad / hess
        p = 1 / (1 + np.exp(-(xb + u)))
        lf = np.sum(y * (xb + u) - np.log1p(np.exp(xb + u)))
        hess = np.sum(p * (1 - p)) + 1 / var
        total += lf - 0.5 * u * u / var - 0.5 * np.log(var) - 0.5 * np.log(hess)
    assert res.llf == pytest.approx(total, abs=1e-6)


def _single_term_model(kind: str, q: int, family: str, link: str):
    rng = np.random.default_rng(5)
    n, n_groups = 1200, 80
    g = rng.integers(0, n_groups, n)
    x = rng.normal(size=n)
    z = np.column_stack([x, np.ones(n)])[:, -q:]
    term = EngineTerm(Z=z, groups=g, n_groups=n_groups, structure=CovStructure(kind, q),
                      source=0)
    eta = -0.3 + 0.5 * x + rng.normal(size=n_groups)[g] * (1 + 0.4 * x * (q == 2))
    y = (rng.poisson(np.exp(eta)) if family == "poisson"
         else (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float))
    return SparseLaplace(y, np.column_stack([x, np.ones(n)]), [term],
                         make_family(family, link))


@pytest.mark.parametrize("kind,q,family,link,params", [
    ("identity", 1, "bernoulli", "logit", [0.4, -0.2, 0.8]),
    ("identity", 1, "poisson", "log", [0.4, -0.2, 0.6]),
    ("identity", 1, "bernoulli", "probit", [0.4, -0.2, 0.6]),
    ("unstructured", 2, "bernoulli", "logit", [0.4, -0.2, 0.8, 0.3, 0.5]),
    ("unstructured", 2, "poisson", "log", [0.4, -0.2, 0.5, -0.2, 0.4]),
])
def test_single_term_gradient_and_leverage(kind, q, family, link, params):
    """One random-effects term: the batched leverage d_i equals the selected-inversion
    route, and the exact gradient equals central differences of the log likelihood."""
    model = _single_term_model(kind, q, family, link)
    par = np.array(params, float)
    _, grad = model.loglik_and_gradient(par)
    assert grad is not None
    fac, zl = model.state["fac"], model.state["zl"]
    pairs = model.pair_structure(zl)
    ref = pairs.products(zl).T @ fac.inverse_entries(pairs.k_i, pairs.k_j)
    np.testing.assert_allclose(model.leverage(fac), ref, rtol=1e-12, atol=1e-14)
    num = numdiff.gradient(model.loglik, par, rel=1e-5)
    np.testing.assert_allclose(grad, num, rtol=1e-6, atol=2e-5)
