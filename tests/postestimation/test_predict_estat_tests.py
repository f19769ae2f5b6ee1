"""predict on new data (NaN for missing covariates), GLMM predictions, estat, Wald tests,
lincom/nlcom, lrtest refusals and clear errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import memodels
from memodels.errors import MemodelsError, OptionError
from memodels.postestimation import lrtest
from support import fitted, load_dataset

PIG_RI = "mixed weight week || id:"
T43 = "mixed score i.drug || person:, reml"
BANG = "melogit c_use urban age child* || district:"


def _augmented_pig():
    df = load_dataset("pig").copy()
    extra = pd.DataFrame({"id": [1, 999, np.nan], "week": [10, 3, 2],
                          "weight": [np.nan, 1.0, 2.0]}, index=[1000, 1001, 1002])
    new = pd.concat([df, extra])
    new.loc[5, "week"] = np.nan
    return new


# --------------------------------------------------------------------- mixed
def test_predict_new_data_alignment_and_missing():
    res = fitted("pig", PIG_RI)
    new = _augmented_pig()
    b = res.params
    xb = res.predict("xb", data=new)
    assert xb.index.equals(new.index)
    assert np.isnan(xb[5])  # missing covariate -> NaN, no error
    assert xb[1000] == pytest.approx(b["week"] * 10 + b["_cons"])
    assert xb[1001] == pytest.approx(b["week"] * 3 + b["_cons"])
    stdp = res.predict("stdp", data=new)
    x = np.array([10.0, 1.0])
    v = res.vcov.loc[["week", "_cons"], ["week", "_cons"]].to_numpy()
    assert stdp[1000] == pytest.approx(np.sqrt(x @ v @ x))
    fit_new = res.predict("fitted", data=new)
    u = res.predict("reffects")
    first_pig1 = res.design.index[0]
    # id 1 seen in estimation: its BLUP is used out of sample; unseen/missing id -> NaN
    assert fit_new[1000] == pytest.approx(xb[1000] + u.loc[first_pig1, "_cons[id]"])
    assert np.isnan(fit_new[1001]) and np.isnan(fit_new[1002])
    # in-sample rows agree with the default (estimation-sample) predictions
    insample = res.predict("fitted")
    rows = [0, 1, 2, 100]
    np.testing.assert_allclose(fit_new.loc[rows], insample.loc[rows])
    rs = res.predict("rstandard", data=new)
    assert np.isnan(rs[1001])  # estimation sample only
    np.testing.assert_allclose(rs.loc[rows], res.predict("rstandard").loc[rows])


def test_predict_new_data_factor_variables():
    res = fitted("t43", T43)
    df = load_dataset("t43")
    new = pd.DataFrame({"drug": [1, 3, np.nan, 4], "score": [1, 2, 3, 4]}, index=list("abcd"))
    xb = res.predict("xb", data=new)
    b = res.params
    assert xb["a"] == pytest.approx(b["_cons"])
    assert xb["b"] == pytest.approx(b["_cons"] + b["3.drug"])
    assert np.isnan(xb["c"])
    assert xb["d"] == pytest.approx(b["_cons"] + b["4.drug"])
    np.testing.assert_allclose(res.predict("xb", data=df), res.predict("xb").to_numpy())


def test_reffects_need_estimation_data():
    res = fitted("pig", PIG_RI)
    other = pd.DataFrame({"id": [1], "week": [1.0], "weight": [3.0]}, index=[10_000])
    with pytest.raises(MemodelsError, match="estimation"):
        res.predict("fitted", data=other)
    # xb needs no groups
    assert res.predict("xb", data=other).notna().all()


def test_predict_errors_are_clear():
    res = fitted("pig", PIG_RI)
    with pytest.raises(OptionError, match="not allowed"):
        res.predict("mu")
    with pytest.raises(OptionError, match="relevel"):
        res.predict("xb", relevel="id")
    with pytest.raises(OptionError, match="level not found"):
        res.predict("reffects", relevel="school")
    with pytest.raises(OptionError, match="relevel"):  # scores: test_scores_mixed.py
        res.predict("scores", relevel="id")
    with pytest.raises(OptionError):
        res.estat("nonsense")


def test_estat_icc_two_level_by_hand():
    res = fitted("pig", PIG_RI)
    icc = res.estat("icc", level=90)
    s2u, s2e = res.params["var(_cons[id])"], res.params["var(e)"]
    rho = s2u / (s2u + s2e)
    assert icc.loc["id", "icc"] == pytest.approx(rho)
    # delta method in the estimation metric (ln sd) == delta method on the variances
    g = np.array([s2e, -s2u]) / (s2u + s2e) ** 2
    v = res.vcov.loc[["var(_cons[id])", "var(e)"], ["var(_cons[id])", "var(e)"]].to_numpy()
    se = np.sqrt(g @ v @ g)
    assert icc.loc["id", "se"] == pytest.approx(se, rel=1e-8)
    z = stats.norm.ppf(0.95)
    lg = np.log(rho / (1 - rho))
    lo = 1 / (1 + np.exp(-(lg - z * se / (rho * (1 - rho)))))
    assert icc.loc["id", "lower"] == pytest.approx(lo)
    assert icc.title == "Residual intraclass correlation"


def test_estat_icc_refusals():
    with pytest.raises(OptionError, match="crossed"):
        fitted("pig", "mixed weight week || _all: R.week || _all: R.id").estat("icc")
    res = fitted("pig", "mixed weight week || id: week, covariance(unstructured)")
    assert res.estat("icc").title == "Conditional intraclass correlation"


def test_estat_sd_recovariance():
    res = fitted("pig", "mixed weight week || id: week, covariance(unstructured)")
    sd = res.estat("sd")
    assert sd.loc["sd(_cons[id])", "estimate"] == pytest.approx(
        np.sqrt(res.params["var(_cons[id])"]))
    assert sd.loc["sd(Residual)", "estimate"] == pytest.approx(np.sqrt(res.params["var(e)"]))
    cov = res.estat("recovariance")["id"]
    assert cov.loc["week", "_cons"] == pytest.approx(res.params["cov(week,_cons[id])"])
    assert cov.loc["week", "week"] == pytest.approx(res.params["var(week[id])"])


def test_wcorrelation_at_cluster():
    res = fitted("pig", "mixed weight week || id: week, covariance(unstructured)")
    wc = res.estat("wcorrelation", at={"id": 3}, data=load_dataset("pig"))
    assert len(wc["sd"]) == 9
    with pytest.raises(OptionError):
        res.estat("wcorrelation", at={"id": 3})


# --------------------------------------------------------------- Wald etc.
def test_test_lincom_nlcom():
    res = fitted("pig", "mixed weight week || id: week")
    b, v = res.params, res.vcov
    t = res.test("week = 0")
    assert t.chi2 == pytest.approx((b["week"] / res.bse["week"]) ** 2)
    assert t.p == pytest.approx(stats.chi2.sf(t.chi2, 1))
    t2 = res.test("_b[week] - 6 = 0")
    assert t2.chi2 == pytest.approx(((b["week"] - 6) / res.bse["week"]) ** 2)
    lc = res.lincom("week + 2*_cons")
    c = np.array([1.0, 2.0])
    vv = v.loc[["week", "_cons"], ["week", "_cons"]].to_numpy()
    assert lc.estimate == pytest.approx(b["week"] + 2 * b["_cons"])
    assert lc.se == pytest.approx(np.sqrt(c @ vv @ c))
    assert lc.p == pytest.approx(2 * stats.norm.sf(abs(lc.z)))
    nl = res.nlcom("_b[week] / _b[_cons]")
    g = np.array([1 / b["_cons"], -b["week"] / b["_cons"] ** 2])
    assert nl.estimate == pytest.approx(b["week"] / b["_cons"])
    assert nl.se == pytest.approx(np.sqrt(g @ vv @ g), rel=1e-6)
    nl2 = res.nlcom("exp(week)")
    assert nl2.se == pytest.approx(np.exp(b["week"]) * res.bse["week"], rel=1e-6)
    with pytest.raises(OptionError):
        res.test("nosuchvar = 0")
    with pytest.raises(OptionError, match="linear"):
        res.lincom("week * _cons")


def test_dependent_constraints_dropped():
    res = fitted("t43", T43)
    t = res.test(["2.drug = 3.drug", "3.drug = 2.drug"])
    assert t.df == 1 and t.dropped == [1]


def test_lrtest_refusals():
    ri = fitted("pig", PIG_RI)
    sub = fitted("pig", "mixed weight week if id <= 12 || id: week, covariance(unstructured)")
    with pytest.raises(MemodelsError, match="observations differ"):
        lrtest(ri, sub)
    reml = fitted("pig", "mixed weight week || id:, reml")
    with pytest.raises(MemodelsError, match="REML"):
        lrtest(ri, reml)
    reml_nofe = fitted("pig", "mixed weight || id:, reml")
    with pytest.raises(MemodelsError, match="fixed-effects"):
        lrtest(reml, reml_nofe)
    with pytest.raises(MemodelsError, match="df"):
        lrtest(ri, ri)


# -------------------------------------------------------------------- GLMM
@pytest.fixture(scope="module")
def bang():
    return fitted("bangladesh", BANG)


def test_glmm_predictions_consistent(bang):
    xb = bang.predict("xb")
    re = bang.predict("reffects")
    assert list(re.columns) == ["_cons[district]"]
    eta = bang.predict("eta")
    np.testing.assert_allclose(eta, xb + re["_cons[district]"])
    mu = bang.predict()  # (option mu assumed)
    np.testing.assert_allclose(mu, 1 / (1 + np.exp(-eta)))
    np.testing.assert_allclose(bang.predict("pr"), mu)
    fixed = bang.predict("mu", conditional="fixedonly")
    np.testing.assert_allclose(fixed, 1 / (1 + np.exp(-xb)))
    se = bang.predict("reses")
    assert (se["_cons[district]"] > 0).all()
    assert (se["_cons[district]"] < np.sqrt(bang.params["var(_cons[district])"])).all()


def test_glmm_errors_and_new_data(bang):
    modes = bang.predict("mu", conditional="ebmodes")
    means = bang.predict("mu")
    assert np.all(np.isfinite(modes)) and np.abs(modes - means).max() < 0.05
    with pytest.raises(OptionError, match="Gaussian"):
        bang.predict("residuals")
    with pytest.raises(OptionError):
        bang.predict("fitted")
    df = load_dataset("bangladesh").copy()
    df.loc[3, "age"] = np.nan
    mu = bang.predict("mu", data=df)
    assert np.isnan(mu[3]) and mu.index.equals(df.index)
    np.testing.assert_allclose(mu.drop(3), bang.predict("mu").drop(3))


def test_glmm_icc_logit(bang):
    icc = bang.estat("icc")
    s2 = bang.params["var(_cons[district])"]
    assert icc.loc["district", "icc"] == pytest.approx(s2 / (s2 + np.pi ** 2 / 3))
    se_var = bang.bse["var(_cons[district])"]
    d = (np.pi ** 2 / 3) / (s2 + np.pi ** 2 / 3) ** 2
    assert icc.loc["district", "se"] == pytest.approx(d * se_var, rel=1e-6)


def test_lrtest_glmm_vs_mixed_refused(bang):
    with pytest.raises(MemodelsError):
        lrtest(bang, fitted("pig", PIG_RI))


def test_methods_attached():
    res = memodels.fit("mixed weight week || id:", load_dataset("pig"), nolog=True)
    for name in ("predict", "estat", "test", "testparm", "lincom", "nlcom"):
        assert callable(getattr(res, name))
