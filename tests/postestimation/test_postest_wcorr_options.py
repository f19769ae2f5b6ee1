"""estat wcorrelation's options all, list, nosort (with at(), covariance, format()), as
[ME] mixed postestimation, Options for estat wcorrelation describes them.  Expectations
computed here: with a random intercept and AR(1) residuals in t = week,
Cov(y_s, y_t) = var(_cons) + var(e) rho^|s - t|."""

from __future__ import annotations

import numpy as np
import pytest

import memodels
from memodels.errors import OptionError
from memodels.session import Session
from support import load_dataset

AR = "mixed weight week || id:, residuals(ar 1, t(week))"
RI = "mixed weight week || id:"


@pytest.fixture(scope="module")
def shuffled():
    d = load_dataset("pig").sample(frac=1.0, random_state=3)
    return d, memodels.fit(AR, d, nolog=True), memodels.fit(RI, d, nolog=True)


def _ar_cov(res, weeks):
    p = res.params
    lag = np.abs(np.subtract.outer(weeks, weeks))
    return p["var(_cons[id])"] + p["var(e)"] * p["rho"] ** lag


def test_default_sorts_by_level_and_time(shuffled):
    d, ar, _ = shuffled
    out = ar.estat("wcorrelation", data=d, covariance=True)
    first_id = d["id"].iloc[0]
    members = d[d["id"] == first_id]
    weeks = d.loc[out["observations"], "week"].to_numpy(float)
    assert list(weeks) == sorted(members["week"])  # sorted by t(), not in data order
    np.testing.assert_allclose(out["cov"].to_numpy(), _ar_cov(ar, weeks), rtol=1e-8)
    assert str(out).startswith(f"Covariances for id = {first_id}:")


def test_nosort_keeps_data_order(shuffled):
    d, ar, _ = shuffled
    out = ar.estat("wcorrelation", data=d, nosort=True)
    first_id = d["id"].iloc[0]
    assert list(out["observations"]) == list(d.index[d["id"] == first_id])
    weeks = d.loc[out["observations"], "week"].to_numpy(float)
    cov = _ar_cov(ar, weeks)
    sd = np.sqrt(np.diag(cov))
    np.testing.assert_allclose(out["corr"].to_numpy(), cov / np.outer(sd, sd), rtol=1e-8)


def test_all_is_block_diagonal(shuffled):
    d, _, ri = shuffled
    out = ri.estat("wcorrelation", data=d, all=True, covariance=True)
    V = out["cov"].to_numpy()
    assert V.shape == (len(d), len(d))
    ids = d.loc[out["observations"], "id"].to_numpy()
    p = ri.params
    expect = np.where(ids[:, None] == ids[None, :], p["var(_cons[id])"], 0.0)
    expect += p["var(e)"] * np.eye(len(d))
    np.testing.assert_allclose(V, expect, rtol=1e-10, atol=1e-12)
    assert np.all(np.diff(ids) >= 0)  # sorted by the level variable
    with pytest.raises(OptionError, match="all and at"):
        ri.estat("wcorrelation", data=d, all=True, at={"id": 1})


def test_list_shows_the_cluster_data(shuffled):
    d, ar, _ = shuffled
    out = ar.estat("wcorrelation", data=d, at={"id": 5}, list=True)
    listed = out["data"]
    assert list(listed.columns) == ["id", "weight", "week"]  # level, depvar, t()
    np.testing.assert_array_equal(listed["week"], np.arange(1, 10))
    assert (listed["id"] == 5).all()
    text = str(out)
    assert "\nData:\n" in text and text.rstrip().endswith(
        f"9.  {5:>2}  {listed['weight'].iloc[-1]:>6g}     9")


def test_session_options(shuffled):
    d, ar, _ = shuffled
    s = Session(d)
    s.e = ar
    text = s.run("estat wcorrelation, at(id=5) list nosort format(%4.2f)")
    assert "Data:" in text and "0.94" in text
    with pytest.raises(OptionError):
        s.run("estat wcorrelation, iis")
