"""Uncentred and badly scaled covariates in the me commands (reliability audit, finding 1;
:mod:`memodels.glmm.scaling`).

The likelihood depends on the fixed effects only through x'beta ([ME] meglm, Methods and
formulas), so a covariate x' = a x + b gives the fit of x with

    beta'_x = beta_x / a,   _cons' = _cons - sum b beta_x / a,
    ordinal cutpoints: /cut' = /cut + sum b beta_x / a,

the same log likelihood, and the VCE L V L' of that linear map L.  Every test fits the
model on well-scaled covariates (which the engine fits untransformed) and on shifted or
rescaled copies (which it fits on an internally rescaled design), and checks the second
fit against L applied to the first, computed here with numpy.  About 2,000 simulated
observations in 100 groups.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pandas as pd
import pytest

import memodels
from memodels.errors import MemodelsError
from memodels.glmm.scaling import design_scaling
from memodels.survival import stset

REF = ("yc_", "ic", "x")  # well scaled: year - 2010, income in standard units, N(0, 1)
# the same covariates as year (2000-2020) and income (about 50,000 +- 15,000)
YEAR_INCOME = {"yc_": ("year", 1.0, 2010.0), "ic": ("income", 15000.0, 50000.0)}


@functools.cache
def _data() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n, groups = 2000, 100
    g = np.repeat(np.arange(groups), n // groups)
    u = rng.normal(0, 0.7, groups)[g]
    yc_ = rng.integers(-10, 11, n).astype(float)
    ic = rng.normal(size=n)
    x = rng.normal(size=n)
    eta = 0.06 * yc_ + 0.3 * ic + 0.5 * x
    df = pd.DataFrame({"g": g, "yc_": yc_, "ic": ic, "x": x, "year": yc_ + 2010.0,
                       "income": 50000.0 + 15000.0 * ic})
    df["yb"] = (rng.uniform(size=n) < 1 / (1 + np.exp(-(eta - 0.2 + u)))).astype(float)
    df["yc"] = rng.poisson(np.exp(0.3 + 0.5 * eta + 0.5 * u) * rng.gamma(2.0, 0.5, n))
    df["yo"] = np.digitize(eta + u + rng.logistic(size=n), [-1.0, 0.0, 1.0]).astype(float)
    df["yg"] = 1 + eta + u + rng.normal(size=n)
    slope = (0.3 * u + rng.normal(0, 0.6, groups)[g])  # random slope on x, corr ~0.3
    df["ys"] = (rng.uniform(size=n) < 1 / (1 + np.exp(-(eta + u + slope * x)))).astype(float)
    df["expo"] = rng.uniform(0.5, 2.0, n)
    lam = np.exp(-1.0 + eta + 0.5 * u)
    t = (rng.exponential(size=n) / lam) ** (1 / 1.3)
    cens = rng.uniform(0.5, 6.0, n)
    df["t"] = np.minimum(t, cens)
    df["d"] = (t <= cens).astype(float)
    return df


@functools.cache
def _fit(cmdline: str, n: int | None = None, extra: tuple = ()):
    df = _data() if n is None else _data().iloc[:n]
    for name, source, a, b in extra:  # x' = a * source + b
        df = df.assign(**{name: a * df[source] + b})
    if cmdline.startswith("mestreg"):
        df = stset(df, "t", failure="d")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return memodels.fit(cmdline, df, nolog=True)


def _map(fit, maps: dict[str, tuple[float, float]], names: list[str], ordinal: bool):
    """L of e' = L e: (a, b) per transformed covariate, by its position in ``names``
    (the fixed-effects names of the reference fit)."""
    L = np.eye(fit.params.size)
    nb = fit.n_beta
    cons = names.index("_cons") if "_cons" in names else None
    for name, (a, b) in maps.items():
        j = names.index(name)
        L[j, j] = 1.0 / a
        if cons is not None:
            L[cons, j] = -b / a
        elif ordinal:
            L[nb : nb + fit.n_aux, j] = b / a
    return L


def _check_same_fit(ref, new, maps, *, ordinal=False, se_rtol=1e-4, ll_atol=1e-6):
    f0, f1 = ref.fit, new.fit
    assert f0.converged and f1.converged
    assert f1.llf == pytest.approx(f0.llf, abs=ll_atol)
    names = list(ref.params.index[: f0.n_beta])
    L = _map(f0, maps, names, ordinal)
    expected = L @ f0.params
    cov = L @ f0.vcov @ L.T
    se0 = np.sqrt(np.diag(cov))
    se1 = np.sqrt(np.diag(f1.vcov))
    # estimates: to a small fraction of their standard errors (optimizer tolerance)
    np.testing.assert_array_less(np.abs(f1.params - expected), 1e-4 * se0 + 1e-12)
    np.testing.assert_allclose(se1, se0, rtol=se_rtol)
    return L


CMDS = [
    "melogit yb {v} || g:",
    "meprobit yb {v} || g:",
    "mecloglog yb {v} || g:",
    "melogit yb {v} || g:, intmethod(laplace)",
    "melogit yb {v} || g:, intmethod(mcaghermite)",
    "melogit yb {v} || g:, intmethod(ghermite)",
    "meglm yg {v} || g:",
    "meglm yc {v} || g:, family(poisson) link(log)",
    "mepoisson yc {v} || g:",
    "menbreg yc {v} || g:",
    "menbreg yc {v} || g:, dispersion(constant)",
    "meologit yo {v} || g:",
    "meoprobit yo {v} || g:",
    "meqrlogit yb {v} || g:",
    "meqrpoisson yc {v} || g:",
    "mestreg {v} || g:, distribution(exponential)",
    "mestreg {v} || g:, distribution(weibull)",
    "mestreg {v} || g:, distribution(weibull) time",
    "mestreg {v} || g:, distribution(loglogistic)",
    "mestreg {v} || g:, distribution(lognormal)",
]


@pytest.mark.parametrize("cmd", CMDS)
def test_year_and_income_give_the_centred_fit(cmd):
    ref = _fit(cmd.format(v=" ".join(REF)))
    new = _fit(cmd.format(v="year income x"))
    maps = {"yc_": (1.0, 2010.0), "ic": (15000.0, 50000.0)}
    _check_same_fit(ref, new, maps, ordinal=cmd.startswith(("meologit", "meoprobit")))
    assert list(new.params.index[:3]) == ["year", "income", "x"]


def test_mestreg_gamma():
    """The gamma distribution (slow: its likelihood needs the incomplete gamma function),
    on the first 200 observations (10 groups)."""
    cmd = "mestreg {v} || g:, distribution(gamma)"
    ref = _fit(cmd.format(v=" ".join(REF)), 200)
    new = _fit(cmd.format(v="year income x"), 200)
    _check_same_fit(ref, new, {"yc_": (1.0, 2010.0), "ic": (15000.0, 50000.0)})


@pytest.mark.parametrize("cmd", ["melogit yb {v} || g:", "mepoisson yc {v} || g:",
                                 "meologit yo {v} || g:", "meqrlogit yb {v} || g:",
                                 "melogit yb {v} || g:, intmethod(laplace)"])
@pytest.mark.parametrize("a,b", [(1e-6, 0.0), (1e-3, 5.0), (1e3, 0.0), (1e6, 1e7),
                                 (1.0, 1e4), (1.0, -1e6)])
def test_scaled_and_shifted_covariate(cmd, a, b):
    ref = _fit(cmd.format(v="x ic"))
    new = _fit(cmd.format(v="xs ic"), None, (("xs", "x", a, b),))
    _check_same_fit(ref, new, {"x": (a, b)}, ordinal=cmd.startswith("meologit"))


@pytest.mark.parametrize("cmd", ["melogit yb {v} || g:", "mepoisson yc {v} || g:",
                                 "meologit yo {v} || g:", "meqrlogit yb {v} || g:"])
@pytest.mark.parametrize("a", [1e12, 1e-12])
def test_extreme_scales_right_or_refused(cmd, a):
    """x * 1e12 and x * 1e-12: the right fit, or a clear memodels error -- never a
    converged fit with a wrong log likelihood."""
    ref = _fit(cmd.format(v="x ic"))
    try:
        new = _fit(cmd.format(v="xs ic"), None, (("xs", "x", a, 0.0),))
    except MemodelsError:
        return
    _check_same_fit(ref, new, {"x": (a, 0.0)}, ordinal=cmd.startswith("meologit"))


def test_only_badly_scaled_designs_are_transformed():
    """Designs of ordinary scale are fitted untransformed (the manual's iteration logs
    are unchanged); year, income, x*1e4 and x*1e-4 are transformed."""
    df = _data()
    fam = type("F", (), {"name": "bernoulli", "aux_names": ()})()
    ones = np.ones(len(df))
    assert design_scaling(np.column_stack([df[list(REF)], ones]), fam) is None
    for col in (df["year"], df["income"], 1e4 * df["x"], 1e-4 * df["x"], df["x"] + 1e3):
        sc = design_scaling(np.column_stack([col, df["x"], ones]), fam)
        assert sc is not None
        Xs = sc.transform(np.column_stack([col, df["x"], ones]))
        np.testing.assert_allclose(Xs[:, :2].mean(axis=0), 0.0, atol=1e-9)
        np.testing.assert_allclose(Xs[:, :2].std(axis=0), 1.0)
        np.testing.assert_array_equal(Xs[:, 2], 1.0)
    # without a constant (noconstant), columns are scaled, not centred
    sc = design_scaling(np.column_stack([df["income"], df["x"]]), fam)
    np.testing.assert_array_equal(sc.center, 0.0)


# ----------------------------------------------------- options in the original metric
def test_offset_and_exposure():
    for opt in ("offset(expo)", "exposure(expo)"):
        ref = _fit(f"mepoisson yc yc_ ic x || g:, {opt}")
        new = _fit(f"mepoisson yc year income x || g:, {opt}")
        _check_same_fit(ref, new, {"yc_": (1.0, 2010.0), "ic": (15000.0, 50000.0)})


def test_random_slope_on_an_untransformed_column():
    """The random part is not transformed: a random slope on x with year and income in
    the fixed part gives the centred fit, unstructured covariance included."""
    ref = _fit("melogit ys yc_ ic x || g: x, cov(unstructured)")
    assert 0.1 < abs(np.tanh(ref.fit.phi[-1])) < 0.9  # an interior correlation
    new = _fit("melogit ys year income x || g: x, cov(unstructured)")
    _check_same_fit(ref, new, {"yc_": (1.0, 2010.0), "ic": (15000.0, 50000.0)})


def test_robust_vce():
    ref = _fit("melogit yb yc_ ic x || g:, vce(robust)")
    new = _fit("melogit yb year income x || g:, vce(robust)")
    _check_same_fit(ref, new, {"yc_": (1.0, 2010.0), "ic": (15000.0, 50000.0)})


def test_constraints_stated_in_the_original_metric():
    df = _data()
    maps = {"yc_": (1.0, 2010.0), "ic": (15000.0, 50000.0)}
    ref = memodels.melogit("yb yc_ ic x || g:, constraints(1)", df, nolog=True,
                           constraints={1: "_b[yc_] = 0.05"})
    new = memodels.melogit("yb year income x || g:, constraints(1)", df, nolog=True,
                           constraints={1: "_b[year] = 0.05"})
    assert new.params["year"] == 0.05 or new.params["year"] == pytest.approx(0.05, abs=1e-12)
    assert new.bse["year"] == 0.0
    _check_same_fit(ref, new, maps)
    # a constraint on the constant: _cons is a combination of the engine's parameters
    cons = -150.0
    # in the reference metric: _cons - 2010 b_yc - (50000/15000) b_ic = -150
    ref = memodels.melogit("yb yc_ ic x || g:, constraints(1)", df, nolog=True,
                           constraints={1: f"_cons - 2010*yc_ - {50000 / 15000!r}*ic = {cons}"})
    new = memodels.melogit("yb year income x || g:, constraints(1)", df, nolog=True,
                           constraints={1: f"_b[_cons] = {cons}"})
    assert new.params["_cons"] == pytest.approx(cons, abs=1e-8)
    assert new.bse["_cons"] == 0.0
    assert new.llf == pytest.approx(ref.llf, abs=1e-6)
    for a, b in (("year", "yc_"), ("income", "ic"), ("x", "x")):
        scale = maps[b][0] if b in maps else 1.0
        assert new.params[a] == pytest.approx(ref.params[b] / scale, rel=1e-5)
        assert new.bse[a] == pytest.approx(ref.bse[b] / scale, rel=1e-4)


def test_from_values_in_the_original_metric():
    df = _data()
    start = {"year": 0.07, "income": 2e-5, "x": 0.4, "_cons": -140.0}
    text = " ".join(f"{k}={v!r}" for k, v in start.items())
    shown = memodels.melogit(f"yb year income x || g:, from({text}) noestimate nolog", df)
    for k, v in start.items():
        assert shown.params[k] == pytest.approx(v, rel=1e-12)
    # partial from(): the other coefficients from the fixed-effects model, in any metric
    part = memodels.melogit("yb year income x || g:, from(year=0.07) noestimate nolog", df)
    assert part.params["year"] == pytest.approx(0.07, rel=1e-12)
    glm_ref = memodels.melogit("yb yc_ ic x || g:, noestimate nolog", df)
    assert part.params["x"] == pytest.approx(glm_ref.params["x"], rel=1e-8)
    # and the fit from there is the centred fit
    fit = memodels.melogit(f"yb year income x || g:, from({text}) nolog", df)
    _check_same_fit(_fit("melogit yb yc_ ic x || g:"), fit,
                    {"yc_": (1.0, 2010.0), "ic": (15000.0, 50000.0)})


def test_predictions_and_scores():
    ref = _fit("melogit yb yc_ ic x || g:")
    new = _fit("melogit yb year income x || g:")
    np.testing.assert_allclose(new.predict("mu"), ref.predict("mu"), rtol=1e-6)
    np.testing.assert_allclose(new.predict("xb"),
                               ref.predict("xb"), rtol=1e-6, atol=1e-8)
    # scores: s' = s L^{-1} per observation (e' = L e)
    names = list(ref.params.index[: ref.fit.n_beta])
    L = _map(ref.fit, {"yc_": (1.0, 2010.0), "ic": (15000.0, 50000.0)}, names, False)
    s0 = ref.predict("scores").to_numpy()
    s1 = new.predict("scores").to_numpy()
    expected = s0 @ np.linalg.inv(L)
    scale = np.abs(expected).max(axis=0)
    np.testing.assert_allclose(s1 / scale, expected / scale, atol=1e-5)


def test_random_slope_on_a_badly_scaled_column():
    """A random slope on income (Z column of about 5e4): Z is divided by its root mean
    square for the engine (not centred), the slope's variance is reported in income's
    units, var(income) = var(ic) / 15000^2 up to the uncentred Z of the slope, and the EB
    predictions are in income's units."""
    ref = _fit("melogit ys yc_ ic x || g: income_s, cov(unstructured)", None,
               (("income_s", "income", 1e-4, 0.0),))
    new = _fit("melogit ys yc_ ic x || g: income, cov(unstructured)")
    assert ref.fit.converged and new.fit.converged
    assert new.fit.extra.get("re_scaling") is not None
    assert new.llf == pytest.approx(ref.llf, abs=1e-6)
    # two separately converged fits (Stata's stopping rules): equal to a small fraction of
    # the standard error, the optimizer's precision on this weakly identified variance
    assert new.params["var(income[g])"] == pytest.approx(
        ref.params["var(income_s[g])"] * 1e-8, abs=0.01 * new.bse["var(income[g])"])
    assert new.params["cov(income,_cons[g])"] == pytest.approx(
        ref.params["cov(income_s,_cons[g])"] * 1e-4, abs=0.01 * new.bse["cov(income,_cons[g])"])
    assert new.bse["var(income[g])"] == pytest.approx(
        ref.bse["var(income_s[g])"] * 1e-8, rel=1e-3)
    # predictions of two separately converged fits: to the optimizer's precision
    np.testing.assert_allclose(new.predict("mu"), ref.predict("mu"), atol=2e-4)
    re_new = np.asarray(new.predict("reffects"), float)[:, 0]
    re_ref = np.asarray(ref.predict("reffects"), float)[:, 0] * 1e-4
    np.testing.assert_allclose(re_new, re_ref, atol=0.01 * np.std(re_ref))


