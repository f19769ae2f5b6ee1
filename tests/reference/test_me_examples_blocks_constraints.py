"""[ME] me, examples 5 and 6: a block-diagonal covariance from repeated equations at one
level (me_ex5, melogit on bangladesh), and the meta-analysis with variances fixed by
``covariance(fixed(f))`` (me_ex6a, Laplace) or by ``constraints(1)`` (me_ex6b)
(shared/reference/examples_mixed.json).

diuretics.csv is exact: log likelihood to 1e-6, estimates to 1e-4 relative, SEs and CIs to
1e-3.  bangladesh.csv is a *near* copy (a few records differ from Stata's; the
fixed-effects logit ll is -1228.365 vs Stata's -1228.5263), so me_ex5 is checked loosely:
ll within 0.3, estimates within a tenth of a standard error plus 2%.  Its 4-dimensional
7-point quadrature (2,401 nodes per district) takes about 20 s; the same model at
intpoints(3) checks the structure (names, tied rows, LR test df) quickly.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import memodels
from support import load_dataset, reference_examples

EX = reference_examples("mixed")


def _name(key: str) -> str:
    """"district: var(child1)" -> "var(child1[district])"; "var(e.or)" as is."""
    if ": " in key:
        level, inner = key.split(": ", 1)
        return inner[:-1] + f"[{level}])"
    return key


def _diuretics() -> pd.DataFrame:
    df = load_dataset("diuretics").copy()
    for k in range(1, 10):  # qui tabulate trial, gen(tr)
        df[f"tr{k}"] = (df["trial"] == k).astype(float)
    return df


def _check_exact(res, ex: dict) -> None:
    assert res.nobs == ex["n_obs"]
    assert res.llf == pytest.approx(ex["loglik"], abs=1e-6)
    assert res.ll_fixed == pytest.approx(ex["other"]["ll_fixed_effects_model"], abs=1e-6)
    table = res.table()
    for row in ex["table"]:
        name = _name(row["term"])
        assert res.params[name] == pytest.approx(row["est"], rel=1e-4, abs=1e-7), name
        if row.get("constrained"):
            assert res.bse[name] == 0.0, name
            assert next(r for r in res.rows if r.name == name).constrained, name
            continue
        assert res.bse[name] == pytest.approx(row["se"], rel=1e-3), name
        lo, hi = row["ci"]
        assert table.loc[name, "ci_lower"] == pytest.approx(lo, rel=1e-3), name
        assert table.loc[name, "ci_upper"] == pytest.approx(hi, rel=1e-3), name
    assert res.wald[1] == ex["other"]["wald_df"] == 0
    assert res.lr_test is None  # no free random-effects parameter: no LR test


@pytest.fixture(scope="module")
def ex6a():
    df = _diuretics()
    f = np.diag(df["varor"].to_numpy())  # mkmat varor, mat(f); mat f = diag(f)
    return memodels.meglm("or || _all: tr1-tr9, nocons cov(fixed(f)) intm(laplace) "
                          "nocnsreport", df, matrices={"f": f}, nolog=True)


@pytest.fixture(scope="module")
def ex6b():
    return memodels.meglm("or || trial: std, nocons constraints(1)", _diuretics(),
                          constraints={1: "_b[var(std[trial]):_cons] = 1"}, nolog=True)


def test_me_ex6a_fixed_covariance(ex6a):
    ex = EX["me_ex6a"]
    _check_exact(ex6a, ex)
    assert ex6a.intmethod == "laplace"
    text = ex6a.summary()
    assert text.count("(constrained)") == 9
    assert "     var(tr8)|        .69  (constrained)" in text
    assert "( 1)" not in text  # nocnsreport
    assert "cov(" not in text  # covariances fixed at 0: an independent structure
    assert ex6a.n_params == 2


def test_me_ex6b_constraint(ex6b):
    ex = EX["me_ex6b"]
    _check_exact(ex6b, ex)
    assert (ex6b.intmethod, ex6b.intpoints) == ("mvaghermite", 7)
    text = ex6b.summary()
    # the manual prints "[var(std[trial])]._cons" (a stray dot; cf. example 5's lines)
    assert " ( 1)  [var(std[trial])]_cons = 1" in text.splitlines()
    assert "     var(std)|          1  (constrained)" in text
    assert "Wald chi2(0)" in text and "LR test" not in text


def test_me_ex6_both_routes_agree(ex6a, ex6b):
    for name in ("_cons", "var(e.or)"):
        assert ex6a.params[name] == pytest.approx(ex6b.params[name], rel=1e-6)
        assert ex6a.bse[name] == pytest.approx(ex6b.bse[name], rel=1e-5)


def _check_ex5_structure(res) -> None:
    names = list(res.params.index)
    assert names[6:] == ["var(child1[district])", "var(child2[district])",
                         "var(child3[district])", "var(_cons[district])",
                         "cov(child2,child1[district])", "cov(child3,child1[district])",
                         "cov(child3,child2[district])"]
    assert res.params["var(child1[district])"] == res.params["var(child3[district])"]
    assert res.lr_test.kind == "chi2(3)"
    assert res.wald[1] == 5
    assert [lv.level for lv in res.levels] == ["district"]


def test_me_ex5_block_diagonal_structure():
    """The example's model at 3 points per effect (81 nodes): fast, same structure."""
    df = load_dataset("bangladesh")
    res = memodels.melogit("c_use urban age child* || district: child*, cov(exchangeable) "
                           "|| district:, or intpoints(3)", df, nolog=True)
    _check_ex5_structure(res)
    assert abs(res.llf - EX["me_ex5"]["loglik"]) < 0.5


def test_me_ex5_loosely():
    ex = EX["me_ex5"]
    df = load_dataset("bangladesh")
    res = memodels.melogit(ex["command"][0].split(" ", 1)[1], df, nolog=True)
    _check_ex5_structure(res)
    assert res.nobs == ex["n_obs"]
    assert abs(res.llf - ex["loglik"]) < 0.3  # near data
    for row in ex["table"]:
        name = _name(row["term"])
        est, se = row["est"], row["se"]
        if row["term"] in ex["fixed"]:  # odds ratios: compare on the b scale
            est, se = math.log(est), se / est
        assert abs(res.params[name] - est) < 0.1 * se + 0.02 * abs(est), name


def test_constrained_start_noestimate_and_startgrid():
    """The refinement starts from the constrained point (Grid node 0 is its log
    likelihood), noestimate shows it with the constraint in force, and startgrid() with
    constraints is refused."""
    df = _diuretics()
    cons = {1: "_b[var(std[trial]):_cons] = 2"}
    start = memodels.meglm("or || trial: std, nocons constraints(1) noestimate", df,
                           constraints=cons, nolog=True)
    assert start.params["var(std[trial])"] == pytest.approx(2.0)
    fixed = memodels.meglm("or || trial: std, nocons noestimate", df, nolog=True,
                           from_={"var(std[trial])": 2.0})
    assert start.llf == pytest.approx(fixed.llf, abs=1e-8)
    from memodels.errors import OptionError

    with pytest.raises(OptionError, match="startgrid"):
        memodels.meglm("or || trial: std, nocons constraints(1) startgrid", df,
                       constraints=cons, nolog=True)
