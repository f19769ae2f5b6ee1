"""``matrix b = e(b)``, ``matrix V = e(V)``, ``matrix list e(b)``: Stata's stripes and,
for mixed, the estimation metric ([ME] mixed, Stored results and Methods and formulas:
lns1_1_k = ln sd, atr1_1_i_j = atanh corr, lnsig_e = ln sigma_e); for the me commands
the variances themselves (var(_cons[id]):_cons).  Audit row N16."""

from __future__ import annotations

import numpy as np
import pytest

from memodels.session import Session
from support import fitted, load_dataset

PIG_UN = "mixed weight week || id: week, covariance(unstructured)"
BANG = "melogit c_use urban age child1 || district:"


def _session(dataset: str, cmd: str) -> Session:
    s = Session(load_dataset(dataset))
    s.e = fitted(dataset, cmd)
    return s


def test_mixed_eb_is_estimation_metric():
    s = _session("pig", PIG_UN)
    s.run("matrix b = e(b)")
    s.run("matrix V = e(V)")
    b, V = s.matrices["b"], s.matrices["V"]
    assert list(b.index) == ["weight:week", "weight:_cons", "lns1_1_1:_cons",
                             "lns1_1_2:_cons", "atr1_1_1_2:_cons", "lnsig_e:_cons"]
    p = s.e.params
    v1, v2, c12 = p["var(week[id])"], p["var(_cons[id])"], p["cov(week,_cons[id])"]
    np.testing.assert_allclose(b["lns1_1_1:_cons"], 0.5 * np.log(v1), rtol=1e-10)
    np.testing.assert_allclose(b["lns1_1_2:_cons"], 0.5 * np.log(v2), rtol=1e-10)
    np.testing.assert_allclose(b["atr1_1_1_2:_cons"], np.arctanh(c12 / np.sqrt(v1 * v2)),
                               rtol=1e-8)
    np.testing.assert_allclose(b["lnsig_e:_cons"], 0.5 * np.log(p["var(e)"]), rtol=1e-10)
    np.testing.assert_allclose(b["weight:week"], p["week"], rtol=1e-12)
    # delta method: var(e) = exp(2 lnsig_e), so Var(var(e)) = (2 var(e))^2 Var(lnsig_e)
    np.testing.assert_allclose((2 * p["var(e)"]) ** 2 * V.loc["lnsig_e:_cons", "lnsig_e:_cons"],
                               s.e.vcov.loc["var(e)", "var(e)"], rtol=1e-6)
    np.testing.assert_allclose(V.loc["weight:week", "weight:week"],
                               s.e.vcov.loc["week", "week"], rtol=1e-12)
    out = s.run("matrix list e(b)")
    assert out.lstrip().startswith("e(b)[1,6]") and "lns1_1_1:_cons" in out


def test_me_eb_holds_variances_and_feeds_from():
    s = _session("bangladesh", BANG)
    s.run("matrix b = e(b)")
    b = s.matrices["b"]
    assert list(b.index) == ["c_use:urban", "c_use:age", "c_use:child1", "c_use:_cons",
                             "var(_cons[district]):_cons"]
    assert b.iloc[-1] == pytest.approx(s.e.params["var(_cons[district])"], rel=1e-12)
    ll = s.e.llf
    s.run(f"quietly {BANG}, from(b)")  # Stata's idiom: the stripes name the parameters
    assert s.e.llf == pytest.approx(ll, abs=1e-6)
    assert s.e.iterations <= 2


def test_el_of_eb_and_eV():
    """el(e(b),1,k) / el(e(V),i,j) in display and generate read Stata's e(b)/e(V)."""
    s = _session("pig", PIG_UN)
    p = s.e.params
    out = s.run("display exp(2*el(e(b),1,3))")  # lns1_1_1 -> var(week[id])
    assert float(out) == pytest.approx(p["var(week[id])"], rel=1e-6)
    s.run("generate v = el(e(V),1,1)")
    np.testing.assert_allclose(s.data["v"], s.e.vcov.loc["week", "week"], rtol=1e-12)
