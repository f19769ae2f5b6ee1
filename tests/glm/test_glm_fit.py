import warnings
import zlib

import numpy as np
import pytest
from scipy import optimize

from memodels.errors import ConvergenceWarning, DataError
from memodels.families import make_family
from memodels.glm import GLMResult, fit_glm
from support import load_dataset

COMBOS = [
    ("gaussian", "identity"), ("gaussian", "log"), ("bernoulli", "logit"),
    ("bernoulli", "probit"), ("bernoulli", "cloglog"), ("binomial 6", "logit"),
    ("binomial 6", "probit"), ("binomial 6", "cloglog"), ("gamma", "log"),
    ("nbinomial mean", "log"), ("nbinomial constant", "log"), ("poisson", "log"),
]


def simulate(fam, rng, n=400):
    X = np.column_stack([rng.normal(size=n), rng.uniform(-1, 1, n), np.ones(n)])
    beta = np.array([0.4, -0.6, 0.3])
    if fam.name == "gaussian" and fam.link.name == "log":
        beta[2] = 2.0
    eta = X @ beta
    mu = fam.mean(eta)
    if fam.name == "bernoulli":
        y = (rng.uniform(size=n) < mu).astype(float)
    elif fam.name == "binomial":
        y = rng.binomial(6, mu / 6).astype(float)
    elif fam.name == "poisson":
        y = rng.poisson(mu).astype(float)
    elif fam.name == "nbinomial":
        if fam.dispersion == "mean":
            y = rng.negative_binomial(1 / 0.5, 1 / (1 + 0.5 * mu)).astype(float)
        else:
            y = rng.negative_binomial(mu / 0.7, 1 / 1.7).astype(float)
    elif fam.name == "gaussian":
        y = mu + 0.8 * rng.normal(size=n)
    else:
        y = rng.gamma(2.0, mu / 2.0)
    return y, X


def scipy_mle(fam, y, X, x0, offset=None):
    p = X.shape[1]
    off = 0.0 if offset is None else offset

    def negll(theta):
        aux = theta[p:] if fam.aux_names else None
        v = -fam.loglik(y, X @ theta[:p] + off, aux).sum()
        return v if np.isfinite(v) else 1e300

    res = optimize.minimize(negll, x0, method="BFGS", options={"gtol": 1e-9, "maxiter": 5000})
    res = optimize.minimize(negll, res.x, method="Nelder-Mead",
                            options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20000})
    return res.x, -res.fun


def numeric_hessian(fam, y, X, theta):
    p = X.shape[1]

    def ll(t):
        return fam.loglik(y, X @ t[:p], t[p:] if fam.aux_names else None).sum()

    k = theta.size
    H = np.empty((k, k))
    h = 1e-4
    for i in range(k):
        for j in range(k):
            ei, ej = np.eye(k)[i] * h, np.eye(k)[j] * h
            H[i, j] = (ll(theta + ei + ej) - ll(theta + ei - ej) - ll(theta - ei + ej)
                       + ll(theta - ei - ej)) / (4 * h * h)
    return H


@pytest.mark.parametrize("spec,lk", COMBOS, ids=[f"{a}-{b}" for a, b in COMBOS])
def test_matches_scipy_optimum(spec, lk):
    fam = make_family(spec, lk)
    rng = np.random.default_rng(zlib.crc32(f"{spec}-{lk}".encode()))
    y, X = simulate(fam, rng)
    res = fit_glm(y, X, fam)
    assert isinstance(res, GLMResult) and res.converged
    assert res.params.shape == (3 + len(fam.aux_names),)
    ref, ll_ref = scipy_mle(fam, y, X, res.params + 0.05)
    assert res.llf >= ll_ref - 1e-8
    np.testing.assert_allclose(res.params, ref, atol=2e-4)
    # log: iteration 0 at the start, last entry the final log likelihood, ll nondecreasing
    assert res.log[0][0] == 0 and res.log[-1][1] == pytest.approx(res.llf, abs=1e-12)
    lls = [v for _, v in res.log]
    assert all(b >= a - 1e-9 for a, b in zip(lls[:-1], lls[1:], strict=True))
    # vcov = inverse observed information
    H = numeric_hessian(fam, y, X, res.params)
    np.testing.assert_allclose(np.linalg.inv(-H), res.vcov, rtol=2e-3, atol=1e-8)
    assert np.abs(res.gradient).max() < 1e-6


