"""Cluster bootstrap: structure, reproducibility with a seed, and agreement with the
model-based SE within Monte Carlo error for a correctly specified model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import memodels
from memodels.datasets import load
from memodels.errors import DataError


@pytest.fixture(scope="module")
def pig():
    return load("pig")


def test_reproducible_and_structured(pig):
    kw = dict(reps=12, cluster="id", idcluster="newid", seed=2015, progress=False, n_jobs=1)
    a = memodels.bootstrap("mixed weight week || newid:", pig, **kw)
    b = memodels.bootstrap("mixed weight week || newid:", pig, **kw)
    pd.testing.assert_frame_equal(a.replicates, b.replicates)
    tab = a.table()
    assert list(tab.index) == list(a.observed.index)
    assert {"se", "bias", "percentile_lower", "bc_upper", "normal_lower"} <= set(tab.columns)
    assert (tab["percentile_lower"] <= tab["percentile_upper"]).all()
    assert "Bootstrap results" in str(a)


def test_parallel_equals_serial(pig):
    kw = dict(reps=6, cluster="id", idcluster="newid", seed=7, progress=False)
    serial = memodels.bootstrap("mixed weight week || newid:", pig, n_jobs=1, **kw)
    parallel = memodels.bootstrap("mixed weight week || newid:", pig, n_jobs=2, **kw)
    pd.testing.assert_frame_equal(serial.replicates, parallel.replicates)


def test_se_agrees_with_model_based_se():
    """Data from the random-intercept model itself: the bootstrap SE of the slope is close
    to the model-based SE (Monte Carlo error of an SE from 60 replications ~ 9%)."""
    rng = np.random.default_rng(4)
    g = np.repeat(np.arange(80), 6)
    x = rng.normal(size=g.size)
    y = 1 + 0.5 * x + rng.normal(size=80)[g] + rng.normal(size=g.size)
    df = pd.DataFrame({"y": y, "x": x, "g": g})
    res = memodels.mixed("y x || g:", df, nolog=True)
    boot = memodels.bootstrap("mixed y x || newg:", df, reps=60, cluster="g", idcluster="newg",
                              seed=1, progress=False, n_jobs=1)
    assert boot.bse["x"] == pytest.approx(res.bse["x"], rel=0.35)


def test_multilevel_and_errors(pig):
    prod = load("productivity")
    out = memodels.bootstrap("mixed gsp private emp hwy water other unemp || newr: || state:",
                             prod, reps=3, cluster="region", idcluster="newr",
                             multilevel=True, within="state", seed=3, progress=False, n_jobs=1)
    assert len(out.replicates) == 3
    with pytest.raises(DataError, match="nosuch"):
        memodels.bootstrap("mixed weight week || id:", pig, cluster="nosuch", reps=2)


def test_session_bootstrap_prefix_and_estat_bootstrap():
    """The hdp analysis's ``bootstrap, reps() cluster(did) idcluster(newdid): melogit ...
    || newdid:`` then ``estat bootstrap, all`` in a session (on pig, for speed): the
    table shows the observed e(b) with the bootstrap SEs, estat the N/P/BC intervals."""
    from memodels import Session

    s = Session(memodels.datasets.load("pig"))
    s.run("set seed 12")
    out = s.run("bootstrap, reps(12) nodots cluster(id) idcluster(newid): "
                "mixed weight week || newid:")
    assert "Replications      =         12" in out
    assert "Observed   Bootstrap" in out and "Normal-based" in out
    boot = s.e.boot
    assert s.e.params["week"] == pytest.approx(boot.observed["week"])
    assert s.e.bse["week"] == pytest.approx(boot.bse["week"])
    est = s.run("estat bootstrap, all")
    assert "(N)" in est and "(P)" in est and "(BC)" in est
    assert "bias-corrected confidence interval" in est
    only = s.run("estat bootstrap")
    assert "(BC)" in only and "(N)" not in only
    again = Session(memodels.datasets.load("pig"))
    again.run("bootstrap, reps(12) seed(12) nodots cluster(id) idcluster(newid): "
              "mixed weight week || newid:")
    np.testing.assert_allclose(again.e.boot.replicates, boot.replicates)
