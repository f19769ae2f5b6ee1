"""Postestimation figures printed in the manual that the shared data reproduce.

Figures from shared/reference/examples_mixed.json (line numbers of the manual there).
"""

from __future__ import annotations

import numpy as np
import pytest

from memodels.postestimation import lrtest
from support import fitted, load_dataset, reference_examples

PIG_RI = "mixed weight week || id:"
PIG_RS = "mixed weight week || id: week"
PIG_UN = "mixed weight week || id: week, covariance(unstructured)"
PROD = "mixed gsp private emp hwy water other unemp || region: || state:"


def _post(example: str, command_start: str) -> dict:
    ex = reference_examples("mixed")[example]
    for p in ex["postestimation"]:
        cmd = p["command"] if isinstance(p["command"], str) else p["command"][0]
        if cmd.startswith(command_start):
            return p["result"]
    raise KeyError(command_start)


def _first_of_group(res, ids) -> list:
    """Index label of the first estimation observation of each id."""
    df = load_dataset("pig")
    sub = df.loc[res.design.index]
    return [sub.index[sub["id"] == i][0] for i in ids]


def test_me_ex1_blups():
    """[ME] me, L743-758: predict r_int, reffects for pigs 1..10."""
    res = fitted("pig", PIG_RI)
    expected = _post("me_ex1", "predict r_int")["r_int_by_id"]
    blups = res.predict("reffects")
    assert list(blups.columns) == ["_cons[id]"]
    rows = _first_of_group(res, [int(k) for k in expected])
    got = blups.loc[rows, "_cons[id]"].to_numpy()
    np.testing.assert_allclose(got, list(expected.values()), rtol=2e-6, atol=1e-6)


def test_mixedpost_ex1_blups_in_table_order():
    """[ME] mixed postestimation L17009-17024: u1 (week) then u0 (_cons)."""
    res = fitted("pig", PIG_UN)
    expected = _post("mixedpost_ex1", "predict u1 u0")["blups_by_id"]
    blups = res.predict("reffects")
    assert list(blups.columns) == ["week[id]", "_cons[id]"]
    rows = _first_of_group(res, [int(k) for k in expected])
    got = blups.loc[rows].to_numpy()
    want = np.array([[v["u1 (week)"], v["u0 (_cons)"]] for v in expected.values()])
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=2e-6)


def test_mixedpost_ex1_recovariance_and_wcorrelation():
    res = fitted("pig", PIG_UN)
    corr = res.estat("recovariance", correlation=True)["id"]
    assert corr.loc["_cons", "week"] == pytest.approx(-0.0618257, abs=2e-6)
    wc = res.estat("wcorrelation")
    want = _post("mixedpost_ex1", "estat wcorrelation")
    np.testing.assert_allclose(wc["sd"].to_numpy(), want["sd"], atol=0.051)
    got = wc["corr"].to_numpy()
    for i, row in enumerate(want["corr_lower"]):
        np.testing.assert_allclose(got[i, : len(row)], row, atol=0.0051)


def test_mixedpost_ex1_rstandard_summary():
    """L17070-17078: summarize rs -> sd .8929356, min -3.621446, max 3.000929."""
    res = fitted("pig", PIG_UN)
    rs = res.predict("rstandard")
    assert rs.std() == pytest.approx(0.8929356, rel=1e-5)
    assert rs.min() == pytest.approx(-3.621446, rel=1e-5)
    assert rs.max() == pytest.approx(3.000929, rel=1e-5)
    assert abs(rs.mean()) < 1e-6


def test_lrtest_mixed_ex2_ex3():
    """L14777-14782 (291.78, boundary note) and L14840-14843 (0.15, p .6959, no note)."""
    ri, rs, un = fitted("pig", PIG_RI), fitted("pig", PIG_RS), fitted("pig", PIG_UN)
    t2 = lrtest(rs, ri, names=("randslope", "randint"))
    assert round(t2.chi2, 2) == 291.78
    assert t2.df == 1 and t2.p < 1e-4 and t2.boundary_note
    assert "randint nested in randslope" in str(t2)
    t3 = lrtest(un, rs, names=(".", "randslope"))
    assert round(t3.chi2, 2) == 0.15
    assert t3.df == 1 and round(t3.p, 4) == 0.6959
    assert not t3.boundary_note
    # order does not matter
    assert lrtest(ri, rs).chi2 == pytest.approx(t2.chi2)


def test_mixedpost_ex3_icc_and_group():
    """L17203-17212 (float-stored productivity data) and the group table L17159-17165."""
    res = fitted("productivity", PROD)
    icc = res.estat("icc")
    want = _post("mixedpost_ex3", "estat icc")
    assert icc.title == want["title"]
    assert list(icc.index) == ["region", "state|region"]
    for lab in ("region", "state|region"):
        w = want[lab]
        row = icc.loc[lab]
        assert row["icc"] == pytest.approx(w["icc"], rel=2e-5)
        assert row["se"] == pytest.approx(w["se"], rel=2e-5)
        assert row["lower"] == pytest.approx(w["ci"][0], rel=2e-5)
        assert row["upper"] == pytest.approx(w["ci"][1], rel=2e-5)
    grp = res.estat("group")
    g = _post("mixedpost_ex3", "estat group")
    for lev in ("region", "state"):
        assert grp.loc[lev, "groups"] == g[lev]["groups"]
        assert grp.loc[lev, "min"] == g[lev]["min"]
        assert grp.loc[lev, "max"] == g[lev]["max"]
        assert round(grp.loc[lev, "avg"], 1) == g[lev]["avg"]
    assert "state|region" in str(icc)


def test_mixedpost_ex3_fitted_relevel():
    """L17180-17194: predict gsp_region, fitted relevel(region), obs 1..10."""
    res = fitted("productivity", PROD)
    want = _post("mixedpost_ex3", "predict gsp_region")["obs_1_to_10"]
    got = res.predict("fitted", relevel="region").iloc[:10].to_numpy()
    np.testing.assert_allclose(got, [v["gsp_region"] for v in want.values()], atol=6e-6)


def test_mixed_ex10_estat_ic():
    """L15669-15680: estimates stats crossed . (N 432, df 5, AIC/BIC)."""
    want = _post("mixed_ex10", "estimates stats")
    crossed = fitted("pig", "mixed weight week || _all: R.week || _all: R.id")
    slope = fitted("pig", "mixed weight week || id:week")
    for res, w in ((crossed, want[0]), (slope, want[1])):
        ic = res.estat("ic").iloc[0]
        assert ic["N"] == w["obs"] and ic["df"] == w["df"] and np.isnan(ic["ll_null"])
        assert ic["ll_model"] == pytest.approx(w["ll_model"], abs=6e-4)
        assert ic["AIC"] == pytest.approx(w["AIC"], abs=6e-4)
        assert ic["BIC"] == pytest.approx(w["BIC"], abs=6e-3)


def test_mixed_ex13_wald_drug():
    """L16013-16043: Wald chi2(3) = 74.28 of the drug indicators (REML, t43)."""
    res = fitted("t43", "mixed score i.drug || person:, reml")
    t = res.testparm("i.drug")
    assert t.df == 3 and round(t.chi2, 2) == 74.28
    t2 = res.test(["2.drug", "3.drug", "4.drug"])
    assert t2.chi2 == pytest.approx(t.chi2)
    t3 = res.test("2.drug = 3.drug = 4.drug = 0")
    assert t3.chi2 == pytest.approx(t.chi2) and t3.df == 3