def test_gaussian_identity_closed_form():
    rng = np.random.default_rng(1)
    y, X = simulate(make_family("gaussian"), rng)
    res = fit_glm(y, X, make_family("gaussian"))
    b, rss = np.linalg.lstsq(X, y, rcond=None)[:2]
    n = y.size
    np.testing.assert_allclose(res.beta, b, rtol=1e-10)
    np.testing.assert_allclose(res.aux, [0.5 * np.log(rss[0] / n)], rtol=1e-10)
    np.testing.assert_allclose(res.llf, -0.5 * n * (np.log(2 * np.pi * rss[0] / n) + 1),
                               rtol=1e-12)
    # OLS ML covariance: sigma2 (X'X)^-1 and var(ln sigma) = 1/(2n)
    s2 = rss[0] / n
    np.testing.assert_allclose(res.vcov[:3, :3], s2 * np.linalg.inv(X.T @ X), rtol=1e-8)
    np.testing.assert_allclose(res.vcov[3, 3], 1 / (2 * n), rtol=1e-8)


def test_intercept_only_closed_forms():
    rng = np.random.default_rng(2)
    n = 300
    one = np.ones((n, 1))
    yb = (rng.uniform(size=n) < 0.3).astype(float)
    res = fit_glm(yb, one, make_family("bernoulli"))
    m = yb.mean()
    assert res.params[0] == pytest.approx(np.log(m / (1 - m)), abs=1e-10)
    assert res.llf == pytest.approx(n * (m * np.log(m) + (1 - m) * np.log(1 - m)), rel=1e-12)
    yp = rng.poisson(3.0, n).astype(float)
    res = fit_glm(yp, one, make_family("poisson"))
    assert res.params[0] == pytest.approx(np.log(yp.mean()), abs=1e-10)
    assert res.vcov[0, 0] == pytest.approx(1 / yp.sum(), rel=1e-8)
    # probit intercept: Phi^{-1}(ybar)
    from scipy.stats import norm

    res = fit_glm(yb, one, make_family("bernoulli", "probit"))
    assert res.params[0] == pytest.approx(norm.ppf(m), abs=1e-9)


def test_offset_and_frequency_weights():
    rng = np.random.default_rng(4)
    fam = make_family("nbinomial")
    y, X = simulate(fam, rng, 200)
    off = rng.uniform(-0.5, 0.5, y.size)
    w = rng.integers(1, 4, y.size).astype(float)
    res = fit_glm(y, X, fam, offset=off, weights=w)
    rep = np.repeat(np.arange(y.size), w.astype(int))
    res2 = fit_glm(y[rep], X[rep], fam, offset=off[rep])
    np.testing.assert_allclose(res.params, res2.params, atol=1e-8)
    assert res.llf == pytest.approx(res2.llf, rel=1e-12)
    np.testing.assert_allclose(res.vcov, res2.vcov, rtol=1e-6)
    ref, _ = scipy_mle(fam, y[rep], X[rep], res.params + 0.05, offset=off[rep])
    np.testing.assert_allclose(res.params, ref, atol=2e-4)


def test_binomial_trials_variable():
    rng = np.random.default_rng(5)
    n = 300
    trials = rng.integers(1, 12, n).astype(float)
    X = np.column_stack([rng.normal(size=n), np.ones(n)])
    p = 1 / (1 + np.exp(-(X @ [0.7, -0.2])))
    y = rng.binomial(trials.astype(int), p).astype(float)
    fam = make_family("binomial n", "logit").bind(trials=trials)
    res = fit_glm(y, X, fam)
    assert res.converged
    ref, ll_ref = scipy_mle(fam, y, X, res.params + 0.1)
    np.testing.assert_allclose(res.params, ref, atol=1e-5)
    assert res.llf == pytest.approx(ll_ref, abs=1e-8)


