"""margins: average predictions (xb after mixed and meqr; marginal mu after the me
commands) and marginal effects with delta-method SEs, and marginsplot (the hdp worked
analysis's table and plot)."""

from __future__ import annotations

import numpy as np
import pytest

import memodels
from memodels.datasets import load
from support import load_dataset


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


def test_glmm_margins_and_plot():
    df = load_dataset("hdp_encoded")
    res = memodels.melogit("remission il6 crp i.cancerstage lengthofstay experience || did:",
                           df, nolog=True)
    # the default is marginal over the random effects; predict(mu fixedonly) is not
    overall = res.margins(df).iloc[0]
    marginal = res.predict("mu", marginal=True)
    assert overall.margin == pytest.approx(float(marginal.mean()), rel=1e-10)
    fixed = res.predict("mu", conditional="fixedonly")
    fixed_margin = res.margins(df, predict="mu fixedonly").iloc[0].margin
    assert fixed_margin == pytest.approx(float(fixed.mean()), rel=1e-10)
    effects = res.margins(df, dydx="i.cancerstage")
    base = res.margins(df, at={"cancerstage": [1, 2, 3, 4]})["margin"].to_numpy()
    np.testing.assert_allclose(effects["margin"], base[1:] - base[0], rtol=1e-10)
    assert (effects["se"] > 0).all()
    tab = res.margins(df, at={"lengthofstay": [2, 6, 10], "cancerstage": [1, 4]})
    assert len(tab) == 6 and {"lengthofstay", "cancerstage"} <= set(tab.columns)
    pytest.importorskip("matplotlib")
    from memodels.plot import marginsplot

    ax = marginsplot(tab, pyplot=False)
    assert ax.get_xlabel() == "lengthofstay" and len(ax.containers) == 2


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


# the hdp worked analysis (shared/spec/000_...): margins, at(lengthofstay=(1(1)10)) after
# the 7-point random-intercept melogit, printed with delta-method standard errors
HDP_MARGINS = [(.3616372, .0246409), (.3454716, .0207823), (.3296149, .0174897),
               (.3140897, .0150098), (.2989158, .0136251), (.2841097, .0134924),
               (.2696851, .0144703), (.2556538, .0162025), (.2420253, .0183395),
               (.2288078, .0206373)]


def test_hdp_margins_table_reproduces():
    """Stata's margins after melogit average the prediction integrated over the random
    effects with the model's 7 quadrature points ("Option marginal is assumed where
    applicable", [ME] meglm postestimation); the SEs use the whole e(b)."""
    from support import fitted

    df = load_dataset("hdp_encoded")
    res = fitted("hdp_encoded", "melogit remission il6 crp i.cancerstage lengthofstay "
                                "experience || did:")
    tab = res.margins(df, at={"lengthofstay": list(range(1, 11))})
    want = np.array(HDP_MARGINS)
    np.testing.assert_allclose(tab["margin"], want[:, 0], rtol=1e-5)
    np.testing.assert_allclose(tab["se"], want[:, 1], rtol=1e-3)
    assert tab.attrs["expression"] == "Marginal predicted mean"


def test_glmm_margins_options_and_errors():
    from memodels.errors import OptionError
    from support import fitted

    tv = load_dataset("tvsfpors")
    ores = fitted("tvsfpors", "meologit thk prethk cc##tv || school:")
    every = ores.margins(tv)
    assert list(every["outcome"]) == [1, 2, 3, 4]
    assert every["margin"].sum() == pytest.approx(1.0, abs=1e-10)
    two = ores.margins(tv, predict="pr outcome(#2)")
    assert two["margin"].iloc[0] == pytest.approx(every["margin"].iloc[1], rel=1e-10)
    pr = ores.predict("pr", marginal=True)
    assert every["margin"].iloc[0] == pytest.approx(pr.iloc[:, 0].mean(), rel=1e-8)
    ep = load_dataset("epilepsy")
    pres = fitted("epilepsy", "mepoisson seizures treat lbas lbas_trt lage v4 || subject:")
    xb = pres.margins(ep, predict="xb").iloc[0]
    assert xb.margin == pytest.approx(float(pres.predict("xb").mean()), rel=1e-10)
    eta = pres.margins(ep, predict="eta").iloc[0]
    assert eta.margin == pytest.approx(xb.margin, rel=1e-12)
    for bad in ("reffects", "mu conditional(ebmeans)", "mu outcome(#1)", "pearson"):
        with pytest.raises(OptionError):
            pres.margins(ep, predict=bad)
    qr = fitted("epilepsy", "meqrpoisson seizures treat lbas lbas_trt lage v4 || subject:")
    assert qr.margins(ep).iloc[0].margin == pytest.approx(xb.margin, rel=1e-4)  # its xb
    with pytest.raises(OptionError, match="not allowed"):
        qr.margins(ep, predict="mu")
