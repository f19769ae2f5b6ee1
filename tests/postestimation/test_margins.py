"""margins: average fixed-portion predictions and marginal effects with delta-method SEs,
and marginsplot (the hdp worked analysis's use)."""

from __future__ import annotations

import numpy as np
import pytest

import memodels
from memodels.datasets import load
from support import load_dataset, shared_available


def test_linear_margins_are_exact():
    pig = load("pig")
    res = memodels.mixed("weight week || id:", pig, nolog=True)
    tab = res.margins(pig, at={"week": [1, 5, 9]})
    b, v = res.fe_params.to_numpy(), res.vcov.iloc[:2, :2].to_numpy()
    for week, row in zip([1, 5, 9], tab.itertuples(), strict=True):
        x = np.array([week, 1.0])
        assert row.margin == pytest.approx(x @ b, rel=1e-12)
        assert row.se == pytest.approx(np.sqrt(x @ v @ x), rel=1e-10)
    slope = res.margins(pig, dydx="week").iloc[0]
    assert slope.margin == pytest.approx(res.params["week"], rel=1e-7)
    assert slope.se == pytest.approx(res.bse["week"], rel=1e-6)


@pytest.mark.skipif(not shared_available(), reason="shared data absent")
def test_glmm_margins_and_plot():
    df = load_dataset("hdp_encoded")
    res = memodels.melogit("remission il6 crp i.cancerstage lengthofstay experience || did:",
                           df, nolog=True)
    overall = res.margins(df).iloc[0]
    fixed = res.predict("mu", conditional="fixedonly")
    assert overall.margin == pytest.approx(float(fixed.mean()), rel=1e-10)
    effects = res.margins(df, dydx="i.cancerstage")
    base = res.margins(df, at={"cancerstage": [1, 2, 3, 4]})["margin"].to_numpy()
    np.testing.assert_allclose(effects["margin"], base[1:] - base[0], rtol=1e-10)
    assert (effects["se"] > 0).all()
    tab = res.margins(df, at={"lengthofstay": [2, 6, 10], "cancerstage": [1, 4]})
    assert len(tab) == 6 and {"lengthofstay", "cancerstage"} <= set(tab.columns)
    pytest.importorskip("matplotlib")
    from memodels.postestimation.margins import marginsplot

    fig = marginsplot(tab)
    assert fig.axes and fig.axes[0].get_xlabel() == "lengthofstay"


def test_dydx_of_a_continuous_variable_interacted_with_a_factor():
    """``dydx(week)`` after ``i.late##c.week``: week is continuous (the column
    ``1.late#c.week`` does not make it a factor); the AME is b_week + b_int * mean(late)."""
    import memodels

    df = memodels.datasets.load("pig").copy()
    df["late"] = (df["id"] > 24).astype(int)
    res = memodels.mixed("weight i.late##c.week || id:", df, log=False)
    out = res.margins(df, dydx="week", at={"week": [2, 5]})
    want = res.params["week"] + res.params["1.late#c.week"] * df["late"].mean()
    assert list(out["term"]) == ["week", "week"]
    np.testing.assert_allclose(out["margin"], want, rtol=1e-6)
