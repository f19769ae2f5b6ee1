"""predict, margins and stcurve after mestreg ([ME] mestreg postestimation, examples 1-3)
against the printed figures (shared/reference/examples_count_ordinal_surv.json:
mestreg_post_ex1..3): predictions and margins to 1e-4 relative, delta-method SEs to
1e-3; and properties of the predictions for every distribution (marginal = integral over
the random-effects normal, median solves S = 1/2, mean = int S, hazard = g/S, missing
covariates give NaN)."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from memodels.commands.mestreg import mestreg
from memodels.errors import OptionError
from memodels.survival import stset
from memodels.survival.functions import survival
from support import load_dataset, me_examples

DISTS = ["distribution(weibull)", "distribution(weibull) time", "distribution(exponential)",
         "distribution(lognormal)", "distribution(loglogistic)", "distribution(gamma)"]


@functools.cache
def _st() -> pd.DataFrame:
    return stset(load_dataset("catheter"), "time", "infect")


@functools.cache
def _fit(options: str):
    return mestreg(f"age female || patient:, {options} nolog", _st())


def _step(ex_id: str, prefix: str) -> dict:
    return next(s for s in me_examples()[ex_id]["postestimation"]
                if s["command"].startswith(prefix))


# ------------------------------------------------------------------ the manual
def test_example1_marginal_and_conditional_means():
    res = _fit("distribution(weibull)")
    d = _st().assign(m_marg=res.predict("mean", marginal=True),
                     m_cond=res.predict("mean", conditional="ebmeans"))
    d = d.sort_values(["female", "age", "patient"], kind="mergesort").reset_index(drop=True)
    for row in _step("mestreg_post_ex1", "sort female age patient")["rows"]:
        got = d.iloc[row["obs"] - 1]
        assert (got["patient"], got["age"], got["female"]) == (
            row["patient"], row["age"], row["female"])
        assert got["m_marg"] == pytest.approx(row["m_marg"], rel=1e-4)
        assert got["m_cond"] == pytest.approx(row["m_cond"], rel=1e-4)
    assert res.predict("mean").attrs["notes"] == [
        "(predictions based on fixed effects and posterior means of random effects)",
        "(using 7 quadrature points)"]


def test_example1_margins_table():
    res = _fit("distribution(weibull)")
    step = _step("mestreg_post_ex1", "margins")
    tab = res.margins(_st(), predict="mean marginal",
                      at={"female": 0, "age": step["ages"]})
    assert tab.attrs["expression"] == step["header"]["Expression"]
    assert list(tab["age"]) == step["ages"]
    for (_, got), (_, m, se, z, p, lo, hi) in zip(tab.iterrows(), step["rows"], strict=True):
        assert got["margin"] == pytest.approx(m, rel=1e-4)
        assert got["se"] == pytest.approx(se, rel=1e-3)
        assert round(got["z"], 2) == pytest.approx(z, abs=0.0051)
        assert got["p"] == pytest.approx(p, abs=6e-4)
        assert got["ci_lower"] == pytest.approx(lo, rel=1e-3)
        assert got["ci_upper"] == pytest.approx(hi, rel=1e-3)
    # the default prediction is the marginal mean ("marginal is assumed")
    default = res.margins(_st(), at={"female": 0, "age": 60})
    assert default["margin"].iloc[0] == pytest.approx(tab["margin"].iloc[8], rel=1e-12)


def test_example2_survivor_functions():
    res = _fit("distribution(weibull)")
    s_marg = res.predict("surv", marginal=True)
    assert s_marg.attrs["notes"] == ["(using 7 quadrature points)"]
    d = _st().assign(S_marg=s_marg, S_cond=res.predict("survival", conditional="ebmeans"))
    d = d.sort_values(["female", "age", "patient", "_t"], kind="mergesort")
    d = d.reset_index(drop=True)
    for row in _step("mestreg_post_ex2", "sort female age patient _t")["rows"]:
        got = d.iloc[row["obs"] - 1]
        assert (got["patient"], got["_t"]) == (row["patient"], row["_t"])
        assert got["S_marg"] == pytest.approx(row["S_marg"], rel=1e-4)
        assert got["S_cond"] == pytest.approx(row["S_cond"], rel=1e-4)


def test_example2_stcurve_structure():
    res = _fit("distribution(weibull)")
    curve = res.stcurve("survival", data=_st(),
                        at=[{"female": 0, "age": 53}, {"female": 1, "age": 53}])
    tab = curve.data
    assert list(tab.columns) == ["_at", "_t", "surv"]
    times = np.unique(_st()["_t"])
    np.testing.assert_array_equal(tab.loc[tab["_at"] == 1, "_t"], times)
    males, females = (tab.loc[tab["_at"] == k, "surv"].to_numpy() for k in (1, 2))
    # "the survivor function for females is above the survivor function for males"
    assert np.all(females > males) and np.all(np.diff(males) < 0)
    # the curve at the data's times is predict, surv marginal for that covariate pattern
    row = _st().index[(_st()["patient"] == 29) & (_st()["_t"] == 25)][0]
    s = res.predict("surv", marginal=True).loc[row]
    assert males[np.searchsorted(times, 25)] == pytest.approx(s, rel=1e-12)
    assert len(curve.figure.axes[0].lines) == 2


def test_example3_marginal_hazards():
    """Weibull AFT and gamma marginal hazards at female = 1 (graphs in the manual): the
    marginal hazard rises then falls while the conditional ones are monotonic, and the
    two models' marginal hazards are similar."""
    assert me_examples()["mestreg_post_ex3"]["postestimation"][0]["note"] == "graph only"
    curves = {}
    for opt in ("distribution(weibull) time", "distribution(gamma)"):
        res = _fit(opt)
        marg = res.stcurve("hazard", data=_st(), at={"female": 1}, plot=False).data
        cond = res.stcurve("hazard", data=_st(), at={"female": 1}, fixedonly=True,
                           plot=False).data["hazard"].to_numpy()
        h = marg["hazard"].to_numpy()
        peak = int(np.argmax(h))
        assert 0 < peak < h.size - 1
        assert np.all(np.diff(h[: peak + 1]) > 0) and np.all(np.diff(h[peak:]) < 0)
        assert np.all(np.diff(cond) > 0)  # p > 1, gamma shape > 1: increasing
        curves[opt] = h
    w, g = curves.values()
    assert np.max(np.abs(w - g) / w) < 0.25


