"""Separation ends honestly (reliability.md findings 2 and 7; issue #14 item 1): a fixed
effect whose maximum likelihood estimate does not exist (the outcome is perfectly
predicted along it: counts all 0, no failures, a top ordinal category, meqrlogit and
``asis`` which keep the covariate) and a variance that grows without bound (outcome
constant within the clusters) are never reported converged; ordinary fits are not
flagged.  Small data built here."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import memodels
from memodels.glmm.separation import separated_columns

G, S = 40, 10


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    g = np.repeat(np.arange(G), S)
    x = rng.normal(size=G * S)
    u = rng.normal(scale=0.7, size=G)[g]
    b = (rng.random(G * S) < 1 / (1 + np.exp(-(-0.2 + 0.6 * x + u)))).astype(float)
    cnt = rng.poisson(np.exp(0.2 + 0.3 * x + 0.5 * u))
    o = np.clip(np.round(x + u + rng.normal(size=G * S)), -1, 1) + 2
    d = (np.arange(G * S) % 9 == 0).astype(float)
    return pd.DataFrame(dict(g=g, x=x, b=b, cnt=cnt, o=o, d=d))


def _fit(cmd: str, data: pd.DataFrame):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        res = memodels.fit(cmd, data)
    return res, [str(w.message) for w in seen]


def _separated(res, warned, name: str) -> None:
    assert not res.converged
    text = next(w for w in res.warnings if w.startswith("separation"))
    assert f"coefficient(s) of {name}" in text
    assert any(w.startswith("separation") for w in warned)
    assert "separation" in str(res.summary())


@pytest.mark.parametrize("cmd,outcome,value", [
    ("mepoisson cnt x d || g:, nolog", "cnt", 0.0),
    ("menbreg cnt x d || g:, nolog", "cnt", 0.0),
    ("meqrpoisson cnt x d || g:, nolog", "cnt", 0.0),
    ("meqrlogit b x d || g:, nolog", "b", 1.0),
    ("melogit b x d || g:, asis nolog", "b", 1.0),
    ("meologit o x d || g:, nolog", "o", 3.0),
])
def test_perfectly_predicted_subsample_is_not_converged(df, cmd, outcome, value):
    """The observations with d == 1 all have the extreme outcome: the coefficient of d
    diverges (its estimate is where the iterations stopped, far out)."""
    data = df.assign(**{outcome: np.where(df.d == 1, value, df[outcome])})
    res, warned = _fit(cmd, data)
    _separated(res, warned, "d")
    assert abs(res.params["d"]) > 10


def test_mestreg_covariate_predicting_no_failure(df):
    from memodels import stset

    rng = np.random.default_rng(2)
    t = rng.exponential(1.0, size=G * S) + 0.05
    fail = np.where(df.d == 1, 0, (rng.random(G * S) < 0.7).astype(int))
    st = stset(df.assign(t=t, fail=fail), "t", failure="fail")
    res, warned = _fit("mestreg x d || g:, distribution(weibull) nolog", st)
    _separated(res, warned, "d")


def test_combination_of_covariates_separates(df):
    """y = 1 exactly when x + z > 0: no single covariate separates (melogit's scan keeps
    both), the combination does."""
    rng = np.random.default_rng(8)
    z = rng.normal(size=G * S)
    data = df.assign(z=z, b=((df.x + z) > 0).astype(float))
    res, warned = _fit("melogit b x z || g:, nolog", data)
    assert not res.converged
    text = next(w for w in res.warnings if w.startswith("separation"))
    assert "x" in text and "z" in text


@pytest.mark.parametrize("cmd", [
    "melogit b x || g:, nolog", "meqrlogit b x || g:, nolog", "mepoisson cnt x || g:, nolog",
    "meologit o x || g:, nolog", "melogit b x d || g:, asis nolog",
])
def test_ordinary_fits_not_flagged(df, cmd):
    """One cluster with all outcomes 1 is ordinary data (its mode is finite)."""
    data = df.copy()
    data.loc[data.g == 3, "b"] = 1.0
    res, warned = _fit(cmd, data)
    assert res.converged
    assert not any("separation" in w for w in res.warnings + warned)


def test_group_level_separation_variance_unbounded(df):
    """Half the clusters all 0, half all 1 (reliability.md finding 7: meqrlogit reported
    var = 30,074 converged): the adaptive-quadrature likelihood increases with the variance
    (checked here directly by a fine-grid integral: ll at 2x the sd is not lower)."""
    data = df.assign(b=(df.g % 2).astype(float))
    res, warned = _fit("melogit b x || g:, nolog", data)
    assert not res.converged
    assert any("grows without bound" in w for w in res.warnings)
    t = np.linspace(-9, 9, 60_001)
    dens = np.exp(-t**2 / 2) / np.sqrt(2 * np.pi)

    def loglik(sd: float) -> float:
        total = 0.0
        for _, grp in data.groupby("g"):
            eta = res.params["_cons"] + res.params["x"] * grp.x.to_numpy()
            s = np.where(grp.b.to_numpy() == 1, 1.0, -1.0)
            logp = -np.logaddexp(0, -s[:, None] * (eta[:, None] + sd * t[None, :])).sum(0)
            total += np.log(np.trapezoid(np.exp(logp) * dens, t))
        return total

    sd = np.sqrt(res.params["var(_cons[g])"])
    assert loglik(2 * sd) >= loglik(sd) - 1e-6
    qr, _ = _fit("meqrlogit b x || g:, nolog", data)
    assert not qr.converged


def test_group_level_separation_laplace_warns(df):
    """By Laplace the approximated likelihood has a maximum (a variance in the
    thousands): it is reported with a warning naming group-level separation."""
    data = df.assign(b=(df.g % 2).astype(float))
    res, _ = _fit("melogit b x || g:, intmethod(laplace) nolog", data)
    assert res.params["var(_cons[g])"] > 100
    assert any("group-level separation" in w for w in res.warnings)


def test_separated_columns_linear_program():
    rng = np.random.default_rng(0)
    X = np.column_stack([np.ones(200), rng.normal(size=200), rng.normal(size=200)])
    y = (rng.random(200) < 0.5).astype(float)
    assert separated_columns("bernoulli", y, X) == []
    y2 = (X[:, 1] - 0.5 * X[:, 2] > 0.3).astype(float)
    assert separated_columns("bernoulli", y2, X) == [0, 1, 2]
    counts = rng.poisson(2.0, size=200).astype(float)
    dummy = (np.arange(200) % 7 == 0).astype(float)
    Xc = np.column_stack([np.ones(200), X[:, 1], dummy])
    assert separated_columns("poisson", np.where(dummy == 1, 0, counts), Xc) == [2]
    assert separated_columns("poisson", np.where(dummy == 1, 1 + counts, counts), Xc) == []
