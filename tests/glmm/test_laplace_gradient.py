"""The exact gradient of the sparse Laplace likelihood (memodels.glmm.laplace_gradient)
equals central differences of the likelihood, for crossed and nested random intercepts and
for canonical and non-canonical links; and the selected inversion equals A^{-1}."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from memodels.covariance.structures import CovStructure
from memodels.families.registry import make_family
from memodels.glmm.blocked_spd import BlockedSPD
from memodels.glmm.laplace_sparse import SparseLaplace
from memodels.lmm.terms import EngineTerm
from memodels.optimize import numdiff


def _term(groups: np.ndarray) -> EngineTerm:
    codes = np.unique(groups, return_inverse=True)[1]
    n_groups = int(codes.max()) + 1
    return EngineTerm(Z=np.ones((codes.size, 1)), groups=codes, n_groups=n_groups,
                      structure=CovStructure("independent", 1), source=0)


def _model(design: str, family: str, link: str, seed: int = 3) -> SparseLaplace:
    rng = np.random.default_rng(seed)
    n = 1500
    if design == "crossed":
        g1, g2 = rng.integers(0, 60, n), rng.integers(0, 15, n)
        terms = [_term(g1), _term(g2)]
    else:
        g2 = np.repeat(np.arange(150), n // 150)
        g1 = g2 // 10
        terms = [_term(g1), _term(g2)]
    x = rng.normal(size=n)
    eta = -0.3 + 0.5 * x + rng.normal(size=60)[g1 % 60] + 0.7 * rng.normal(size=150)[g2 % 150]
    if family == "poisson":
        y = rng.poisson(np.exp(eta))
    else:
        y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    X = np.column_stack([x, np.ones(n)])
    return SparseLaplace(y, X, terms, make_family(family, link))


@pytest.mark.parametrize("design,family,link", [
    ("crossed", "bernoulli", "logit"),
    ("nested", "bernoulli", "logit"),
    ("crossed", "poisson", "log"),
    ("nested", "bernoulli", "probit"),
])
def test_gradient_matches_central_differences(design, family, link):
    model = _model(design, family, link)
    params = np.array([0.4, -0.2, 0.8, 0.6])
    val, grad = model.loglik_and_gradient(params)
    assert grad is not None
    num = numdiff.gradient(model.loglik, params, rel=1e-5)
    np.testing.assert_allclose(grad, num, rtol=1e-6, atol=1e-5)
    assert val == pytest.approx(model.loglik(params), rel=1e-12)


def test_no_gradient_at_a_zero_variance():
    model = _model("crossed", "bernoulli", "logit")
    _, grad = model.loglik_and_gradient(np.array([0.4, -0.2, 0.0, 0.6]))
    assert grad is None


def test_selected_inversion_equals_the_inverse():
    q1, g1, qr = 1, 30, 6
    z = sp.random(200, g1 * q1 + qr, density=0.08, random_state=1, format="csr")
    a = (z.T @ z + sp.identity(g1 + qr)).tocsr()
    # keep the first block diagonal, as the engine's ordering guarantees
    dense = a.toarray()
    top = dense[:g1, :g1]
    dense[:g1, :g1] = np.diag(np.diag(top))
    a = sp.csr_matrix(dense)
    fac = BlockedSPD(a, g1 * q1, q1)
    inv = np.linalg.inv(dense)
    rows, cols = np.nonzero(np.ones_like(dense))
    np.testing.assert_allclose(fac.inverse_entries(rows, cols), inv[rows, cols], atol=1e-12)


def test_two_level_laplace_on_the_sparse_engine_equals_the_per_cluster_one():
    """A random-intercept Laplace fit runs on the sparse engine (exact gradient); its
    likelihood equals the two-level engine's per-cluster Laplace approximation, and the EB
    means and modes are still available for predict."""
    import pandas as pd

    import memodels
    from memodels.glmm.twolevel import TwoLevelQuadrature

    rng = np.random.default_rng(5)
    g = np.repeat(np.arange(60), 15)
    x = rng.normal(size=g.size)
    y = (rng.random(g.size) < 1 / (1 + np.exp(-(0.3 * x + rng.normal(size=60)[g])))).astype(int)
    df = pd.DataFrame({"y": y, "x": x, "g": g})
    res = memodels.melogit("y x || g:, intmethod(laplace)", df, log=False)
    assert res.converged
    t = TwoLevelQuadrature(y.astype(float), np.column_stack([x, np.ones_like(x)]),
                           np.ones((g.size, 1)), g, 60, make_family("bernoulli", "logit"),
                           CovStructure("independent", 1), method="laplace")
    theta = res.fit.extra["params_theta"]
    assert t.loglik(theta, t.adapt(theta, None)) == pytest.approx(res.llf, abs=1e-8)
    assert res.predict("reffects").notna().all().all()


@pytest.mark.parametrize("kind,params", [
    ("unstructured", [0.4, -0.2, 0.8, 0.3, 0.5, 0.6]),
    ("independent", [0.4, -0.2, 0.8, 0.5, 0.6]),
    ("exchangeable", [0.4, -0.2, np.log(0.8), 0.3, 0.6]),
    ("identity", [0.4, -0.2, 0.7, 0.6]),
])
def test_gradient_with_random_slopes(kind, params):
    """Random slopes (Lambda blocks q x q) in the crossed and in the nested design."""
    rng = np.random.default_rng(11)
    n = 1200
    g1, g2 = rng.integers(0, 40, n), rng.integers(0, 12, n)
    x = rng.normal(size=n)
    z2 = np.column_stack([x, np.ones(n)])
    codes1 = np.unique(g1, return_inverse=True)[1]
    slope = EngineTerm(Z=z2, groups=codes1, n_groups=int(codes1.max()) + 1,
                       structure=CovStructure(kind, 2), source=0)
    terms = [slope, _term(g2)]
    eta = -0.3 + 0.5 * x + rng.normal(size=40)[g1] * (1 + 0.5 * x) + rng.normal(size=12)[g2]
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    model = SparseLaplace(y, np.column_stack([x, np.ones(n)]), terms,
                          make_family("bernoulli", "logit"))
    par = np.array(params, float)
    _, grad = model.loglik_and_gradient(par)
    assert grad is not None
    num = numdiff.gradient(model.loglik, par, rel=1e-5)
    np.testing.assert_allclose(grad, num, rtol=1e-6, atol=2e-5)


@pytest.mark.parametrize("family,link,aux", [
    ("nbinomial", "log", [np.log(0.7)]),
    ("gaussian", "identity", [np.log(0.8)]),
    ("ordinal", "logit", [-0.8, 0.2, 1.1]),
])
def test_gradient_with_ancillary_parameters(family, link, aux):
    rng = np.random.default_rng(7)
    n = 900
    g1, g2 = rng.integers(0, 30, n), rng.integers(0, 10, n)
    x = rng.normal(size=n)
    eta = 0.4 * x + rng.normal(size=30)[g1] + 0.6 * rng.normal(size=10)[g2]
    if family == "nbinomial":
        y = rng.poisson(np.exp(eta) * rng.gamma(2.0, 0.5, n)).astype(float)
        X = np.column_stack([x, np.ones(n)])
        fam = make_family("nbinomial", link)
    elif family == "gaussian":
        y = eta + rng.normal(size=n)
        X = np.column_stack([x, np.ones(n)])
        fam = make_family("gaussian", link)
    else:
        fam = make_family("ordinal", link)
        y = fam.validate(1.0 + np.searchsorted([-0.5, 0.5, 1.5], eta + rng.logistic(size=n)),
                         "y")
        X = x[:, None]
    model = SparseLaplace(y, X, [_term(g1), _term(g2)], fam)
    par = np.concatenate([[0.3, -0.1][: X.shape[1]], aux, [0.8, 0.6]])
    _, grad = model.loglik_and_gradient(par)
    assert grad is not None
    num = numdiff.gradient(model.loglik, par, rel=1e-5)
    np.testing.assert_allclose(grad, num, rtol=1e-6, atol=2e-5)
