"""``estat quadchk`` (issue "GLMM engine robustness", item 4): refits of an me/meqr
quadrature fit at fewer and more points, compared with the fit.

Independent figures: the manual's 30-point toenail log likelihood ([ME] meqrlogit
postestimation, example 1: -625.39709), separately fitted models at the comparison
points, and a simulated model on which adaptive quadrature is accurate."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest

import memodels
from memodels.errors import DataError, MemodelsError, OptionError
from memodels.postestimation.quadchk import default_points
from support import fitted

TOENAIL = "meqrlogit outcome treatment month trt_month || patient:"
SIM = "melogit y x || g:"


@functools.cache
def _sim() -> pd.DataFrame:
    """50 groups of 10 binary outcomes, random-intercept sd 0.5 (estimates away from 0:
    relative differences of parameters near 0 are large whatever the accuracy)."""
    rng = np.random.default_rng(20261207)
    g = np.repeat(np.arange(50), 10)
    x = rng.normal(size=g.size)
    u = rng.normal(scale=0.5, size=50)[g]
    y = (rng.random(g.size) < 1 / (1 + np.exp(-(0.5 + 0.9 * x + u)))).astype(float)
    return pd.DataFrame({"y": y, "x": x, "g": g})


def sim_data() -> pd.DataFrame:
    return _sim().copy()


@functools.cache
def _sim_fit():
    data = sim_data()
    return memodels.fit(f"{SIM}, intpoints(7)", data, nolog=True), data


@functools.cache
def _sim_check():
    res, _ = _sim_fit()
    return res.quadchk()


@functools.cache
def _toenail_check():
    """The 3-point toenail fit checked at 7 and 30 points (30: the manual's fit)."""
    res = fitted("toenail", f"{TOENAIL}, intpoints(3)")
    return res, res.quadchk(intpoints=(7, 30))


def test_default_points():
    assert default_points(7) == (4, 11)
    assert default_points(12) == (6, 18)
    assert default_points(2) == (1, 3)
    assert default_points(3) == (2, 5)


def test_accurate_quadrature_small_differences():
    res, _ = _sim_fit()
    table = _sim_check()
    assert table.attrs["points"] == (7, 4, 11)
    assert list(table.index) == ["log likelihood", *res.estmetric.index]
    rel = table[["relative difference 4", "relative difference 11"]].abs().to_numpy()
    assert np.all(rel < 1e-3)
    assert table.attrs["flagged"] == []
    text = str(table)
    assert "Quadrature check" in text and "7 points" in text and "11 points" in text
    assert "Relative difference" in text and "may not be accurate" not in text
    # the fitted column is the estimation's ll and e(b)
    assert table.loc["log likelihood", "7 points"] == res.llf
    np.testing.assert_array_equal(table["7 points"].to_numpy()[1:], res.estmetric.to_numpy())


def test_values_equal_separate_fits():
    """The comparison columns are the fits at 4 and 11 points, computed independently
    here (default starting values, not the estimates)."""
    table = _sim_check()
    for k in (4, 11):
        own = memodels.fit(f"{SIM}, intpoints({k})", sim_data(), nolog=True)
        assert table.loc["log likelihood", f"{k} points"] == pytest.approx(own.llf, rel=1e-7)
        got = table[f"{k} points"].to_numpy()[1:]
        np.testing.assert_allclose(got, own.estmetric.to_numpy(), rtol=1e-4, atol=1e-5)
        base = table["7 points"].to_numpy()
        vals = table[f"{k} points"].to_numpy()
        np.testing.assert_allclose(table[f"difference {k}"], vals - base)
        np.testing.assert_allclose(table[f"relative difference {k}"],
                                   (vals - base) / np.abs(base))


def test_toenail_few_points_flagged():
    """Toenail is the classic case where few points are inaccurate: the 3-point fit is
    flagged; the 30-point refit is the manual's fit (ll -625.39709)."""
    res, table = _toenail_check()
    assert table.loc["log likelihood", "30 points"] == pytest.approx(-625.39709, abs=1e-4)
    ll3, ll7 = res.llf, table.loc["log likelihood", "7 points"]
    ll30 = table.loc["log likelihood", "30 points"]
    assert abs(ll3 - ll30) > 4  # -631.06 vs -625.40
    assert abs(ll7 - ll30) > 1  # -627.05 vs -625.40: about 1.66 units
    assert "lnsd(_cons[patient])" in table.attrs["flagged"]
    assert "_cons" in table.attrs["flagged"]
    text = str(table)
    assert "Relative differences larger than 0.01" in text
    assert "may not be accurate" in text


def test_refused_after_laplace_and_mixed():
    data = sim_data()
    lap = memodels.fit(f"{SIM}, intmethod(laplace)", data, nolog=True)
    with pytest.raises(OptionError, match="Laplacian approximation"):
        lap.quadchk()
    qr = memodels.fit("meqrlogit y x || g:, laplace", data, nolog=True)
    with pytest.raises(OptionError, match="Laplacian approximation"):
        qr.estat("quadchk")
    lin = memodels.fit("mixed x || g:", data, nolog=True)
    with pytest.raises(OptionError, match="not allowed after mixed"):
        lin.estat("quadchk")


def test_bad_points_refused():
    res, _ = _sim_fit()
    with pytest.raises(OptionError, match="two numbers"):
        res.quadchk(intpoints=5)
    with pytest.raises(OptionError, match="other numbers of points"):
        res.quadchk(intpoints=(7, 11))
    with pytest.raises(OptionError, match="between 1 and 128"):
        res.quadchk(intpoints=(4, 200))
    with pytest.raises(OptionError, match="not allowed"):
        res.quadchk(bogus=1)


def test_changed_data_refused():
    res, data = _sim_fit()
    with pytest.raises(DataError, match="differ from the estimation data"):
        res.quadchk(data=data.iloc[10:], intpoints=(4, 11))


def test_session_estat_quadchk():
    s = memodels.Session(sim_data())
    s.run(f"{SIM}, intpoints(7) nolog")
    out = s.run("estat quadchk, intpoints(4 11) nooutput")
    assert "Quadrature check" in out and "Refitting" not in out
    assert "Log likelihood" in out
    out = s.run("estat quadchk, intpoints(4 11)")
    assert "Refitting model quadrature = 4 points" in out
    with pytest.raises(MemodelsError):
        s.run("estat quadchk, intpoints(4)")


def test_refits_print_nothing(capsys):
    """The refits run without iteration logs (the results' text is returned, not
    printed)."""
    res, _ = _sim_fit()
    capsys.readouterr()
    res.quadchk(intpoints=(5, 9))
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


def test_python_keyword_options_kept():
    """Options given as Python keywords (not in the command line) are those of the
    refits: intmethod="ghermite" refits non-adaptively, as a separate ghermite fit."""
    data = sim_data()
    res = memodels.melogit("y x || g:", data, intmethod="ghermite", intpoints=9, nolog=True)
    table = res.quadchk(intpoints=(5, 15))
    own = memodels.fit(f"{SIM}, intmethod(ghermite) intpoints(5)", sim_data(), nolog=True)
    assert table.loc["log likelihood", "5 points"] == pytest.approx(own.llf, rel=1e-7)
    adaptive = memodels.fit(f"{SIM}, intpoints(5)", sim_data(), nolog=True)
    assert abs(own.llf - adaptive.llf) > 1e-4  # the check can tell the two apart


def test_refused_after_noestimate():
    res = memodels.fit(f"{SIM}, noestimate", sim_data(), nolog=True)
    with pytest.raises(OptionError, match="noestimate"):
        res.quadchk()
