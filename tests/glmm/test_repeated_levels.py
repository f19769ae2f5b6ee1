"""Repeated random-effects equations at one level in the GLMM engines ([ME] me, example 5):
``|| g: x || g:`` is one block-diagonal covariance per group.

* With independent blocks it is the same model as ``|| g: x, cov(independent)``: every
  engine (two-level quadrature, nested quadrature, Laplace on sparse matrices) gives the
  same log likelihood, estimates, SEs and predictions.
* Simulation: data generated with an exchangeable block on two indicators plus a separate
  intercept; the repeated-level fit equals the unstructured fit constrained to that
  structure (equal variances, zero covariances with the intercept) and recovers the
  generating values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import memodels
from memodels.covariance.blocks import BlockDiagonal
from memodels.covariance.structures import CovStructure
from memodels.errors import OptionError
from memodels.glmm.repeated import merge_repeated
from memodels.lmm.terms import EngineTerm


@pytest.fixture(scope="module")
def nested_data() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    rows = []
    for s in range(30):
        us = rng.normal(0, [0.8, 0.5])
        for c in range(4):
            uc = rng.normal(0, 0.6)
            for _ in range(6):
                x, a = rng.normal(), rng.integers(0, 5)
                eta = -0.3 + 0.7 * x + us[0] + us[1] * x + uc + 0.3 * (a - 2)
                rows.append({"s": s, "c": c, "x": x, "a": a,
                             "y": int(rng.random() < 1 / (1 + np.exp(-eta)))})
    return pd.DataFrame(rows)


PAIRS = [
    ("y x || s: x || s:", "y x || s: x, cov(independent)"),
    ("y x || s: x || s:, intmethod(laplace)", "y x || s: x, cov(independent) intmethod(laplace)"),
    ("y x || s: x || s: || c:", "y x || s: x, cov(independent) || c:"),
    ("y x || _all: R.a || s: x || s:", "y x || _all: R.a || s: x, cov(independent)"),
]


@pytest.mark.parametrize("repeated,single", PAIRS)
def test_independent_blocks_equal_independent_structure(nested_data, repeated, single):
    a = memodels.melogit(repeated, nested_data, nolog=True)
    b = memodels.melogit(single, nested_data, nolog=True)
    # two separately converged fits of one likelihood: equal to the optimizer's tolerance
    assert a.llf == pytest.approx(b.llf, abs=1e-6)
    assert list(a.params.index) == list(b.params.index)
    np.testing.assert_allclose(a.params, b.params, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(a.bse, b.bse, rtol=1e-4, atol=1e-7)
    assert a.lr_test.kind == b.lr_test.kind
    np.testing.assert_allclose(a.predict("mu"), b.predict("mu"), atol=1e-9)
    np.testing.assert_allclose(np.asarray(a.predict("reffects"), float),
                               np.asarray(b.predict("reffects"), float), atol=1e-9)


def test_block_diagonal_structure_composes_its_blocks():
    st = BlockDiagonal((CovStructure("exchangeable", 3), CovStructure("identity", 1)))
    theta = np.array([np.log(0.5), 0.3, 0.8])
    lam = st.relative_factor(theta)
    assert lam.shape == (4, 4) and np.all(lam[3, :3] == 0) and np.all(lam[:3, 3] == 0)
    assert st.n_theta == 3 and st.q == 4 and not st.linear
    sigma = lam @ lam.T
    np.testing.assert_allclose(st.sigma_from_phi(st.phi_from_sigma(sigma)), sigma, atol=1e-12)
    h = 1e-6
    num = (st.relative_factor(theta + [0, 0, h]) - st.relative_factor(theta - [0, 0, h])) / (2 * h)
    np.testing.assert_allclose(st.factor_derivatives(theta)[2], num, atol=1e-8)
    assert [k for k, _, _ in st.phi_names()] == ["lnsd", "atanh", "lnsd"]
    assert st.phi_names()[2] == ("lnsd", 3, 3)


def test_repeated_equations_must_be_adjacent():
    g = np.repeat(np.arange(4), 3)
    z = np.ones((12, 1))
    term = EngineTerm(g, 4, z, CovStructure("identity", 1), 0)
    other = EngineTerm(np.repeat(np.arange(6), 2), 6, z, CovStructure("identity", 1), 1)
    merged, firsts = merge_repeated([term, term, other])
    assert len(merged) == 2 and firsts == [0, 2] and merged[0].Z.shape == (12, 2)
    with pytest.raises(OptionError, match="next to each other"):
        merge_repeated([term, other, term])


def _blocks_data(seed: int = 7, groups: int = 100, m: int = 20) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    cov = [[0.6, 0.3], [0.3, 0.6]]
    for g in range(groups):
        ud = rng.multivariate_normal([0, 0], cov)
        u0 = rng.normal(0, np.sqrt(0.8))
        for _ in range(m):
            x, k = rng.normal(), rng.integers(0, 3)
            d1, d2 = float(k == 1), float(k == 2)
            eta = -0.5 + 0.5 * x + 0.8 * d1 + 1.0 * d2 + ud[0] * d1 + ud[1] * d2 + u0
            rows.append({"g": g, "x": x, "d1": d1, "d2": d2, "one": 1.0,
                         "y": int(rng.random() < 1 / (1 + np.exp(-eta)))})
    return pd.DataFrame(rows)


def test_simulated_exchangeable_block_plus_intercept():
    df = _blocks_data()
    res = memodels.melogit("y x d1 d2 || g: d1 d2, cov(exchangeable) || g:, intpoints(5)",
                           df, nolog=True)
    assert res.converged
    truth = {"x": 0.5, "d1": 0.8, "d2": 1.0, "_cons": -0.5, "var(d1[g])": 0.6,
             "var(_cons[g])": 0.8, "cov(d2,d1[g])": 0.3}
    for name, value in truth.items():
        assert abs(res.params[name] - value) < 3 * res.bse[name], name
    # the same structure as an unstructured covariance under constraints()
    same = memodels.melogit(
        "y x d1 d2 || g: d1 d2 one, nocons cov(unstructured) intpoints(5)", df, nolog=True,
        constraints=["_b[var(d1[g]):_cons] = _b[var(d2[g]):_cons]",
                     "[cov(d1[g],one[g])]_cons = 0", "cov(d2,one[g]) = 0"])
    assert same.llf == pytest.approx(res.llf, abs=1e-7)
    pairs = {"var(one[g])": "var(_cons[g])", "cov(d1,d2[g])": "cov(d2,d1[g])"}
    for name in ["x", "d1", "d2", "_cons", "var(d1[g])", *pairs]:
        assert same.params[name] == pytest.approx(res.params[pairs.get(name, name)], rel=1e-5)
        assert same.bse[name] == pytest.approx(res.bse[pairs.get(name, name)], rel=1e-4)
    assert same.lr_test.kind == res.lr_test.kind == "chi2(3)"
    assert same.n_params == res.n_params == 7
