"""Refusals of the me-commands audit rows (LAX: accepted although Stata refuses them)
that had no test: margins predict(pr) for count and Gaussian models, meqr options that
are not meqr options, time with the AFT-only-in-PH distributions of mestreg, and lrtest
across estimators without force ([R] lrtest; [ME] menbreg example 1 uses force)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import memodels
from memodels.errors import MemodelsError, OptionError


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    g = np.repeat(np.arange(30), 8)
    x = rng.normal(size=g.size)
    u = rng.normal(0, 0.5, 30)[g]
    return pd.DataFrame({
        "g": g, "x": x, "yb": (rng.random(g.size) < 1 / (1 + np.exp(-x - u))).astype(int),
        "yc": rng.poisson(np.exp(0.2 + 0.4 * x + u)), "yg": x + u + rng.normal(size=g.size),
        "expo": rng.uniform(1, 2, g.size), "t": rng.exponential(np.exp(-0.3 * x)),
        "d": (rng.random(g.size) < 0.8).astype(int)})


def _fit(cmd, df, **kw):
    return memodels.fit(cmd, df, nolog=True, **kw)


@pytest.mark.parametrize("cmd", ["mepoisson yc x || g:", "menbreg yc x || g:",
                                 "meglm yg x || g:"])
def test_margins_pr_refused_where_predict_pr_is(cmd, df):
    res = _fit(cmd, df)
    with pytest.raises(OptionError, match=r"predict\(pr\) not allowed"):
        res.margins(df, predict="pr")


@pytest.mark.parametrize("cmd,match", [
    ("meqrlogit yb x || g:, exposure(expo)", r"exposure\(\) not allowed with meqrlogit"),
    ("meqrlogit yb x || g:, irr", "option irr not allowed with meqrlogit"),
    ("meqrpoisson yc x || g:, or", "option or not allowed with meqrpoisson"),
    ("meqrlogit yb x || g:, vce(robust)", r"option vce\(\) not allowed with meqrlogit"),
    ("meqrpoisson yc x || g:, technique(bhhh)", "bhhh"),
])
def test_meqr_refusals(cmd, match, df):
    with pytest.raises(OptionError, match=match):
        _fit(cmd, df)


@pytest.mark.parametrize("dist", ["lognormal", "loglogistic", "gamma"])
def test_mestreg_time_only_for_exponential_and_weibull(dist, df):
    from memodels.survival import stset

    with pytest.raises(OptionError, match="option time not allowed"):
        _fit(f"mestreg x || g:, distribution({dist}) time", stset(df, "t", "d"))


def test_lrtest_across_estimators_needs_force(df):
    pois, nb = _fit("mepoisson yc x || g:", df), _fit("menbreg yc x || g:", df)
    with pytest.raises(MemodelsError, match="different estimators: mepoisson vs. menbreg"):
        memodels.lrtest(pois, nb)
    r = memodels.lrtest(pois, nb, force=True)
    assert r.chi2 == pytest.approx(2 * (nb.llf - pois.llf), abs=1e-6)  # as computed
    assert r.df == 1 and r.boundary_note  # alpha = 0 is on the boundary ([ME] menbreg)
