"""Properties of predict after the me commands ([ME] meglm postestimation): marginal
predictions are the integrals they claim to be, ordinal probabilities sum to one,
residuals and densities follow the family formulas, scores add up to the gradient,
new data with missing covariates give NaN, and wrong options fail clearly.

All models are the session-wide cached fits of tests/support.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, special, stats

from memodels.errors import OptionError
from memodels.families.registry import make_family
from memodels.glmm.posterior_nested import cluster_to_group
from memodels.lmm.terms import engine_terms
from memodels.postestimation.glm_density import density, distribution
from memodels.postestimation.glm_residuals import anscombe, squared_deviance
from support import fitted, load_dataset

BANG = "melogit c_use urban age child* || district:"
MEPOISSON = "mepoisson deaths c.uv##c.uv, exposure(expected) || nation: || region:"
MEOLOGIT = "meologit thk prethk cc##tv || school: || class:"
PIG = "meglm weight week || id:"
SALAMANDER = ("meglm y wsm##wsf || _all: R.male || _all: R.female, family(bernoulli) "
              "link(logit) or")


# ------------------------------------------------------------------------ marginal
def test_marginal_logit_mean_is_the_integral_over_the_random_intercept():
    res = fitted("bangladesh", BANG)
    xb = res.predict("xb").to_numpy()
    sd = np.sqrt(res.params["var(_cons[district])"])
    marg = res.predict("mu", marginal=True).to_numpy()  # 7 points, as in estimation
    fine = res.predict("pr", marginal=True, intpoints=30).to_numpy()
    for i in range(0, xb.size, 97):
        want = integrate.quad(lambda t, i=i: special.expit(xb[i] + sd * t) * stats.norm.pdf(t),
                              -np.inf, np.inf, epsabs=1e-13, epsrel=1e-13)[0]
        assert fine[i] == pytest.approx(want, abs=1e-12)
        assert marg[i] == pytest.approx(want, abs=1e-7)
    # population-averaged probabilities are pulled toward 1/2
    fixed = res.predict("mu", conditional="fixedonly").to_numpy()
    assert np.all(np.abs(marg - 0.5) <= np.abs(fixed - 0.5) + 1e-12)


def test_marginal_three_level_poisson_mean_is_lognormal_mean():
    res = fitted("melanoma", MEPOISSON)
    s2 = res.params["var(_cons[nation])"] + res.params["var(_cons[nation>region])"]
    xb = res.predict("xb")  # includes ln(expected)
    np.testing.assert_allclose(res.predict("mu", marginal=True), np.exp(xb + s2 / 2),
                               rtol=1e-9)
    np.testing.assert_allclose(res.predict("eta", marginal=True), xb)
    # nooffset: the linear predictor without ln(expected)
    expo = load_dataset("melanoma")["expected"].to_numpy()
    np.testing.assert_allclose(res.predict("mu", nooffset=True), res.predict("mu") / expo)
    np.testing.assert_allclose(res.predict("xb", nooffset=True), xb - np.log(expo))


# ------------------------------------------------------------------------- ordinal
def test_ordinal_probabilities_sum_to_one_and_outcome_selects_a_category():
    res = fitted("tvsfpors", MEOLOGIT)
    variants = [res.predict("pr"), res.predict("mu", fixedonly=True),
                res.predict("pr", conditional="ebmodes"), res.predict("pr", marginal=True)]
    for pr in variants:
        assert list(pr.columns) == ["pr1", "pr2", "pr3", "pr4"]
        np.testing.assert_allclose(pr.sum(axis=1), 1.0, atol=1e-12)
        assert (pr.to_numpy() > 0).all()
    pr = variants[0]
    np.testing.assert_allclose(res.predict("pr", outcome="#2"), pr["pr2"])
    np.testing.assert_allclose(res.predict("mu", outcome=3), pr["pr3"])  # the value 3
    y = load_dataset("tvsfpors")["thk"].to_numpy().astype(int)
    rows = np.arange(y.size)
    np.testing.assert_allclose(res.predict("density"), pr.to_numpy()[rows, y - 1])
    np.testing.assert_allclose(res.predict("distribution"),
                               pr.cumsum(axis=1).to_numpy()[rows, y - 1])
    with pytest.raises(OptionError, match="outcome"):
        res.predict("pr", outcome="#5")
    with pytest.raises(OptionError, match="outcome"):
        res.predict("pr", outcome=7)
    with pytest.raises(OptionError, match="ordinal"):
        res.predict("pearson")


def test_nested_eb_modes_and_levels():
    res = fitted("tvsfpors", MEOLOGIT)
    means = res.predict("reffects")
    modes = res.predict("reffects", ebmodes=True)
    assert np.abs(means.to_numpy() - modes.to_numpy()).max() < 0.02
    mode_se = res.predict("reses", ebmodes=True)
    se = res.predict("reses")
    prior = np.sqrt(res.params[["var(_cons[school])", "var(_cons[school>class])"]].to_numpy())
    assert (se.to_numpy() > 0).all() and (se.to_numpy() < prior).all()
    assert np.abs(mode_se.to_numpy() - se.to_numpy()).max() < 5e-3
    cls = res.predict("reffects", relevel="class")
    assert list(cls.columns) == ["_cons[school>class]"]
    np.testing.assert_allclose(cls.iloc[:, 0], means.iloc[:, 1])
    # intpoints(): the same posterior means with a finer rule, to quadrature accuracy
    fine = res.predict("reffects", intpoints=12)
    assert np.abs(fine.to_numpy() - means.to_numpy()).max() < 1e-3


def test_crossed_laplace_eb_modes_solve_the_posterior_mode_equations():
    """After the Laplace fit of a crossed model the EB mean is the posterior mode (one
    quadrature point): d/du {sum log f(y | eta) - u^2 / (2 sigma^2)} = 0 for every level."""
    res = fitted("salamander", SALAMANDER)
    re = res.predict("reffects")
    assert list(re.columns) == ["R.male[_all]", "R.female[_all]"]
    np.testing.assert_allclose(res.predict("reffects", ebmodes=True), re)
    df = load_dataset("salamander")
    resid = df["y"] - res.predict("mu")
    for col, var, name in ((0, "male", "var(_cons[_all>male])"),
                           (1, "female", "var(_cons[_all>female])")):
        score = resid.groupby(df[var]).sum()
        u = re.iloc[:, col].groupby(df[var]).first()
        np.testing.assert_allclose(score, u / res.params[name], atol=1e-6)
    se = res.predict("reses").to_numpy()
    prior = np.sqrt(res.params[["var(_cons[_all>male])", "var(_cons[_all>female])"]])
    assert (se > 0).all() and (se < prior.to_numpy()).all()


# ------------------------------------------------------------------------- new data
def test_new_data_with_missing_covariates_gives_nan():
    res = fitted("tvsfpors", MEOLOGIT)
    df = load_dataset("tvsfpors").copy()
    df.loc[5, "prethk"] = np.nan
    df.loc[9, "thk"] = np.nan
    pr = res.predict("pr", data=df)
    assert pr.loc[5].isna().all() and pr.drop(5).notna().all().all()
    np.testing.assert_allclose(pr.drop(5), res.predict("pr").drop(5))
    dens = res.predict("density", data=df)
    assert np.isnan(dens[5]) and np.isnan(dens[9]) and dens.drop([5, 9]).notna().all()
    # a class not seen in estimation: no EB means (NaN); marginal predictions need none
    new = pd.concat([df, df.iloc[[0]].assign(**{"class": -1})], ignore_index=True)
    cond = res.predict("pr", data=new)
    assert cond.iloc[-1].isna().all()
    outside = df.iloc[[0, 5]].reset_index(drop=True)
    marg = res.predict("pr", data=outside, marginal=True)
    assert marg.iloc[0].notna().all() and marg.iloc[1].isna().all()
    np.testing.assert_allclose(marg.iloc[0], res.predict("pr", marginal=True).iloc[0])

    mel = fitted("melanoma", MEPOISSON)
    mdf = load_dataset("melanoma").copy()
    mdf.loc[2, "uv"] = np.nan
    mdf.loc[3, "expected"] = np.nan
    mu = mel.predict("mu", data=mdf)
    assert mu[[2, 3]].isna().all()
    np.testing.assert_allclose(mu.drop([2, 3]), mel.predict("mu").drop([2, 3]))


# ---------------------------------------------------------------------------- errors
def test_option_errors_are_clear():
    bang = fitted("bangladesh", BANG)
    with pytest.raises(OptionError, match="outcome"):
        bang.predict("pr", outcome="#1")
    with pytest.raises(OptionError, match="marginal"):
        bang.predict("mu", marginal=True, conditional="ebmodes")
    with pytest.raises(OptionError, match="marginal"):
        bang.predict("reffects", marginal=True)
    with pytest.raises(OptionError, match="not allowed"):
        bang.predict("mu", bogus=1)
    mel = fitted("melanoma", MEPOISSON)
    with pytest.raises(OptionError, match="pr"):
        mel.predict("pr")


# ------------------------------------------------------------- residuals and density
def _gap(logf, y, mu):
    """2 {log f(y | mu = y) - log f(y | mu)}: the unit deviance from the saturated model."""
    return 2 * (logf(y, y) - logf(y, mu))


K_GAMMA, ALPHA, R = 1.6, 0.4, 5.0
DEVIANCE_CASES = [
    ("poisson", None, 3.0, 4.2, lambda y, m: stats.poisson.logpmf(y, m)),
    ("poisson", None, 0.0, 1.3, lambda y, m: stats.poisson.logpmf(y, m) if m else 0.0),
    ("bernoulli", None, 1.0, 0.3, lambda y, m: stats.bernoulli.logpmf(y, m)),
    ("bernoulli", None, 0.0, 0.3, lambda y, m: stats.bernoulli.logpmf(y, m)),
    ("binomial 5", None, 2.0, 3.1, lambda y, m: stats.binom.logpmf(y, R, m / R)),
    ("binomial 5", None, 0.0, 3.1, lambda y, m: stats.binom.logpmf(y, R, m / R)),
    ("nbinomial", np.log(ALPHA), 6.0, 2.5,
     lambda y, m: stats.nbinom.logpmf(y, 1 / ALPHA, 1 / (1 + ALPHA * m))),
    ("nbinomial", np.log(ALPHA), 0.0, 2.5,
     lambda y, m: stats.nbinom.logpmf(y, 1 / ALPHA, 1 / (1 + ALPHA * m))),
    ("gamma", -0.5 * np.log(K_GAMMA), 1.7, 2.2,
     lambda y, m: stats.gamma.logpdf(y, K_GAMMA, scale=m / K_GAMMA) / K_GAMMA),
    ("gaussian", 0.0, 1.3, 0.4, lambda y, m: stats.norm.logpdf(y, m)),
]


@pytest.mark.parametrize("fam, aux, y, mu, logf", DEVIANCE_CASES)
def test_squared_deviance_is_the_unit_deviance(fam, aux, y, mu, logf):
    family = make_family(fam)
    auxv = None if aux is None else np.array([aux])
    d2 = squared_deviance(family, np.array([y]), np.array([mu]), auxv, R)
    assert d2[0] == pytest.approx(_gap(logf, y, mu), rel=1e-9)


def test_anscombe_bernoulli_is_the_anscombe_transform():
    """A(y) - A(mu) over (mu(1-mu))^(1/6), A(z) = int_0^z t^(-1/3) (1-t)^(-1/3) dt."""
    family = make_family("bernoulli")

    def a(z):
        return integrate.quad(lambda t: t ** (-1 / 3) * (1 - t) ** (-1 / 3), 0, z)[0]

    for y, mu in ((1.0, 0.3), (0.0, 0.3), (1.0, 0.85)):
        want = (a(y) - a(mu)) / (mu * (1 - mu)) ** (1 / 6)
        got = anscombe(family, np.array([y]), np.array([mu]), None, 1.0)[0]
        assert got == pytest.approx(want, rel=1e-7)


def test_density_and_distribution_agree_for_counts():
    family = make_family("nbinomial")
    aux = np.array([np.log(0.7)])
    y = np.arange(0, 12, dtype=float)
    eta = np.full(y.size, np.log(3.0))
    f = density(family, y, eta, aux)
    cdf = distribution(family, y, eta, aux)
    np.testing.assert_allclose(np.cumsum(f), cdf, rtol=1e-12)
    r, p = 1 / 0.7, 1 / (1 + 0.7 * 3.0)
    np.testing.assert_allclose(f, stats.nbinom.pmf(y, r, p), rtol=1e-10)


def test_gaussian_residuals_and_density():
    res = fitted("pig", PIG)
    resid = res.predict("residuals")
    np.testing.assert_allclose(res.predict("anscombe"), resid)
    np.testing.assert_allclose(res.predict("deviance"), resid)
    sigma = np.sqrt(res.params["var(e.weight)"])
    np.testing.assert_allclose(res.predict("pearson"), resid)  # V(mu) = 1
    np.testing.assert_allclose(res.predict("density"), stats.norm.pdf(resid, scale=sigma))


# --------------------------------------------------------------------------- scores
def _cluster_gradient(model, params, ad, k, h=1e-6):
    up, dn = params.copy(), params.copy()
    up[k] += h
    dn[k] -= h
    return (model.cluster_loglik(up, ad)[0] - model.cluster_loglik(dn, ad)[0]) / (2 * h)


def test_scores_add_up_to_cluster_gradients_two_level():
    res = fitted("bangladesh", BANG)
    sc = res.predict("scores")
    assert list(sc.columns) == list(res.params.index)
    np.testing.assert_allclose(sc.sum(), 0, atol=1e-4)
    extra = res.fit.extra
    model, params, ad = extra["model"], extra["params_theta"], extra["adaptive"]
    groups = engine_terms(res.design.terms)[0].groups
    by_cluster = sc.groupby(groups).sum()
    for k, name in ((0, "urban"), (1, "age")):
        np.testing.assert_allclose(by_cluster[name], _cluster_gradient(model, params, ad, k),
                                   rtol=1e-5, atol=1e-6)
    # the variance: d/dvar = d/dtheta / (dvar/dtheta), var = theta^2
    theta = params[-1]
    want = _cluster_gradient(model, params, ad, params.size - 1) / (2 * theta)
    np.testing.assert_allclose(by_cluster["var(_cons[district])"], want, rtol=1e-5, atol=1e-6)


def test_scores_add_up_to_cluster_gradients_three_level_and_gaussian():
    res = fitted("melanoma", MEPOISSON)
    sc = res.predict("scores")
    np.testing.assert_allclose(sc.sum(), 0, atol=1e-4)
    extra = res.fit.extra
    model, params, ads = extra["model"], extra["params_theta"], extra["adaptive"]
    top = engine_terms(res.design.terms)[0]
    nation = cluster_to_group(model, 0, top.groups, top.n_groups)
    by_top = sc.groupby(nation[top.groups]).sum().to_numpy()
    for k in range(params.size):
        want = _cluster_gradient(model, params, ads, k)
        if k >= 3:  # var = theta^2
            want = want / (2 * params[k])
        np.testing.assert_allclose(by_top[:, k], want, rtol=1e-5, atol=1e-5)
    pig = fitted("pig", PIG).predict("scores")
    assert list(pig.columns) == ["week", "_cons", "var(_cons[id])", "var(e.weight)"]
    np.testing.assert_allclose(pig.sum(), 0, atol=1e-4)


def test_weighted_nested_eb_modes_use_the_weights():
    """EB modes after a weighted nested fit are the modes of the weighted integrand:
    frequency weights of 2 give the modes (and SEs) of the data with those rows
    duplicated; unweighted, the tree elimination equals the sparse joint mode."""
    import memodels
    from memodels.glmm.posterior_modes import nested_modes, nested_modes_weighted
    from memodels.lmm.terms import engine_terms
    from support import fitted, load_dataset

    cmd = "mepoisson deaths uv, exposure(expected) || nation: || region:"
    res = fitted("melanoma", cmd)
    model, params = res.fit.extra["model"], res.fit.extra["params_theta"]
    terms = engine_terms(res.design.terms)
    for a, b in zip(sum(nested_modes(model, terms, params), []),
                    sum(nested_modes_weighted(model, terms, params), []), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-10)
    df = load_dataset("melanoma").copy()
    df["w"] = np.where(np.arange(len(df)) % 5 == 0, 2, 1)
    weighted = memodels.mepoisson("deaths uv [fw=w], exposure(expected) || nation: || "
                                  "region:", df, nolog=True)
    dup = pd.concat([df, df[df.w == 2]], ignore_index=True)
    plain = memodels.mepoisson("deaths uv, exposure(expected) || nation: || region:", dup,
                               nolog=True)
    assert weighted.llf == pytest.approx(plain.llf, abs=1e-6)
    for stat in ("reffects", "reses"):
        a = weighted.predict(stat, ebmodes=True).to_numpy()
        b = plain.predict(stat, ebmodes=True).iloc[: len(df)].to_numpy()
        np.testing.assert_allclose(a, b, atol=1e-7)
