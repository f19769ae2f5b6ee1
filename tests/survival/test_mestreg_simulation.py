"""Recovering known parameters: a Weibull random-intercept model with right censoring
and delayed entry (fitted by the GLMM engine with the survival family: mestreg itself
refuses delayed entry, as Stata does), split multiple-record data giving the same fit
as single records, and mestreg's data checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from memodels.commands.mestreg import mestreg
from memodels.design import build_design
from memodels.errors import DataError, OptionError
from memodels.glmm.fit import fit_glmm
from memodels.lmm.terms import engine_terms
from memodels.survival import make_distribution, stset
from memodels.syntax import parse_model

TRUTH = {"x": 0.6, "_cons": -2.0, "/ln_p": 0.4, "var": 0.5}


def _simulate(seed=20240, clusters=200, size=6):
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(clusters), size)
    n = g.size
    x = rng.normal(size=n)
    u = rng.normal(0.0, np.sqrt(TRUTH["var"]), clusters)[g]
    p = np.exp(TRUTH["/ln_p"])
    lam = np.exp(TRUTH["_cons"] + TRUTH["x"] * x + u)
    # delayed entry: T observed only if T > t0; draw T from S(t | T > t0)
    t0 = np.where(rng.random(n) < 0.5, rng.uniform(0.0, 2.0, n), 0.0)
    e = rng.exponential(size=n)
    t = ((e + lam * t0**p) / lam) ** (1 / p)
    c = t0 + rng.uniform(0.5, 8.0, n)  # censoring after entry
    d = (t <= c).astype(float)
    return pd.DataFrame({"g": g, "x": x, "_t": np.minimum(t, c), "_t0": t0, "_d": d})


def test_weibull_with_censoring_and_delayed_entry():
    df = _simulate()
    assert 0.2 < 1 - df["_d"].mean() < 0.6 and (df["_t0"] > 0).mean() > 0.4
    model = parse_model("x || g:", "mestreg", list(df.columns),
                        options={"distribution": "weibull"})
    design = build_design(model, df)
    fam = make_distribution("weibull").bind(t0=df["_t0"].to_numpy(), d=df["_d"].to_numpy())
    fit = fit_glmm(design.y, design.X, engine_terms(design.terms), fam)
    assert fit.converged
    se = np.sqrt(np.diag(fit.vcov))
    est = {"x": fit.params[0], "_cons": fit.params[1], "/ln_p": fit.params[2],
           "lnsd": fit.params[3]}
    for k, name in enumerate(["x", "_cons", "/ln_p"]):
        assert abs(est[name] - TRUTH[name]) < 3.5 * se[k], name
    assert abs(est["lnsd"] - 0.5 * np.log(TRUTH["var"])) < 3.5 * se[3]
    # ignoring the delayed entry biases the fit: the truncation term matters
    naive = make_distribution("weibull").bind(t0=np.zeros(len(df)), d=df["_d"].to_numpy())
    fit0 = fit_glmm(design.y, design.X, engine_terms(design.terms), naive)
    assert abs(fit0.params[1] - TRUTH["_cons"]) > abs(est["_cons"] - TRUTH["_cons"])


@pytest.fixture(scope="module")
def catheter_like():
    df = _simulate(seed=7, clusters=60, size=2)
    df = df[df["_t0"] == 0].drop(columns=["_t", "_t0", "_d"]).reset_index(drop=True)
    rng = np.random.default_rng(3)
    df["time"] = rng.weibull(1.3, len(df)) * 20 + 0.5
    df["fail"] = (rng.random(len(df)) < 0.7).astype(int)
    df["sid"] = np.arange(len(df))
    return df


@pytest.mark.parametrize("dist", ["weibull", "gamma", "lognormal", "loglogistic",
                                  "exponential"])
def test_split_records_give_the_same_fit(catheter_like, dist):
    """Multiple records per subject: S(t0) terms telescope, so splitting each subject's
    follow-up at an interior time leaves the likelihood unchanged."""
    df = catheter_like
    one = stset(df, "time", "fail", id="sid")
    first = df.assign(time=df["time"] / 2, fail=0)
    split = stset(pd.concat([first, df], ignore_index=True), "time", "fail", id="sid")
    assert (split["_t0"] > 0).sum() == len(df)
    r1 = mestreg(f"x || g:, distribution({dist}) nolog", one)
    r2 = mestreg(f"x || g:, distribution({dist}) nolog", split)
    assert r2.nobs == 2 * r1.nobs
    assert r2.llf == pytest.approx(r1.llf, abs=1e-6)
    np.testing.assert_allclose(r2.params.to_numpy(), r1.params.to_numpy(), rtol=1e-5,
                               atol=1e-7)


def test_mestreg_data_checks(catheter_like):
    df = catheter_like
    with pytest.raises(DataError, match="not st"):
        mestreg("x || g:, distribution(weibull)", df)
    late = stset(df.assign(ent=1.0 * (df.index % 3 == 0) * 0.1), "time", "fail", enter="ent")
    with pytest.raises(DataError, match="delayed entry"):
        mestreg("x || g:, distribution(weibull) nolog", late)
    # a gap: the second record of a subject enters after the first one ends
    first = df.assign(time=df["time"] / 2, fail=0, ent=0.0)
    second = df.assign(ent=df["time"] * 0.75)
    gappy = stset(pd.concat([first, second], ignore_index=True), "time", "fail", id="sid",
                  enter="ent")
    with pytest.raises(DataError, match="gaps"):
        mestreg("x || g:, distribution(weibull) nolog", gappy)
    # subjects must be nested within clusters
    crossed = pd.concat([first.drop(columns="ent"),
                         df.assign(g=(df["g"] + 1) % df["g"].max())], ignore_index=True)
    with pytest.raises(DataError, match="nested"):
        mestreg("x || g:, distribution(weibull) nolog", stset(crossed, "time", "fail",
                                                                 id="sid"))
    st = stset(df, "time", "fail")
    with pytest.raises(OptionError, match="distribution"):
        mestreg("x || g:", st)
    with pytest.raises(OptionError, match="nohr"):
        mestreg("x || g:, distribution(lognormal) nohr nolog", st)
    with pytest.raises(OptionError, match="tratio"):
        mestreg("x || g:, distribution(weibull) tratio nolog", st)
    res = mestreg("x || g:, distribution(weibull) nolog", st)
    with pytest.raises(OptionError, match="time"):
        res.replay(time=True)
    assert res.replay(nolrtest=True).lr_test is None
    assert res.frm2 == "hazard" and res.distribution == "weibull"


def _simulate_aft(dist, seed, clusters=200, size=6, xb0=1.0, bx=0.5, s=0.6, var=0.3):
    """Draws from the AFT forms with delayed entry (T | T > t0 by inverting
    S(T) = U S(t0)) and right censoring; ln s is the ancillary parameter."""
    from scipy import stats

    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(clusters), size)
    n = g.size
    x = rng.normal(size=n)
    mu = xb0 + bx * x + rng.normal(0, np.sqrt(var), clusters)[g]
    t0 = np.where(rng.random(n) < 0.5, rng.uniform(0.0, 1.0, n), 0.0)
    u = rng.random(n)
    if dist == "lognormal":
        surv0 = stats.norm.sf((np.log(np.maximum(t0, 1e-300)) - mu) / s)
        t = np.exp(mu + s * stats.norm.isf(u * surv0))
    elif dist == "loglogistic":
        surv0 = 1 / (1 + np.exp((np.log(np.maximum(t0, 1e-300)) - mu) / s))
        t = np.exp(mu + s * np.log(1 / (u * surv0) - 1))
    else:  # gamma: shape 1/s^2, mean exp(mu)
        k = 1 / s**2
        surv0 = stats.gamma.sf(t0, k, scale=np.exp(mu) / k)
        t = stats.gamma.isf(u * surv0, k, scale=np.exp(mu) / k)
    c = t0 + rng.uniform(1.0, 10.0, n) * np.exp(xb0)
    d = (t <= c).astype(float)
    return pd.DataFrame({"g": g, "x": x, "_t": np.minimum(t, c), "_t0": t0, "_d": d}), s


@pytest.mark.parametrize("dist", ["lognormal", "loglogistic", "gamma"])
def test_aft_distributions_recover_parameters(dist):
    """Each AFT distribution, with censoring and delayed entry, recovers its coefficients,
    its ancillary parameter (ln s) and the random-intercept variance within 4 SEs."""
    df, s = _simulate_aft(dist, seed=11)
    model = parse_model("x || g:", "mestreg", list(df.columns), options={"distribution": dist})
    design = build_design(model, df)
    fam = make_distribution(dist).bind(t0=df["_t0"].to_numpy(), d=df["_d"].to_numpy())
    fit = fit_glmm(design.y, design.X, engine_terms(design.terms), fam)
    assert fit.converged
    se = np.sqrt(np.diag(fit.vcov))
    truth = [0.5, 1.0, np.log(s), 0.5 * np.log(0.3)]
    for k, value in enumerate(truth):
        assert abs(fit.params[k] - value) < 4 * se[k], (dist, k, fit.params[k], value)


def test_exponential_recovers_parameters():
    """Exponential PH with censoring and delayed entry: T | T > t0 = t0 + E / lambda."""
    rng = np.random.default_rng(5)
    clusters, size = 200, 6
    g = np.repeat(np.arange(clusters), size)
    n = g.size
    x = rng.normal(size=n)
    lam = np.exp(-1.5 + 0.7 * x + rng.normal(0, np.sqrt(0.4), clusters)[g])
    t0 = np.where(rng.random(n) < 0.5, rng.uniform(0.0, 2.0, n), 0.0)
    t = t0 + rng.exponential(size=n) / lam
    c = t0 + rng.uniform(0.5, 8.0, n)
    df = pd.DataFrame({"g": g, "x": x, "_t": np.minimum(t, c), "_t0": t0,
                       "_d": (t <= c).astype(float)})
    model = parse_model("x || g:", "mestreg", list(df.columns),
                        options={"distribution": "exponential"})
    design = build_design(model, df)
    fam = make_distribution("exponential").bind(t0=df["_t0"].to_numpy(), d=df["_d"].to_numpy())
    fit = fit_glmm(design.y, design.X, engine_terms(design.terms), fam)
    se = np.sqrt(np.diag(fit.vcov))
    for k, value in enumerate([0.7, -1.5, 0.5 * np.log(0.4)]):
        assert abs(fit.params[k] - value) < 4 * se[k], (k, fit.params[k], value)
