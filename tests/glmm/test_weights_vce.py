"""Weights and robust/cluster VCE of the me commands ([ME] meglm, Options: weights,
fweight()/iweight()/pweight(), vce(); Methods and formulas, Survey data).

The manual's pisa2000 example has no data here, so these check the identities the
weighted pseudolikelihood must satisfy: "weighted estimation is achieved through the
direct application of w_j and w_{i|j} into the likelihood calculations ... to reflect
replicated clusters for w_j and replicated observations within clusters for w_{i|j}.
Because this estimation is based on replicated clusters and observations, frequency
weights are handled similarly" -- so integer weights must reproduce the replicated data
exactly -- and the robust VCE must be the sandwich of the clusters' scores.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import memodels
from memodels.errors import DataError, OptionError
from memodels.optimize import numdiff


def _two_level(seed: int = 11, groups: int = 30, m: int = 6) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(groups), m)
    x = rng.normal(size=g.size)
    u = rng.normal(scale=0.9, size=groups)
    y = (rng.uniform(size=g.size) < 1 / (1 + np.exp(-(0.2 + 0.8 * x + u[g])))).astype(int)
    return pd.DataFrame({
        "y": y, "x": x, "school": g, "district": g // 5, "one": 1.0,
        "fw": rng.integers(1, 4, g.size).astype(float),
        "kw": np.repeat(rng.integers(1, 3, groups), m).astype(float),
        "wstu": rng.uniform(0.5, 2.0, g.size),
        "wsch": np.repeat(rng.uniform(1.0, 4.0, groups), m),
    })


def _three_level(seed: int = 5, top: int = 10, mid: int = 3, m: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a = np.repeat(np.arange(top), mid * m)
    b = np.repeat(np.arange(mid), m)[np.tile(np.arange(mid * m), top)]
    bb = a * mid + b
    x = rng.normal(size=a.size)
    eta = 0.5 + 0.4 * x + rng.normal(scale=0.5, size=top)[a] + rng.normal(scale=0.4,
                                                                         size=top * mid)[bb]
    return pd.DataFrame({
        "y": rng.poisson(np.exp(eta)), "x": x, "region": a, "area": b,
        "fw": rng.integers(1, 3, a.size).astype(float),
        "kw": np.repeat(rng.integers(1, 3, top * mid), m).astype(float),
        "w1": np.repeat(rng.uniform(1.0, 3.0, top), mid * m),
        "w2": np.repeat(rng.uniform(1.0, 2.0, top * mid), m),
        "wi": rng.uniform(0.5, 1.5, a.size),
    })


@pytest.fixture(scope="module")
def two() -> pd.DataFrame:
    return _two_level()


@pytest.fixture(scope="module")
def three() -> pd.DataFrame:
    return _three_level()


def _same_fit(a, b, rtol: float = 1e-5) -> None:
    """Two separately converged fits of one criterion: equal to the optimizer's tolerance."""
    assert a.llf == pytest.approx(b.llf, abs=1e-6)
    np.testing.assert_allclose(a.params, b.params, rtol=rtol, atol=1e-8)
    np.testing.assert_allclose(a.bse, b.bse, rtol=rtol, atol=1e-8)


def _replicate(df: pd.DataFrame, counts: np.ndarray) -> pd.DataFrame:
    return df.loc[df.index.repeat(counts.astype(int))].reset_index(drop=True)


# ---------------------------------------------------------------- (a) observation fweights
def test_fweights_equal_replicated_observations_two_level(two):
    w = memodels.melogit("y x [fw=fw] || school:", two, nolog=True)
    big = memodels.melogit("y x || school:", _replicate(two, two.fw.to_numpy()), nolog=True)
    _same_fit(w, big)
    assert w.nobs == big.nobs == int(two.fw.sum())
    assert w.ll_label == "Log likelihood" and w.vce_type == "oim"
    assert w.lr_test is not None  # fweights keep the LR test
    assert w.lr_test.stat == pytest.approx(big.lr_test.stat, rel=1e-8)
    iw = memodels.melogit("y x [iw=fw] || school:", two, nolog=True)  # same criterion
    assert iw.llf == pytest.approx(w.llf, abs=1e-6)
    np.testing.assert_allclose(iw.params, w.params, rtol=1e-5)


def test_fweights_equal_replicated_observations_three_level(three):
    w = memodels.mepoisson("y x [fw=fw] || region: || area:", three, nolog=True)
    big = memodels.mepoisson("y x || region: || area:", _replicate(three, three.fw.to_numpy()),
                             nolog=True)
    _same_fit(w, big)


