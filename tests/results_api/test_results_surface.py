"""Issue #17, item 2: the statsmodels/lme4-style results surface, checked against the
manual's printed tables and against independent computations."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import memodels
from memodels.errors import MemodelsError
from support import fitted, load_dataset, me_examples, reference_examples


def _printed(example: dict) -> dict[str, tuple[float, float]]:
    return {row["term"]: tuple(row["ci"]) for row in example["table"] if "ci" in row}


@functools.cache
def t43():
    ex = reference_examples("mixed")["mixed_ex13"]
    d = ex["data_inline"]
    data = pd.DataFrame(d["rows"], columns=d["columns"])
    return memodels.mixed("score i.drug || person:, reml dfmethod(repeated)", data), ex


def test_mixed_pvalues_tvalues_from_params_and_bse():
    res = fitted("pig", "mixed weight week || id: week")
    fe = ["week", "_cons"]
    z = res.params[fe] / res.bse[fe]
    np.testing.assert_allclose(res.tvalues[fe], z, rtol=1e-12)
    np.testing.assert_allclose(res.pvalues[fe], 2 * stats.norm.sf(np.abs(z)), rtol=1e-12)
    assert res.tvalues.drop(fe).isna().all()  # Stata prints no z for variances
    assert res.df_resid == res.nobs - 5 == 427


def test_mixed_conf_int_is_the_manual_table():
    res = fitted("pig", "mixed weight week || id: week")
    ex = reference_examples("mixed")["mixed_ex2"]
    ci = res.conf_int()
    assert list(ci.columns) == ["lower", "upper"] and list(ci.index) == list(res.params.index)
    names = {"week": "week", "_cons": "_cons", "id: var(week)": "var(week[id])",
             "id: var(_cons)": "var(_cons[id])", "var(Residual)": "var(e)"}
    for term, (lo, hi) in _printed(ex).items():
        np.testing.assert_allclose(ci.loc[names[term]], [lo, hi], rtol=2e-6)
    # alpha: the 90% interval of a fixed effect is b +- z(.95) se
    ci90 = res.conf_int(alpha=0.10)
    half = stats.norm.ppf(0.95) * res.bse["week"]
    np.testing.assert_allclose(ci90.loc["week"], [res.params["week"] - half,
                                                  res.params["week"] + half], rtol=1e-12)
    with pytest.raises(MemodelsError, match="alpha"):
        res.conf_int(alpha=1.5)


def test_mixed_dfmethod_t_intervals_and_pvalues():
    res, ex = t43()
    printed = {row["term"]: row for row in ex["table"]}
    ci = res.conf_int()
    for k in (2, 3, 4):
        row = printed[f"drug: {k}"]
        np.testing.assert_allclose(ci.loc[f"{k}.drug"], row["ci"], rtol=2e-6)
        assert res.pvalues[f"{k}.drug"] == pytest.approx(row["p"], abs=5e-4)
    # t reference distribution: p from t(df) with the model's DDF
    ddf = res.extra["ddf"]
    t = res.tvalues["2.drug"]
    assert res.pvalues["2.drug"] == pytest.approx(2 * stats.t.sf(abs(t), ddf.df[0]))


def test_melogit_conf_int_by_hand():
    # the shipped bangladesh file is near, not equal, to the manual's (ll -1206.674 vs
    # -1206.832: tests/reference/test_glmm_manual.py NEAR), so the intervals are checked
    # against Stata's formulas: b +- z se, and a variance's on the log scale
    res = fitted("bangladesh", "melogit c_use urban age child* || district:")
    ci = res.conf_int()
    z = stats.norm.ppf(0.975)
    for term in ("urban", "age", "child1", "_cons"):
        b, se = res.params[term], res.bse[term]
        np.testing.assert_allclose(ci.loc[term], [b - z * se, b + z * se], rtol=1e-10)
    v, sv = res.params["var(_cons[district])"], res.bse["var(_cons[district])"]
    np.testing.assert_allclose(ci.loc["var(_cons[district])"],
                               [v * np.exp(-z * sv / v), v * np.exp(z * sv / v)], rtol=1e-10)
    fe = ["urban", "age", "child1", "child2", "child3", "_cons"]
    zz = res.params[fe] / res.bse[fe]
    np.testing.assert_allclose(res.pvalues[fe], 2 * stats.norm.sf(np.abs(zz)), rtol=1e-10)


def test_or_display_keeps_conf_int_in_the_params_metric():
    res = fitted("bangladesh", "melogit c_use urban age child* || district:, or")
    shown = res.fixed_effects  # as displayed: odds ratios
    ci = res.conf_int()
    np.testing.assert_allclose(np.exp(ci.loc["urban"]),
                               shown.loc["urban", ["ci_lower", "ci_upper"]], rtol=1e-10)
    assert shown.loc["urban", "estimate"] == pytest.approx(np.exp(res.params["urban"]))


def test_meologit_conf_int_and_variance_components():
    ex = me_examples()["meologit_ex1"]
    res = fitted("tvsfpors", ex["command"][0])
    ci = res.conf_int()
    for row in ex["table"]:
        if row["term"] in ci.index:
            np.testing.assert_allclose(ci.loc[row["term"]], row["ci"], rtol=1e-4, atol=1e-5)
    vc = res.variance_components
    assert {"/cut1", "/cut2", "/cut3", "var(_cons[school])"} <= set(vc.index)
    np.testing.assert_allclose(vc["estimate"], res.params[vc.index])
    with pytest.raises(MemodelsError, match="not defined"):
        _ = res.resid
    probs = res.fittedvalues
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-10)


def _first_row_per_group(per_obs: pd.DataFrame, ids: pd.Series) -> pd.DataFrame:
    keep = ~ids.duplicated().to_numpy()
    out = per_obs[keep].copy()
    out.index = ids[keep].to_numpy()
    return out.sort_index()


def test_random_effects_mixed_equal_predict_reffects_reses():
    res = fitted("pig", "mixed weight week || id: week")
    pig = load_dataset("pig")
    re = res.random_effects
    assert list(re) == ["id"]
    tab = re["id"]
    assert len(tab) == 48 and tab.index.name == "id"
    u = _first_row_per_group(res.predict("reffects"), pig["id"])
    s = _first_row_per_group(res.predict("reses"), pig["id"])
    np.testing.assert_allclose(tab["week"], u["week[id]"], rtol=1e-12)
    np.testing.assert_allclose(tab["_cons"], u["_cons[id]"], rtol=1e-12)
    np.testing.assert_allclose(tab["se(week)"], s["week[id]"], rtol=1e-12)
    np.testing.assert_allclose(tab["se(_cons)"], s["_cons[id]"], rtol=1e-12)
    # BLUPs of a random intercept sum to 0 over balanced groups (independent check)
    assert abs(tab["_cons"].mean()) < 1e-8


def test_random_effects_nested_levels_are_multiindexed():
    res = fitted("productivity", "mixed gsp private emp hwy water other unemp || region: "
                 "|| state:")
    re = res.random_effects
    assert set(re) == {"region", "state"}
    assert re["region"].shape[0] == 9 and re["state"].shape[0] == 48
    assert list(re["state"].index.names) == ["region", "state"]
    data = load_dataset("productivity")
    u = res.predict("reffects")
    first = ~data["state"].duplicated().to_numpy()
    by_state = pd.Series(u.iloc[:, 1].to_numpy()[first],
                         index=pd.MultiIndex.from_frame(data.loc[first, ["region", "state"]]))
    np.testing.assert_allclose(re["state"]["_cons"].to_numpy(),
                               by_state.reindex(re["state"].index).to_numpy(), rtol=1e-12)


def test_random_effects_melogit_and_fitted_resid():
    res = fitted("bangladesh", "melogit c_use urban age child* || district:")
    data = load_dataset("bangladesh")
    tab = res.random_effects["district"]
    u = _first_row_per_group(res.predict("reffects"), data["district"])
    s = _first_row_per_group(res.predict("reses"), data["district"])
    np.testing.assert_allclose(tab["_cons"], u.iloc[:, 0], rtol=1e-10)
    np.testing.assert_allclose(tab["se(_cons)"], s.iloc[:, 0], rtol=1e-10)
    mu = res.fittedvalues
    np.testing.assert_allclose(mu, res.predict("mu"))
    np.testing.assert_allclose(res.resid, data["c_use"].to_numpy() - mu.to_numpy())


def test_mixed_fitted_and_resid_by_hand():
    res = fitted("pig", "mixed weight week || id:")
    pig = load_dataset("pig")
    u = res.random_effects["id"]["_cons"]
    by_hand = res.params["_cons"] + res.params["week"] * pig["week"] + \
        u.reindex(pig["id"]).to_numpy()
    np.testing.assert_allclose(res.fittedvalues, by_hand, rtol=1e-10)
    np.testing.assert_allclose(res.resid, pig["weight"] - by_hand, rtol=1e-8, atol=1e-8)


def test_to_frame_and_fixed_effects():
    res = fitted("pig", "mixed weight week || id: week")
    frame = res.to_frame()
    assert {"estimate", "se", "z", "p", "ci_lower", "ci_upper"} <= set(frame.columns)
    fe = res.fixed_effects
    assert list(fe.index) == ["week", "_cons"]
    np.testing.assert_allclose(fe["estimate"], res.params[["week", "_cons"]])
