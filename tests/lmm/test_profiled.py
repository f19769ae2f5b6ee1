"""The profiled likelihood against brute-force dense formulas at fixed parameter values.

[ME] mixed, Methods and formulas, eqs. (9) and (10): L = -1/2{n log 2pi + log|V| + r'V^-1 r}
with beta the GLS estimate, and the REML criterion as Stata reports it,
-1/2{(n-p) log 2pi + log|V| + log|X'V^-1 X| + r'V^-1 r}.
"""

from __future__ import annotations

import numpy as np
import pytest

from memodels.covariance.structures import CovStructure
from memodels.lmm.profiled import ProfiledLMM
from memodels.lmm.terms import EngineTerm


def _dense_z(term: EngineTerm) -> np.ndarray:
    n, q = term.Z.shape
    out = np.zeros((n, term.n_groups * q))
    for k in range(q):
        out[np.arange(n), term.groups * q + k] = term.Z[:, k]
    return out


def brute_force(y, X, terms, thetas, sigma2, reml, w=None):
    n, p = X.shape
    blocks, lams = [], []
    for t, th in zip(terms, thetas, strict=True):
        blocks.append(_dense_z(t))
        lam = t.structure.relative_factor(th)
        lams.append(np.kron(np.eye(t.n_groups), lam))
    Z = np.hstack(blocks)
    Lam = np.zeros((Z.shape[1], Z.shape[1]))
    pos = 0
    for lam in lams:
        k = lam.shape[0]
        Lam[pos : pos + k, pos : pos + k] = lam
        pos += k
    G = sigma2 * Lam @ Lam.T
    V = Z @ G @ Z.T + sigma2 * np.eye(n)
    Vi = np.linalg.inv(V)
    beta = np.linalg.solve(X.T @ Vi @ X, X.T @ Vi @ y)
    r = y - X @ beta
    ll = -0.5 * (n * np.log(2 * np.pi) + np.linalg.slogdet(V)[1] + r @ Vi @ r)
    if reml:
        ll = ll - 0.5 * np.linalg.slogdet(X.T @ Vi @ X)[1] + 0.5 * p * np.log(2 * np.pi)
    return ll, beta


def _problem(seed=0, nested=False, crossed=False, q=2):
    rng = np.random.default_rng(seed)
    n = 120
    x = rng.normal(size=n)
    X = np.column_stack([x, rng.normal(size=n), np.ones(n)])
    g1 = rng.integers(0, 15, n)
    terms = [EngineTerm(g1, 15, np.column_stack([x, np.ones(n)])[:, -q:],
                        CovStructure("unstructured", q), 0)]
    thetas = [np.array([0.8, 0.3, 0.5])[: q * (q + 1) // 2]]
    if nested:
        g2 = g1 * 3 + rng.integers(0, 3, n)
        _, g2 = np.unique(g2, return_inverse=True)
        terms.append(EngineTerm(g2, int(g2.max()) + 1, np.ones((n, 1)),
                                CovStructure("identity", 1), 1))
        thetas.append(np.array([0.6]))
    if crossed:
        g3 = rng.integers(0, 7, n)
        terms.append(EngineTerm(g3, 7, np.column_stack([x, np.ones(n)]),
                                CovStructure("independent", 2), 2))
        thetas.append(np.array([0.4, 0.9]))
    y = X @ [1.0, -0.5, 2.0] + rng.normal(size=n)
    return y, X, terms, thetas


@pytest.mark.parametrize("reml", [False, True])
@pytest.mark.parametrize("shape", ["two-level", "nested", "crossed", "nested+crossed"])
def test_loglik_at_fixed_parameters(shape, reml):
    y, X, terms, thetas = _problem(nested="nested" in shape, crossed="crossed" in shape)
    model = ProfiledLMM(y, X, terms)
    sigma2 = 1.3
    ours = model.loglik_at(thetas, sigma2, reml)
    ref, beta = brute_force(y, X, terms, thetas, sigma2, reml)
    assert ours == pytest.approx(ref, rel=1e-10)
    ev = model.evaluate(thetas)
    np.testing.assert_allclose(ev.beta, beta, rtol=1e-9)


def test_profiled_deviance_matches_at_profiled_sigma():
    y, X, terms, thetas = _problem(nested=True)
    model = ProfiledLMM(y, X, terms)
    for reml in (False, True):
        ev = model.evaluate(thetas)
        s2 = model.sigma2(ev, reml)
        assert -0.5 * model.deviance(thetas, reml) == pytest.approx(
            model.loglik_at(thetas, s2, reml), rel=1e-12
        )


def test_sparse_schur_path_matches_dense(monkeypatch):
    y, X, terms, thetas = _problem(crossed=True, nested=True)
    dense = ProfiledLMM(y, X, terms).loglik_at(thetas, 0.9, False)
    import memodels.lmm.profiled as prof

    monkeypatch.setattr(prof, "DENSE_LIMIT", 0)
    sparse = prof.ProfiledLMM(y, X, terms).loglik_at(thetas, 0.9, False)
    assert sparse == pytest.approx(dense, rel=1e-10)


def test_frequency_weights_equal_replication():
    y, X, terms, thetas = _problem()
    rng = np.random.default_rng(3)
    w = rng.integers(1, 4, y.size).astype(float)
    rep = np.repeat(np.arange(y.size), w.astype(int))
    t = terms[0]
    t_rep = EngineTerm(t.groups[rep], t.n_groups, t.Z[rep], t.structure, 0)
    a = ProfiledLMM(y, X, [t], weights=w).loglik_at(thetas, 1.1, False)
    b = ProfiledLMM(y[rep], X[rep], [t_rep]).loglik_at(thetas, 1.1, False)
    assert a == pytest.approx(b, rel=1e-12)


def _central_gradient(f, x, h=1e-6):
    g = np.empty_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


@pytest.mark.parametrize("reml", [False, True])
@pytest.mark.parametrize("shape", ["two-level", "nested", "crossed", "nested+crossed"])
def test_dense_gradient_is_exact(shape, reml):
    from memodels.lmm.dense import DenseLMM

    y, X, terms, thetas = _problem(nested="nested" in shape, crossed="crossed" in shape)
    model = DenseLMM(y, X, terms)
    sizes = [t.structure.n_theta for t in terms]
    cuts = np.cumsum(sizes)[:-1]
    theta = np.concatenate(thetas)
    dev, grad = model.deviance_and_gradient(np.split(theta, cuts), reml)
    assert dev == pytest.approx(ProfiledLMM(y, X, terms).deviance(thetas, reml), rel=1e-12)
    num = _central_gradient(lambda v: model.deviance(np.split(v, cuts), reml), theta)
    np.testing.assert_allclose(grad, num, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("reml", [False, True])
@pytest.mark.parametrize("q", [1, 2])
def test_blocked_gradient_is_exact(q, reml):
    y, X, terms, thetas = _problem(q=q)
    model = ProfiledLMM(y, X, terms)
    assert model.has_gradient
    _, grad = model.deviance_and_gradient(thetas, reml)
    num = _central_gradient(lambda v: model.deviance([v], reml), thetas[0])
    np.testing.assert_allclose(grad, num, rtol=1e-5, atol=1e-6)