# ---------------------------------------------------------------- (b) level fweights
def test_level_fweights_equal_replicated_clusters_two_level(two):
    w = memodels.melogit("y x || school:, fweight(kw)", two, nolog=True)
    copies = []
    for c in range(int(two.kw.max())):
        part = two[two.kw > c].copy()
        part["school"] += 1000 * c
        copies.append(part)
    big = memodels.melogit("y x || school:", pd.concat(copies), nolog=True)
    _same_fit(w, big)


@pytest.mark.parametrize("method", ["mvaghermite", "mcaghermite"])
def test_weights_at_every_level_equal_replication_three_level(three, method):
    """[fw=] within areas, fweight() on areas (each replicated within its region) and on
    regions (each replicated whole)."""
    df = three.assign(kr=(three.region % 2 + 1).astype(float))
    w = memodels.mepoisson(f"y x [fw=fw] || region:, fweight(kr) || area:, fweight(kw) "
                           f"intmethod({method})", df, nolog=True)
    rows = _replicate(df, df.fw.to_numpy())
    areas = pd.concat([rows[rows.kw > c].assign(area=lambda d, c=c: d.area + 100 * c)
                       for c in range(2)])
    regions = pd.concat([areas[areas.kr > c].assign(region=lambda d, c=c: d.region + 100 * c)
                         for c in range(2)])
    big = memodels.mepoisson(f"y x || region: || area:, intmethod({method})", regions,
                             nolog=True)
    _same_fit(w, big)


# ---------------------------------------------------------------- (c) robust = sandwich
def _direct_sandwich(res, clusters: np.ndarray | None = None) -> np.ndarray:
    """H^{-1} B H^{-1} from central differences of the weighted per-cluster log
    likelihoods at the fitted adaptive parameters, mapped to Stata's metric."""
    fit = res.fit
    model, par, ad = fit.extra["model"], fit.extra["params_theta"], fit.extra["adaptive"]
    top_w = model.w_cl if hasattr(model, "w_cl") else model.w_lev
    top_w = None if top_w is None else (top_w if hasattr(model, "w_cl") else top_w[0])

    def per_cluster(p):
        lj = model.cluster_loglik(p, ad)[0]
        return lj if top_w is None else top_w * lj

    scores = numdiff.jacobian(per_cluster, par, rel=1e-6)
    np.testing.assert_allclose(scores, model.scores(par, ad), rtol=1e-5, atol=1e-6)
    if clusters is not None:
        summed = np.zeros((clusters.max() + 1, scores.shape[1]))
        np.add.at(summed, clusters, scores)
        scores = summed
    m = scores.shape[0]
    hess = numdiff.hessian(lambda p: model.loglik(p, ad), par, rel=1e-4)
    bread = np.linalg.inv(-hess)
    jac = fit.extra["jacobian"]
    # the Jacobian is the one of the model-based VCE
    np.testing.assert_allclose(jac @ np.linalg.inv(-fit.extra["hessian"]) @ jac.T,
                               fit.extra["vcov_oim"], rtol=1e-10)
    return jac @ bread @ (m / (m - 1) * scores.T @ scores) @ bread @ jac.T


def test_unit_pweights_give_the_estimates_and_the_sandwich(two):
    plain = memodels.melogit("y x || school:", two, nolog=True)
    unit = memodels.melogit("y x [pw=one] || school:, pweight(one)", two, nolog=True)
    assert unit.llf == pytest.approx(plain.llf, abs=1e-6)
    np.testing.assert_allclose(unit.params, plain.params, rtol=1e-5)
    assert unit.vce_type == "robust" and unit.extra["clustvar"] == "school"
    assert not np.allclose(unit.bse, plain.bse, rtol=1e-3)
    np.testing.assert_allclose(unit.fit.vcov, _direct_sandwich(unit), rtol=2e-4, atol=1e-9)
    np.testing.assert_allclose(unit.fit.extra["vcov_oim"], plain.fit.vcov, rtol=1e-4)


def test_weighted_sandwich_two_and_three_levels(two, three):
    res = memodels.melogit("y x [pw=wstu] || school:, pweight(wsch)", two, nolog=True)
    np.testing.assert_allclose(res.fit.vcov, _direct_sandwich(res), rtol=2e-4, atol=1e-9)
    res3 = memodels.mepoisson("y x [pw=wi] || region:, pweight(w1) || area:, pweight(w2)",
                              three, nolog=True)
    assert res3.converged and res3.vce_type == "robust"
    np.testing.assert_allclose(res3.fit.vcov, _direct_sandwich(res3), rtol=2e-4, atol=1e-9)


