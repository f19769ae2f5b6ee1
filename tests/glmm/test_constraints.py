"""``constraints()``, ``covariance(fixed())`` and ``covariance(pattern())`` of the me
commands ([ME] meglm, Options; [ME] me, Remarks, "Mixed-effects models", items 13-16).

* the constraint parser resolves Stata's spellings of e(b) names;
* the reparameterization e = T z + c solves R e = r exactly and keeps free coordinates;
* fixing a variance at its unconstrained estimate reproduces the unconstrained fit on every
  engine (Newton with fixed adaptive parameters, mode-curvature quadrature, Laplace with
  finite differences, sparse Laplace with the exact gradient, nested quadrature);
* pattern()/fixed() matrices reproduce the structures they spell (exchangeable,
  independent); constraints on coefficients fix them and reduce the Wald df;
* bad matrices and constraints give errors naming the problem.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import memodels
from memodels.errors import OptionError
from memodels.glmm.constraints import AffineMap
from memodels.syntax.constraints import NameResolver, parse_constraint, select_constraints

nan = np.nan


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    rows = []
    for g in range(60):
        ud = rng.multivariate_normal([0, 0], [[0.6, 0.3], [0.3, 0.6]])
        u0 = rng.normal(0, 0.9)
        for _ in range(15):
            x, k, a = rng.normal(), rng.integers(0, 3), rng.integers(0, 6)
            d1, d2 = float(k == 1), float(k == 2)
            eta = -0.5 + 0.5 * x + 0.8 * d1 + 1.0 * d2 + ud[0] * d1 + ud[1] * d2 + u0
            rows.append({"g": g, "x": x, "d1": d1, "d2": d2, "a": a, "h": g // 6,
                         "y": int(rng.random() < 1 / (1 + np.exp(-eta)))})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------- parser
RESOLVER = NameResolver(["urban", "age", "_cons", "/lnalpha", "var(std[trial])",
                         "cov(child2,child1[district])", "var(e.or)"], "c_use")


@pytest.mark.parametrize("text,expected", [
    ("_b[var(std[trial]):_cons] = 1", ({"var(std[trial])": 1.0}, 1.0)),
    ("[var(std[trial])]_cons = 16", ({"var(std[trial])": 1.0}, 16.0)),
    ("urban = age", ({"urban": 1.0, "age": -1.0}, 0.0)),
    ("2*urban + age/2 = 1", ({"urban": 2.0, "age": 0.5}, 1.0)),
    ("_b[c_use:urban] = .5", ({"urban": 1.0}, 0.5)),
    ("[c_use]urban - 1 = 0", ({"urban": 1.0}, 1.0)),
    ("[cov(child2[district],child1[district])]_cons = 0",
     ({"cov(child2,child1[district])": 1.0}, 0.0)),
    ("_b[lnalpha:_cons] = 0", ({"/lnalpha": 1.0}, 0.0)),
    ("-(urban - age)*3 = 1", ({"urban": -3.0, "age": 3.0}, 1.0)),
])
def test_parse_constraint(text, expected):
    assert parse_constraint(text, RESOLVER) == [expected]


def test_parse_coefficient_list_and_selection():
    assert parse_constraint("urban age", RESOLVER) == [({"urban": 1.0}, 0.0),
                                                        ({"age": 1.0}, 0.0)]
    assert select_constraints({1: "a", 3: "b", 4: "c"}, "3/4") == ["b", "c"]
    assert select_constraints(["a", "b"], None) == ["a", "b"]
    with pytest.raises(OptionError, match="constraint 2 not defined"):
        select_constraints({1: "a"}, "2")


@pytest.mark.parametrize("text,match", [
    ("foo = 1", "foo, which is not a parameter"),
    ("_b[var(sd[trial]):_cons] = 1", r"var\(sd\[trial\]\):_cons, which is not a parameter"),
    ("urban*age = 1", "not a linear expression"),
    ("urban = 1 = 2", "only one '='"),
])
def test_parse_errors(text, match):
    with pytest.raises(OptionError, match=match):
        parse_constraint(text, RESOLVER)


def test_affine_map_solves_constraints():
    R = np.array([[1.0, -1.0, 0, 0], [0, 0, 1.0, 0], [2.0, -2.0, 0, 0]])  # third redundant
    r = np.array([0.0, 0.5, 0.0])
    amap = AffineMap(R, r, 4)
    assert amap.T.shape == (4, 2)
    z = np.array([0.3, -1.2])
    e = amap.expand(z)
    np.testing.assert_allclose(R @ e, r, atol=1e-14)
    assert list(amap.fixed) == [False, False, True, False]
    with pytest.raises(OptionError, match="inconsistent"):
        AffineMap(np.array([[1.0, 0], [1.0, 0]]), np.array([0.0, 1.0]), 2)


# ---------------------------------------------------------------- fits and engines
@pytest.mark.parametrize("spec,name", [
    ("y x d1 || g: d1", "var(d1[g])"),  # two-level mvaghermite, Newton at fixed nodes
    ("y x || g:, intmethod(mcaghermite)", "var(_cons[g])"),
    # constrained: per-cluster Laplace by finite differences; free: sparse, exact gradient
    ("y x || g:, intmethod(laplace)", "var(_cons[g])"),
    ("y x || _all: R.a || g:", "var(_cons[g])"),  # sparse Laplace, exact gradient
    ("y x || h: || g:", "var(_cons[h])"),  # nested quadrature
])
def test_variance_fixed_at_its_estimate_reproduces_the_fit(data, spec, name):
    free = memodels.melogit(spec, data, nolog=True)
    value = float(free.params[name])
    fixed = memodels.melogit(spec, data, nolog=True, constraints=[f"{name} = {value!r}"])
    assert fixed.llf == pytest.approx(free.llf, abs=1e-7)
    np.testing.assert_allclose(fixed.params, free.params, rtol=2e-5, atol=2e-6)
    assert fixed.bse[name] == 0.0
    assert fixed.n_params == free.n_params - 1
    others = [n for n in free.params.index if n != name and free.params[n] > 1e-6]
    # with one variance fixed the others' SEs can only shrink
    assert all(fixed.bse[n] <= free.bse[n] * (1 + 1e-6) for n in others)


def test_pattern_and_fixed_spell_known_structures(data):
    exch = memodels.melogit("y x d1 d2 || g: d1 d2, nocons cov(exchangeable)", data,
                            nolog=True)
    pat = memodels.melogit("y x d1 d2 || g: d1 d2, nocons cov(pattern(p))", data, nolog=True,
                           matrices={"p": np.array([[1.0, nan], [2.0, 1.0]])})
    assert pat.llf == pytest.approx(exch.llf, abs=1e-6)  # two converged fits
    for a, b in [("var(d1[g])", "var(d1[g])"), ("cov(d1,d2[g])", "cov(d2,d1[g])")]:
        assert pat.params[a] == pytest.approx(exch.params[b], rel=1e-6)
        assert pat.bse[a] == pytest.approx(exch.bse[b], rel=1e-5)
    assert " ( 1)  [var(d1[g])]_cons - [var(d2[g])]_cons = 0" in pat.summary()
    ind = memodels.melogit("y x d1 d2 || g: d1 d2, nocons", data, nolog=True)
    fix = memodels.melogit("y x d1 d2 || g: d1 d2, nocons cov(fixed(f))", data, nolog=True,
                           matrices={"f": pd.DataFrame([[nan, nan], [0.0, nan]])})
    assert fix.llf == pytest.approx(ind.llf, abs=1e-6)
    assert not fix.constraints  # nothing fixed: the independent structure


def test_constraints_on_coefficients(data):
    res = memodels.melogit("y x d1 d2 || g:, constraints(1 2)", data, nolog=True,
                           constraints={1: "_b[x] = 0.5", 2: "[y]d1 + [y]d2 = 2"})
    assert res.params["x"] == 0.5 and res.bse["x"] == 0.0
    assert res.params["d1"] + res.params["d2"] == pytest.approx(2.0, abs=1e-12)
    assert res.bse["d1"] == pytest.approx(res.bse["d2"], rel=1e-8) and res.bse["d1"] > 0
    assert res.wald[1] == 1  # d1, d2 with one free dimension; x fixed
    text = res.summary()
    assert "           x |         .5  (constrained)" in text
    assert " ( 1)  [y]x = .5" in text and " ( 2)  [y]d1 + [y]d2 = 2" in text
    assert "( 1)" not in memodels.melogit("y x d1 d2 || g:, constraints(1) nocnsreport", data,
                                          nolog=True, constraints={1: "x = .5"}).summary()


@pytest.mark.parametrize("spec,kwargs,match", [
    ("y x d1 d2 || g: d1 d2, nocons cov(fixed(f))", {"matrices": {"g": np.eye(2)}},
     "matrix f not found"),
    ("y x d1 d2 || g: d1 d2, nocons cov(fixed(f))", {"matrices": {"f": np.eye(3)}},
     "is 3 x 3, but the random-effects equation has 2"),
    ("y x d1 d2 || g: d1 d2, nocons cov(fixed(f))",
     {"matrices": {"f": np.array([[1.0, 0.5], [0.2, 1.0]])}}, "not symmetric"),
    ("y x d1 d2 || g: d1 d2, nocons cov(fixed(f))",
     {"matrices": {"f": np.array([[1.0, 2.0], [2.0, 1.0]])}}, "not positive semidefinite"),
    ("y x d1 d2 || g: d1 d2, nocons cov(fixed(f))",
     {"matrices": {"f": np.array([[0.0, nan], [0.0, 1.0]])}}, "must be positive"),
    ("y x d1 d2 || g: d1 d2, nocons cov(fixed(f))",
     {"matrices": {"f": np.array([[nan, nan], [0.3, 1.0]])}}, "a variance it involves is free"),
    ("y x d1 d2 || g: d1 d2, nocons cov(pattern(p))",
     {"matrices": {"p": np.array([[1.0, nan], [1.0, 2.0]])}}, "ties a variance to a covariance"),
    ("y x || g: x, constraints(1)", {"constraints": {1: "var(z[g]) = 1"}},
     r"var\(z\[g\]\), which is not a parameter"),
    ("y x || g: x, constraints(1)", {}, "constraint 1 not defined"),
    ("y x || g: x", {"constraints": "var(x[g]) = -1"}, "must be positive"),
    ("y x || g: x", {"constraints": "var(x[g]) + x = 1"}, "mixes"),
    ("y x || g: x", {"constraints": ["x = 1", "x = 2"]}, "inconsistent"),
])
def test_bad_input(data, spec, kwargs, match):
    with pytest.raises(OptionError, match=match):
        memodels.melogit(spec, data, nolog=True, **kwargs)


def test_mixed_refuses_fixed_covariance(data):
    with pytest.raises(OptionError, match="not allowed with mixed"):
        memodels.mixed("x d1 || g: d1, cov(fixed(f))", data, nolog=True)