def test_variance_options_on_a_rescaled_random_slope():
    """from() and constraints() on the variance of a rescaled random slope are in the
    user's units: shown and imposed exactly."""
    df = _data()
    spec = "ys yc_ ic x || g: income, cov(independent)"
    shown = memodels.melogit(f"{spec} from(var(income[g])=4e-11) noestimate nolog", df)
    assert shown.params["var(income[g])"] == pytest.approx(4e-11, rel=1e-10)
    fixed = memodels.melogit(f"{spec} constraints(1) nolog", df,
                             constraints={1: "var(income[g]) = 4e-11"})
    assert fixed.fit.extra.get("re_scaling") is not None and fixed.fit.converged
    assert fixed.params["var(income[g])"] == pytest.approx(4e-11, rel=1e-10)
    assert fixed.bse["var(income[g])"] == 0.0
    # the same constraint on income / 1e4 (not rescaled): var = 4e-11 * 1e8 = 0.004
    ref = memodels.melogit("ys yc_ ic x || g: inc4, cov(independent) constraints(1) nolog",
                           df.assign(inc4=df["income"] / 1e4),
                           constraints={1: "var(inc4[g]) = 0.004"})
    assert ref.fit.converged
    assert fixed.llf == pytest.approx(ref.llf, abs=1e-6)
    assert fixed.params["var(_cons[g])"] == pytest.approx(ref.params["var(_cons[g])"],
                                                          rel=1e-4)