# ------------------------------------------------------------------ properties
@pytest.mark.parametrize("options", DISTS)
def test_marginal_survival_is_the_integral(options):
    res = _fit(options)
    fam, a = res.family_obj, float(res.fit.aux[0]) if res.fit.n_aux else 0.0
    v = float(res.params["var(_cons[patient])"])
    xb = res.predict("xb").to_numpy()
    t = _st()["_t"].to_numpy()
    got = res.predict("surv", marginal=True, intpoints=40).to_numpy()
    sd = v ** 0.5
    for i in (0, 17, 60):
        want = integrate.quad(
            lambda u, i=i: survival(fam, t[i], xb[i] + u, a) * stats.norm.pdf(u, 0, sd),
            -12 * sd, 12 * sd, epsabs=1e-13)[0]
        assert got[i] == pytest.approx(want, rel=1e-7)
    # the default is the estimation's 7-point Gauss-Hermite rule
    nodes, weights = np.polynomial.hermite_e.hermegauss(7)
    seven = [np.sum(weights * survival(fam, t[i], xb[i] + v ** .5 * nodes, a))
             / np.sqrt(2 * np.pi) for i in range(3)]
    np.testing.assert_allclose(res.predict("surv", marginal=True)[:3], seven, rtol=1e-12)


@pytest.mark.parametrize("options", DISTS)
def test_median_mean_hazard_identities(options):
    res = _fit(options)
    st = _st()
    fam, a = res.family_obj, float(res.fit.aux[0]) if res.fit.n_aux else 0.0
    med = res.predict("median")
    s_at_med = res.predict("surv", data=st.assign(_t=med))
    np.testing.assert_allclose(s_at_med, 0.5, rtol=1e-10)
    eta = res.predict("eta").to_numpy()
    mean = res.predict("mean").to_numpy()
    for i in (0, 33):
        want = integrate.quad(lambda x, i=i: survival(fam, x, eta[i], a), 0, np.inf,
                              limit=200)[0]
        assert mean[i] == pytest.approx(want, rel=1e-6)
    for how in ({}, {"conditional": "fixedonly"}, {"marginal": True}):
        h, g, s, f = (res.predict(k, **how).to_numpy()
                      for k in ("hazard", "density", "surv", "distribution"))
        np.testing.assert_allclose(h, g / s, rtol=1e-12)
        np.testing.assert_allclose(f, 1 - s, rtol=1e-12)
    np.testing.assert_allclose(
        eta, res.predict("xb") + res.predict("reffects")["_cons[patient]"], rtol=1e-12)
    np.testing.assert_allclose(res.predict("eta", conditional="fixedonly"), res.predict("xb"))


