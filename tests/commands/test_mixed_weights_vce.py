"""Weights, pwscale() and robust VCE of ``mixed`` ([ME] mixed, Survey data; Methods and
formulas eq. 14).  pisa2000 (the manual's example 12) is not available, so these run on
simulated two-stage samples of the same shape and check identities the pseudolikelihood
must satisfy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import memodels
from memodels.errors import OptionError


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    schools, m = 60, 15
    g = np.repeat(np.arange(schools), m)
    x = rng.normal(size=g.size)
    u = rng.normal(scale=2.0, size=schools)
    y = 40 + 3 * x + u[g] + rng.normal(scale=4.0, size=g.size)
    w_school = np.repeat(rng.uniform(1, 5, schools), m)
    w_student = rng.uniform(1, 2, g.size)
    return pd.DataFrame({"y": y, "x": x, "school": g, "wsch": w_school, "wstu": w_student,
                         "one": 1.0})


def test_unit_weights_give_the_likelihood(survey):
    plain = memodels.mixed("y x || school:", survey, nolog=True)
    weighted = memodels.mixed("y x [pw=one] || school:, pweight(one)", survey, nolog=True)
    assert weighted.llf == pytest.approx(plain.llf, abs=1e-6)
    np.testing.assert_allclose(weighted.params, plain.params, rtol=1e-5)
    assert weighted.ll_label == "Log pseudolikelihood"
    assert weighted.lr_test is None  # not reported with pweights


def test_cluster_weights_replicate_clusters(survey):
    """An integer cluster weight equals replicating the cluster (point estimates)."""
    df = survey.assign(k=(survey.school % 3 + 1).astype(float))
    weighted = memodels.mixed("y x || school:, pweight(k)", df, nolog=True)
    reps = []
    for copy in range(3):
        part = df[df.k > copy].copy()
        part["school"] = part["school"] + 1000 * copy
        reps.append(part)
    big = pd.concat(reps)
    expanded = memodels.mixed("y x || school:", big, nolog=True)
    assert weighted.llf == pytest.approx(expanded.llf, abs=1e-5)
    np.testing.assert_allclose(weighted.params, expanded.params, rtol=1e-5)


@pytest.mark.parametrize("scale", ["size", "effective", "gk"])
def test_pwscale_runs_and_recovers(survey, scale):
    res = memodels.mixed(f"y x [pw=wstu] || school:, pweight(wsch) pwscale({scale})",
                         survey, nolog=True)
    assert res.converged
    assert abs(res.params["x"] - 3.0) < 4 * res.bse["x"]
    assert "Robust" in res.extra["se_label"]


def test_robust_vce_and_cluster(survey):
    oim = memodels.mixed("y x || school:", survey, nolog=True)
    rob = memodels.mixed("y x || school:, vce(robust)", survey, nolog=True)
    # two separately converged fits of one likelihood: equal to the optimizer's tolerance
    # (not to the last digit, which depends on the BLAS and the optimizer's path)
    assert rob.llf == pytest.approx(oim.llf, abs=1e-6)
    np.testing.assert_allclose(rob.params, oim.params, rtol=1e-5)
    assert not np.allclose(rob.bse, oim.bse)
    df = survey.assign(district=survey.school // 4)
    cl = memodels.mixed("y x || school:, vce(cluster district)", df, nolog=True)
    assert "15 clusters in district" in cl.extra["vce_note"]


def test_bad_weights(survey):
    with pytest.raises(OptionError, match="REML"):
        memodels.mixed("y x [pw=wstu] || school:, reml", survey, nolog=True)
    with pytest.raises(Exception, match="negative"):
        memodels.mixed("y x [pw=neg] || school:", survey.assign(neg=-1.0), nolog=True)


def test_childweight_shaped_repeated_levels():
    """[ME] mixed example 6 (childweight not available): repeated-level equations give a
    block-diagonal covariance at one level."""
    rng = np.random.default_rng(3)
    n_id = 60
    ids = np.repeat(np.arange(n_id), 5)
    girl = (ids % 2).astype(float)
    age = np.tile(np.linspace(0.1, 2.5, 5), n_id)
    u = rng.normal(size=(n_id, 2))
    y = 4 + 3 * age - 0.2 * age**2 + u[ids, 0] + 0.5 * u[ids, 1] * age + rng.normal(size=ids.size)
    df = pd.DataFrame({"weight": y, "age": age, "girl": girl, "boy": 1 - girl, "id": ids})
    df["boyXage"], df["girlXage"] = df.boy * df.age, df.girl * df.age
    res = memodels.mixed("weight i.girl i.girl#c.age c.age#c.age || id: boy boyXage, "
                         "noconstant || id: girl girlXage, noconstant", df, nolog=True)
    assert {"var(boy[id])", "var(girlXage[id])", "0.girl#c.age", "1.girl#c.age"} <= set(
        res.params.index)
    assert res.converged


def test_clippings_shaped_ibn_factorial():
    """[ME] me example 2 (clippings not available): ibn. factorial with noconstant and
    noomitted, REML."""
    rng = np.random.default_rng(5)
    rows = []
    for nitrogen in range(1, 5):
        for block in (1, 2):
            for thatch in (2, 5, 8):
                rows.append((nitrogen, block, thatch))
    df = pd.DataFrame(rows, columns=["nitrogen", "block", "thatch"])
    df["wpunit"] = (df.nitrogen - 1) * 2 + df.block
    df["chlorophyll"] = 5 + df.nitrogen + 0.1 * df.thatch + rng.normal(size=len(df))
    res = memodels.mixed("chlorophyll ibn.nitrogen##ibn.thatch ibn.block, noomitted "
                         "noconstant || wpunit:, reml", df, nolog=True)
    assert res.wald_df == 13
    assert len(res.notes) >= 1