def test_perfect_prediction_reports_nonconvergence():
    x = np.array([-3.0, -2, -1, -0.5, 0.5, 1, 2, 3])
    y = (x > 0).astype(float)
    X = np.column_stack([x, np.ones_like(x)])
    with pytest.warns(ConvergenceWarning):
        res = fit_glm(y, X, make_family("bernoulli"), maxiter=50)
    assert not res.converged
    assert res.message
    assert np.isfinite(res.llf) and res.llf > -1e-3
    # quasi-complete separation for Poisson: all-zero group
    g = np.array([0, 0, 0, 1, 1, 1.0])
    yp = np.array([0, 0, 0, 2, 3, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = fit_glm(yp, np.column_stack([g, np.ones(6)]), make_family("poisson"), maxiter=60)
    assert not res.converged


def test_bad_inputs():
    with pytest.raises(DataError, match="rows"):
        fit_glm(np.ones(3), np.ones((4, 1)), make_family("poisson"))
    with pytest.raises(DataError, match="weights"):
        fit_glm(np.ones(3), np.ones((3, 1)), make_family("poisson"), weights=[1, -1, 1])
    with pytest.raises(ValueError, match="start must have 2 values"):
        fit_glm(np.ones(3), np.ones((3, 1)), make_family("nbinomial"), start=[0.0])


# ------------------------------------------------------------- manual datasets
def _bangladesh():
    df = load_dataset("bangladesh")
    X = np.column_stack([df[["urban", "age", "child1", "child2", "child3"]].to_numpy(float),
                         np.ones(len(df))])
    return df["c_use"].to_numpy(float), X


def test_bangladesh_fixed_effects_logit():
    """data/README.md: the fixed-effects logit ll on this copy is -1228.365 (Stata's copy:
    -1228.5263; this CSV differs from Stata's file in a few records)."""
    y, X = _bangladesh()
    fam = make_family("bernoulli")
    res = fit_glm(fam.validate(y, "c_use"), X, fam)
    assert res.converged
    assert res.llf == pytest.approx(-1228.365, abs=1e-3)


def test_epilepsy_poisson_matches_stata_fixed_effects_ll():
    """[ME] mepoisson example 1: "Fitting fixed-effects model" ends at -817.65925.  The
    maximum on this copy is -817.659261 (-817.659260 with lage/lbas/lbas_trt rounded to
    float as Stata stores them): 1e-5 above Stata's print, hence the 3e-5 tolerance."""
    df = load_dataset("epilepsy")
    X = np.column_stack([df[["treat", "lbas", "lbas_trt", "lage", "v4"]].to_numpy(float),
                         np.ones(len(df))])
    res = fit_glm(df["seizures"].to_numpy(float), X, make_family("poisson"))
    assert res.converged
    assert res.llf == pytest.approx(-817.65925, abs=3e-5)


def test_melanoma_count_models_match_stata_fixed_effects_ll():
    """[ME] mepoisson example 2 (-1722.9762) and [ME] menbreg example 2 (-1202.5329):
    fixed-effects fits with exposure(expected)."""
    df = load_dataset("melanoma")
    y = df["deaths"].to_numpy(float)
    off = np.log(df["expected"].to_numpy(float))
    uv = df["uv"].to_numpy(float)
    one = np.ones_like(uv)
    res = fit_glm(y, np.column_stack([uv, uv * uv, one]), make_family("poisson"), offset=off)
    assert res.converged and res.llf == pytest.approx(-1722.9762, abs=1e-4)
    res = fit_glm(y, np.column_stack([uv, one]), make_family("nbinomial"), offset=off)
    assert res.converged and res.llf == pytest.approx(-1202.5329, abs=1e-4)