@pytest.mark.parametrize("options", ["distribution(weibull)", "distribution(gamma)"])
def test_missing_covariates_give_nan(options):
    res = _fit(options)
    d = _st().copy()
    d.loc[[3, 10], "age"] = np.nan
    d.loc[20, "_t"] = np.nan
    for stat in ("mean", "median", "hazard", "surv", "density", "distribution", "eta", "xb",
                 "stdp"):
        for how in ({}, {"marginal": True}):
            if how and stat in ("xb", "stdp"):
                continue
            out = res.predict(stat, data=d, **how)
            assert out.loc[[3, 10]].isna().all(), (stat, how)
            ok = out.drop([3, 10, 20])
            assert np.isfinite(ok).all(), (stat, how)
            assert np.isnan(out.loc[20]) == (stat in ("hazard", "surv", "density",
                                                      "distribution")), (stat, how)


def test_weibull_ph_and_aft_agree_and_stata_marginal_mean():
    """The PH and AFT fits are one model: the same survivor functions and conditional
    means; Stata 14's marginal mean of the PH fit integrates an unscaled effect on log
    time (factor exp(v/2) instead of exp(v / 2p^2)), exactmarginal gives the integral."""
    ph, aft = _fit("distribution(weibull)"), _fit("distribution(weibull) time")
    for stat, how in (("surv", {"marginal": True}), ("surv", {}), ("hazard", {}),
                      ("mean", {}), ("median", {"conditional": "fixedonly"})):
        np.testing.assert_allclose(ph.predict(stat, **how), aft.predict(stat, **how),
                                   rtol=2e-5)
    exact_ph = ph.predict("mean", marginal=True, exactmarginal=True)
    np.testing.assert_allclose(exact_ph, aft.predict("mean", marginal=True), rtol=2e-5)
    p, v = np.exp(ph.ln_p), ph.params["var(_cons[patient])"]
    stata = ph.predict("mean", marginal=True, intpoints=30)
    fixed = ph.predict("mean", conditional="fixedonly")
    np.testing.assert_allclose(stata / fixed, np.exp(v / 2), rtol=1e-9)
    np.testing.assert_allclose(
        ph.predict("mean", marginal=True, exactmarginal=True, intpoints=30) / fixed,
        np.exp(v / (2 * p * p)), rtol=1e-9)


def test_margins_options_and_errors():
    res = _fit("distribution(gamma)")
    st = _st()
    med = res.margins(st, predict="median marginal", at={"female": 1, "age": 50})
    want = res.predict("median", data=st.assign(female=1, age=50), marginal=True).mean()
    assert med["margin"].iloc[0] == pytest.approx(want, rel=1e-12)
    fixed = res.margins(st, predict="mean conditional(fixedonly)")
    want = res.predict("mean", conditional="fixedonly").mean()
    assert fixed["margin"].iloc[0] == pytest.approx(want, rel=1e-12)
    assert fixed.attrs["expression"].startswith("Predicted mean")
    xb = res.margins(st, predict="xb")
    assert xb["margin"].iloc[0] == pytest.approx(res.predict("xb").mean(), rel=1e-12)
    for bad in ("hazard", "surv", "mean conditional(ebmeans)"):
        with pytest.raises(OptionError):
            res.margins(st, predict=bad)
    with pytest.raises(OptionError):
        res.predict("mean", marginal=True, conditional="ebmodes")
    with pytest.raises(OptionError):
        res.predict("xb", marginal=True)
    with pytest.raises(OptionError):
        res.predict("mu")
    scores = res.predict("scores")  # ML scores sum to ~0 at the estimates
    assert list(scores.columns) == list(res.params.index)
    assert np.max(np.abs(scores.sum())) < 1e-4
    with pytest.raises(OptionError):
        res.predict("surv", data=st.drop(columns="_t"))
