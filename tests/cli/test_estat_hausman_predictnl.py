"""estat vce, estat summarize, hausman and predictnl in a session ([R] estat vce,
[R] estat summarize, [R] hausman, [R] predictnl), against numpy computations."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from scipy import stats

import memodels
from memodels.errors import OptionError
from memodels.session import Session, SessionError
from support import load_dataset

RANDINT = "mixed weight week || id:"
SLOPE = "mixed weight week || id: week"


@functools.cache
def _fit(cmd: str):
    return memodels.fit(cmd, load_dataset("pig"))


def _session() -> Session:
    s = Session(load_dataset("pig"))
    s.e = _fit(RANDINT)
    return s


def test_estat_vce_and_correlation():
    s = _session()
    text = s.run("estat vce")
    v = s.e.vcov
    np.testing.assert_array_equal(s.r["V"].to_numpy(), v.to_numpy())
    assert text.startswith("Covariance matrix of coefficients of mixed model")
    s.run("estat vce, correlation")
    sd = np.sqrt(np.diag(v.to_numpy()))
    np.testing.assert_allclose(s.r["V"].to_numpy(), v.to_numpy() / np.outer(sd, sd))
    assert s.r["V"].loc["week", "week"] == pytest.approx(1.0)


def test_estat_summarize_is_the_estimation_sample_summary():
    s = _session()
    text = s.run("estat summarize")
    pig = load_dataset("pig")
    stats_ = s.r["stats"]
    assert list(stats_.index) == ["weight", "week"]
    for var in ("weight", "week"):
        x = pig[var].to_numpy(float)
        np.testing.assert_allclose(stats_.loc[var].to_numpy(),
                                   [x.mean(), x.std(ddof=1), x.min(), x.max()])
    assert "Number of obs =        432" in text
    s.run("estat summarize week")
    assert list(s.r["stats"].index) == ["week"]


def test_hausman_matches_the_quadratic_form():
    s = Session(load_dataset("pig"))
    s.estimates["slope"] = _fit(SLOPE)
    s.e = _fit(RANDINT)
    text = s.run("hausman slope ., constant")
    b = _fit(SLOPE).fe_params - _fit(RANDINT).fe_params
    v = _fit(SLOPE).vcov.loc[b.index, b.index] - _fit(RANDINT).vcov.loc[b.index, b.index]
    chi2 = float(b.to_numpy() @ np.linalg.solve(v.to_numpy(), b.to_numpy()))
    assert s.r["chi2"] == pytest.approx(chi2, rel=1e-8)
    assert s.r["df"] == 2
    assert "chi2(2)" in text
    s.run("hausman slope .")  # without constant: week only
    d = b["week"]
    assert s.r["chi2"] == pytest.approx(d ** 2 / v.loc["week", "week"], rel=1e-8)
    with pytest.raises(OptionError, match="sigmamore"):
        s.run("hausman slope ., sigmamore")
    with pytest.raises(SessionError, match="not found"):
        s.run("hausman nosuch .")


def test_predictnl_delta_method_against_the_analytic_gradient():
    s = _session()
    s.run("predictnl q = exp(xb()/50) + _b[week]^2 if week > 1, se(qse) ci(lo hi) p(pp)")
    res = s.e
    b = res.fe_params.to_numpy()
    names = list(res.fe_params.index)
    v = res.vcov.loc[names, names].to_numpy()
    pig = load_dataset("pig")
    x = np.column_stack([pig["week"], np.ones(len(pig))])
    xb = x @ b
    q = np.exp(xb / 50) + b[0] ** 2
    g = np.exp(xb / 50)[:, None] * x / 50
    g[:, 0] += 2 * b[0]
    se = np.sqrt(np.einsum("ij,jk,ik->i", g, v, g))
    keep = pig["week"].to_numpy() > 1
    np.testing.assert_allclose(s.data["q"][keep], q[keep], rtol=1e-10)
    np.testing.assert_allclose(s.data["qse"][keep], se[keep], rtol=1e-6)
    np.testing.assert_allclose(s.data["hi"][keep], q[keep] + stats.norm.isf(.025) * se[keep],
                               rtol=1e-6)
    assert s.data["q"][~keep].isna().all()
    with pytest.raises(OptionError, match="predict\\(mu\\) is not supported"):
        s.run("predictnl r = predict(mu)")
    with pytest.raises(SessionError, match="already defined"):
        s.run("predictnl q = xb()")
