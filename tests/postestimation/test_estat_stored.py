"""What ``estat icc``, ``estat recovariance``, ``estat sd`` and ``estat wcorrelation``
store in r() ([ME] mixed postestimation, Stored results, L17464-17510; audit K6) and
``estat wcorrelation, format()`` (L16983, post ex1; audit K18)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import memodels
from support import fitted, load_dataset

PIG = "mixed weight week || id:"


@pytest.fixture(scope="module")
def pig_session():
    s = memodels.Session(load_dataset("pig"))
    s.run(f"{PIG}, nolog")
    return s


def test_icc_stored_results_two_level(pig_session):
    s = pig_session
    s.run("estat icc")
    res = s.e
    # independent computation from the printed estimates: var(_cons) / (var(_cons) + var(e))
    s2u, s2e = res.params["var(_cons[id])"], res.params["var(e)"]
    want = s2u / (s2u + s2e)
    assert float(s.run("display r(icc2)")) == pytest.approx(want, rel=1e-6)
    se = float(s.run("display r(se2)"))
    lo, hi = float(s.run("display el(r(ci2),1,1)")), float(s.run("display el(r(ci2),1,2)"))
    # the CI is symmetric on the logit scale: logit(rho) -+ z se / (rho (1 - rho))
    half = stats.norm.ppf(0.975) * se / (want * (1 - want))
    logit = np.log(want / (1 - want))
    assert lo == pytest.approx(1 / (1 + np.exp(-(logit - half))), rel=1e-6)
    assert hi == pytest.approx(1 / (1 + np.exp(-(logit + half))), rel=1e-6)
    assert s.run("display r(level)") == "95"
    assert s.run("display r(label2)") == "id"
    assert "r(ci2)[1,2]" in s.run("matrix list r(ci2)")
    with pytest.raises(memodels.errors.MemodelsError):
        s.run("display r(ci2)")  # a matrix, not a scalar


def test_icc_level_numbers_three_levels():
    """Manual post ex3 (productivity, L17203-17212): r(icc3) for region (.159893),
    r(icc2) for state|region."""
    res = fitted("productivity", "mixed gsp private emp hwy water other unemp "
                 "|| region: || state:")
    icc = res.estat("icc")
    assert icc.r["icc3"] == pytest.approx(0.159893, abs=2e-6)
    assert icc.r["label3"] == "region" and icc.r["label2"] == "state|region"
    assert icc.r["icc2"] == pytest.approx(icc.loc["state|region", "icc"])
    assert icc.r["se3"] == pytest.approx(0.127627, abs=2e-6)


def test_recovariance_and_sd_stored(pig_session):
    s = pig_session
    s.run("estat recovariance")
    assert s.r["relevels"] == 1
    assert s.r["Cov2"].iloc[0, 0] == pytest.approx(s.e.params["var(_cons[id])"], rel=1e-10)
    s.run("estat sd")
    b = s.r["b"]
    assert b.iloc[0, 0] == pytest.approx(np.sqrt(s.e.params["var(_cons[id])"]), rel=1e-8)
    # delta method: se(sd) = se(var) / (2 sd)
    sd_se = s.e.bse["var(_cons[id])"] / (2 * b.iloc[0, 0])
    assert np.sqrt(s.r["V"].iloc[0, 0]) == pytest.approx(sd_se, rel=1e-5)
    assert s.r["table"].loc["se"].iloc[0] == pytest.approx(sd_se, rel=1e-5)


def test_wcorrelation_format_and_stored(pig_session):
    s = pig_session
    out = s.run("estat wcorrelation, format(%4.2g)")
    # manual post ex1 (L16983-17002) prints the pig correlations as .77 to 2 digits
    assert "Standard deviations and correlations for id = 1:" in out
    lines = out.splitlines()
    assert any(ln.strip() == "2 | .77   1" for ln in lines)
    assert "| 4.4 4.4" in out
    default = s.run("estat wcorrelation")
    assert " 0.772 " in default or " 0.772" in default  # %6.3f
    V = s.r["Cov"].to_numpy()
    Z, G, R = (s.r[k].to_numpy() for k in ("Z", "G", "R"))
    assert np.allclose(Z @ G @ Z.T + R, V)
    assert np.allclose(s.r["sd"].to_numpy().ravel(), np.sqrt(np.diag(V)))
    with pytest.raises(memodels.errors.MemodelsError, match="format"):
        s.run("estat wcorrelation, format(%4s)")


def test_recovariance_format_and_correlation_stored():
    """estat recovariance matlist option format() (audit K10), r(Corr#) with
    correlation ([ME] mixed postestimation, Stored results)."""
    s = memodels.Session(load_dataset("pig"))
    s.run("mixed weight week || id: week, cov(un) nolog")
    out = s.run("estat recovariance, format(%9.3f)")
    cov = s.r["Cov2"]
    assert f"{cov.loc['_cons', 'week']:.3f}" in out and f"{cov.loc['_cons', '_cons']:.3f}" in out
    s.run("estat recovariance, correlation")
    corr = s.r["Corr2"].loc["_cons", "week"]
    c = s.r["Cov2"]
    assert corr == pytest.approx(c.loc["_cons", "week"] / np.sqrt(c.loc["week", "week"]
                                                                  * c.loc["_cons", "_cons"]))
