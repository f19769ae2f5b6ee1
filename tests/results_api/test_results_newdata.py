"""Issue #17, item 3: ``res.predict(statistic, newdata=df)`` -- lme4's
allow.new.levels rule: groups seen in estimation get their EB predictions, new groups
random effects 0, unseen factor levels an error."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from memodels.errors import DataError, MemodelsError
from memodels.survival import stset
from support import fitted, load_dataset

MIXED_STATS = ["xb", "stdp", "fitted", "residuals", "reffects", "reses"]
ME_STATS = ["mu", "pr", "eta", "xb", "stdp", "pearson", "deviance", "anscombe",
            "density", "distribution", "reffects", "reses"]


def _same(a, b):
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=1e-10,
                               atol=1e-12, equal_nan=True)


@pytest.mark.parametrize("stat", MIXED_STATS)
def test_mixed_newdata_on_the_estimation_rows_is_predict(stat):
    res = fitted("pig", "mixed weight week || id: week")
    pig = load_dataset("pig")
    shuffled = pig.sample(frac=1.0, random_state=1).reset_index(drop=True)
    got = res.predict(stat, newdata=shuffled)
    # same rows in another order and with another index: match by (id, week)
    ref = res.predict(stat)
    key = pig["id"].astype(str) + "/" + pig["week"].astype(str)
    ref.index = key
    want = ref.loc[(shuffled["id"].astype(str) + "/" + shuffled["week"].astype(str))]
    _same(got, want)


@pytest.mark.parametrize("stat", ME_STATS)
def test_melogit_newdata_on_the_estimation_rows_is_predict(stat):
    res = fitted("bangladesh", "melogit c_use urban age child* || district:")
    data = load_dataset("bangladesh")
    _same(res.predict(stat, newdata=data.reset_index(drop=True)), res.predict(stat))


def test_meologit_and_mestreg_newdata_on_the_estimation_rows():
    res = fitted("tvsfpors", "meologit thk prethk cc##tv || school:")
    data = load_dataset("tvsfpors")
    _same(res.predict("pr", newdata=data), res.predict("pr"))
    st = stset(load_dataset("catheter"), "time", "infect")
    import memodels

    sres = memodels.mestreg("age female || patient:, distribution(weibull)", st)
    for stat in ("mean", "median", "surv", "hazard", "eta"):
        _same(sres.predict(stat, newdata=st.copy()), sres.predict(stat))


def test_new_groups_get_the_fixed_portion_and_seen_groups_their_blups():
    res = fitted("pig", "mixed weight week || id: week")
    pig = load_dataset("pig")
    new = pd.DataFrame({"id": [1, 1, 1000, np.nan], "week": [2.0, 5.0, 3.0, 3.0],
                        "weight": [30.0, 50.0, 40.0, 40.0]})
    fit = res.predict("fitted", newdata=new)
    xb = res.params["_cons"] + res.params["week"] * new["week"]
    u = res.random_effects["id"].loc[1]
    assert fit[0] == pytest.approx(xb[0] + u["_cons"] + u["week"] * 2.0, rel=1e-12)
    assert fit[1] == pytest.approx(xb[1] + u["_cons"] + u["week"] * 5.0, rel=1e-12)
    assert fit[2] == pytest.approx(xb[2], rel=1e-12)  # a new pig: the fixed portion
    assert np.isnan(fit[3])  # missing identifier
    re = res.predict("reffects", newdata=new)
    assert np.isnan(re.iloc[2]).all() and re.iloc[0, 1] == pytest.approx(u["_cons"])
    # the estimation data are not needed: prediction from a DataFrame of new rows only
    assert pig.shape == load_dataset("pig").shape


def test_nested_new_inner_group_keeps_the_outer_effect():
    res = fitted("productivity", "mixed gsp private emp hwy water other unemp || region: "
                 "|| state:")
    data = load_dataset("productivity")
    row = data.iloc[[0]].copy()
    new = pd.concat([row, row.assign(state=999)], ignore_index=True)
    fit = res.predict("fitted", newdata=new)
    xb = res.predict("xb", newdata=new)
    region = res.random_effects["region"]["_cons"].loc[row["region"].iloc[0]]
    state = res.random_effects["state"]["_cons"].loc[(row["region"].iloc[0],
                                                      row["state"].iloc[0])]
    assert fit[0] == pytest.approx(xb[0] + region + state, rel=1e-12)
    assert fit[1] == pytest.approx(xb[1] + region, rel=1e-12)


def test_glmm_new_group_is_the_fixed_portion_mean():
    res = fitted("bangladesh", "melogit c_use urban age child* || district:")
    data = load_dataset("bangladesh")
    new = data.iloc[[0, 0]].reset_index(drop=True)
    new.loc[1, "district"] = 10_000
    mu = res.predict("mu", newdata=new)
    fixed = res.predict("mu", newdata=new, conditional="fixedonly")
    assert mu[1] == pytest.approx(fixed[1], rel=1e-12)
    assert mu[0] == pytest.approx(res.predict("mu").iloc[0], rel=1e-12)


def test_unseen_factor_level_is_a_clear_error():
    res = fitted("tvsfpors", "meologit thk prethk cc##tv || school:")
    new = load_dataset("tvsfpors").head(3).assign(cc=[0, 1, 2])
    with pytest.raises(DataError, match=r"cc has level\(s\) 2 not seen in estimation"):
        res.predict("pr", newdata=new)


def test_newdata_misuse_is_refused():
    res = fitted("pig", "mixed weight week || id:")
    pig = load_dataset("pig")
    with pytest.raises(MemodelsError, match="newdata"):
        res.predict(pig)
    with pytest.raises(MemodelsError, match="may not be combined"):
        res.predict("xb", data=pig, newdata=pig)
    with pytest.raises(MemodelsError, match="DataFrame"):
        res.predict("xb", newdata=[1, 2])


def test_crossed_r_effects_random_effects_and_new_levels():
    res = fitted("pig", "mixed weight week || _all: R.id || _all: R.week")
    pig = load_dataset("pig")
    re = res.random_effects
    assert set(re) == {"id", "week"}
    assert re["id"].shape == (48, 2) and re["week"].shape == (9, 2)
    per_obs = res.predict("reffects")
    first = ~pig["id"].duplicated().to_numpy()
    np.testing.assert_allclose(re["id"]["R.id"].reindex(pig["id"][first]).to_numpy(),
                               per_obs["R.id[_all]"].to_numpy()[first], rtol=1e-12)
    _same(res.predict("fitted", newdata=pig.iloc[::-1]), res.predict("fitted").iloc[::-1])
    new = pig.head(2).copy()
    new.loc[1, "id"] = 999  # a new pig in a seen week: only the week effect remains
    got = res.predict("fitted", newdata=new)
    u_week = re["week"]["R.week"].loc[new.loc[1, "week"]]
    assert got[1] == pytest.approx(res.predict("xb", newdata=new)[1] + u_week, rel=1e-12)


def test_estimation_sample_statistics_refused_on_newdata():
    res = fitted("bangladesh", "melogit c_use urban age child* || district:")
    with pytest.raises(MemodelsError, match="estimation sample only"):
        res.predict("scores", newdata=load_dataset("bangladesh"))