# ---------------------------------------------------------------- (d) cluster = robust
def test_cluster_at_the_top_level_equals_robust(two, three):
    rob = memodels.melogit("y x || school:, vce(robust)", two, nolog=True)
    cl = memodels.melogit("y x || school:, vce(cluster school)", two, nolog=True)
    np.testing.assert_allclose(cl.fit.vcov, rob.fit.vcov, rtol=1e-12)
    assert cl.vce_type == "cluster" and rob.vce_type == "robust"
    rob3 = memodels.mepoisson("y x || region: || area:, vce(robust)", three, nolog=True)
    cl3 = memodels.mepoisson("y x || region: || area:, vce(cluster region)", three,
                             nolog=True)
    np.testing.assert_allclose(cl3.fit.vcov, rob3.fit.vcov, rtol=1e-12)


def test_coarser_cluster_and_the_display(two):
    res = memodels.melogit("y x || school:, vce(cluster district)", two, nolog=True)
    codes = (np.arange(30) // 5).astype(np.int64)
    np.testing.assert_allclose(res.fit.vcov, _direct_sandwich(res, codes), rtol=2e-4,
                               atol=1e-9)
    assert res.extra["n_clusters"] == 6 and res.lr_test is None
    text = res.summary()
    assert f"{'(Std. Err. adjusted for 6 clusters in district)':>78}" in text.splitlines()
    assert "             |               Robust" in text.splitlines()
    assert "Log pseudolikelihood = " in text and "LR test" not in text


def test_robust_under_a_constraint_equals_the_offset_model(two):
    """_b[x] = 0.8 is the model with offset 0.8 x: the sandwich in the free parameters
    gives that model's robust standard errors, and 0 for the constrained coefficient."""
    df = two.assign(off=0.8 * two.x)
    con = memodels.melogit("y x [pw=wstu] || school:, pweight(wsch) constraints(1)", df,
                           nolog=True, constraints={1: "_b[x] = 0.8"})
    off = memodels.melogit("y [pw=wstu] || school:, pweight(wsch) offset(off)", df,
                           nolog=True)
    np.testing.assert_allclose(con.bse.to_numpy()[1:], off.bse.to_numpy(), rtol=1e-5)
    assert con.bse["x"] == 0.0


def test_observation_scores_of_weighted_fits(two):
    """predict, scores: unweighted observation scores whose weighted sum is the gradient."""
    from memodels.glmm.obs_scores import observation_scores

    res = memodels.melogit("y x [pw=wstu] || school:, pweight(wsch)", two, nolog=True)
    model, ad = res.fit.extra["model"], res.fit.extra["adaptive"]
    par = res.fit.extra["params_theta"] + 0.05  # away from the optimum
    w = np.empty(model.w_tot.size)
    w[model.order] = model.w_tot
    np.testing.assert_allclose(w @ observation_scores(model, par, ad),
                               model.derivatives(par, ad)[1], rtol=1e-10, atol=1e-12)


def test_robust_after_laplace(two, three):
    """Laplace fits: the clusters' scores are differences of the per-cluster Laplace
    approximations (modes re-solved); they sum to the gradient, about 0 at the optimum."""
    from memodels.glmm.robust import cluster_scores

    for res in (memodels.melogit("y x || school:, laplace vce(robust)", two, nolog=True),
                memodels.mepoisson("y x || region: || area:, laplace vce(cluster region)",
                                   three, nolog=True)):
        scores = cluster_scores(res.fit)
        assert np.abs(scores.sum(0)).max() < 1e-5
        assert np.all(np.linalg.eigvalsh(res.fit.vcov) > 0)
        assert not np.allclose(res.fit.vcov, res.fit.extra["vcov_oim"], rtol=1e-3)


# ---------------------------------------------------------------- (e) errors
@pytest.mark.parametrize("spec,error,match", [
    ("y x [fw=fw] || school:, intmethod(laplace)", OptionError,
     "weights are not allowed with crossed models or the Laplacian approximation"),
    ("y x || school:, pweight(wsch) laplace", OptionError, "Laplacian"),
    ("y x [pw=wstu] || _all: R.district || school:", OptionError, "crossed"),
    ("y x || school:, pweight(wstu)", DataError, "wstu"),
    ("y x [pw=neg] || school:", DataError, "negative"),
    ("y x || district: || school:, vce(cluster school)", DataError, "not nested"),
    ("y x [pw=wstu] || school:, vce(oim)", OptionError, "vce"),
])
def test_errors(two, spec, error, match):
    with pytest.raises(error, match=match):
        memodels.melogit(spec, two.assign(neg=-two.wstu), nolog=True)
