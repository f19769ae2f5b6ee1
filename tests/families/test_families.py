"""Property tests over every family-link combination meglm allows."""

import numpy as np
import pytest
from family_cases import COMBO_IDS, COMBOS, draw, family_of
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

SEEDS = st.integers(0, 2**32 - 1)
# derandomized: the same 40 draws on every run, so that CI cannot meet a new draw
PROP = settings(max_examples=40, deadline=None, derandomize=True)


def _fd(f, x, h):
    """Central difference with one Richardson step (error O(h^4)): steep links such as
    the Gaussian log link defeat the plain O(h^2) difference at 1e-5 relative."""
    def central(step):
        return (f(x + step) - f(x - step)) / (2 * step)
    return (4 * central(h / 2) - central(h)) / 3


def assert_close(actual, expected, rtol, atol):
    """Elementwise |actual - expected| <= rtol |expected| + atol (atol may be an array)."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    bad = ~(np.abs(actual - expected) <= rtol * np.abs(expected) + atol)
    assert not bad.any(), (actual[bad], expected[bad])


@pytest.mark.parametrize("combo", COMBOS, ids=COMBO_IDS)
@PROP
@given(seed=SEEDS)
def test_eta_derivatives_match_finite_differences(combo, seed):
    fam = family_of(combo)
    eta, aux, y = draw(fam, np.random.default_rng(seed))
    ll, d1, d2 = fam.derivatives(y, eta, aux)
    np.testing.assert_allclose(ll, fam.loglik(y, eta, aux), rtol=1e-13, atol=1e-12)
    h = 1e-5 * (1 + np.abs(eta))
    fd1 = _fd(lambda e: fam.loglik(y, e, aux), eta, h)
    fd2 = _fd(lambda e: fam.derivatives(y, e, aux)[1], eta, h)
    assert_close(d1, fd1, rtol=1e-5, atol=1e-6 * (1 + np.abs(ll)))
    assert_close(d2, fd2, rtol=1e-5, atol=1e-6 * (1 + np.abs(d1)))


AUX_COMBOS = [c for c in COMBOS if family_of(c).aux_names]


@pytest.mark.parametrize("combo", AUX_COMBOS, ids=[f"{c[0]}-{c[1]}" for c in AUX_COMBOS])
@PROP
@given(seed=SEEDS)
def test_aux_derivatives_match_finite_differences(combo, seed):
    fam = family_of(combo)
    eta, aux, y = draw(fam, np.random.default_rng(seed))
    da, daa, dae = fam.aux_derivatives(y, eta, aux)
    assert da.shape == (1, eta.size) and daa.shape == (1, 1, eta.size)
    assert dae.shape == (1, eta.size)
    h = 1e-5
    a0 = aux[0]
    ll = fam.loglik(y, eta, aux)
    fda = _fd(lambda a: fam.loglik(y, eta, np.array([a])), a0, h)
    fdaa = _fd(lambda a: fam.aux_derivatives(y, eta, np.array([a]))[0][0], a0, h)
    fdae = _fd(lambda a: fam.derivatives(y, eta, np.array([a]))[1], a0, h)
    assert_close(da[0], fda, rtol=1e-5, atol=1e-6 * (1 + np.abs(ll)))
    assert_close(daa[0, 0], fdaa, rtol=1e-5, atol=1e-6 * (1 + np.abs(da[0])))
    assert_close(dae[0], fdae, rtol=1e-5, atol=1e-6 * (1 + np.abs(da[0])))


@pytest.mark.parametrize("combo", COMBOS, ids=COMBO_IDS)
def test_engine_shapes(combo):
    """The GLMM engine calls with y (n, 1), eta (n, K) and aux of shape (n_aux,)."""
    fam = family_of(combo)
    rng = np.random.default_rng(3)
    eta, aux, y = draw(fam, rng, 6)
    etak = eta[:, None] + np.linspace(-0.5, 0.5, 5)[None, :]
    ll, d1, d2 = fam.derivatives(y[:, None], etak, aux)
    assert ll.shape == d1.shape == d2.shape == (6, 5)
    np.testing.assert_allclose(ll[:, 2], fam.loglik(y, eta, aux), rtol=1e-13)
    if fam.aux_names:
        da, daa, dae = fam.aux_derivatives(y[:, None], etak, aux)
        assert da.shape == (1, 6, 5) and daa.shape == (1, 1, 6, 5) and dae.shape == (1, 6, 5)


# ------------------------------------------------------- reference densities
@PROP
@given(seed=SEEDS)
def test_binomial_matches_scipy(seed):
    rng = np.random.default_rng(seed)
    for lk in ("logit", "probit", "cloglog"):
        fam = family_of(("binomial", lk, {"trials": 7}))
        eta, _, y = draw(fam, rng)
        eta = eta / 3  # keep p away from 0/1 where scipy loses precision
        p = fam.link.inverse(eta)
        np.testing.assert_allclose(fam.loglik(y, eta), stats.binom.logpmf(y, 7, p),
                                   rtol=1e-9, atol=1e-10)
        fb = family_of(("bernoulli", lk, {}))
        yb = (y > 3).astype(float)
        np.testing.assert_allclose(fb.loglik(yb, eta), stats.bernoulli.logpmf(yb, p),
                                   rtol=1e-9, atol=1e-10)


@PROP
@given(seed=SEEDS)
def test_count_families_match_scipy(seed):
    rng = np.random.default_rng(seed)
    fam = family_of(("poisson", "log", {}))
    eta, _, y = draw(fam, rng)
    np.testing.assert_allclose(fam.loglik(y, eta), stats.poisson.logpmf(y, np.exp(eta)),
                               rtol=1e-10, atol=1e-10)
    for disp in ("mean", "constant"):
        fam = family_of((f"nbinomial {disp}", "log", {}))
        eta, aux, y = draw(fam, rng)
        mu, g = np.exp(eta), np.exp(aux[0])
        n, p = (1 / g, 1 / (1 + g * mu)) if disp == "mean" else (mu / g, 1 / (1 + g))
        np.testing.assert_allclose(fam.loglik(y, eta, aux), stats.nbinom.logpmf(y, n, p),
                                   rtol=1e-9, atol=1e-9)


@PROP
@given(seed=SEEDS)
def test_continuous_families_match_scipy(seed):
    rng = np.random.default_rng(seed)
    for lk in ("identity", "log"):
        fam = family_of(("gaussian", lk, {}))
        eta, aux, y = draw(fam, rng)
        np.testing.assert_allclose(
            fam.loglik(y, eta, aux),
            stats.norm.logpdf(y, fam.link.inverse(eta), np.exp(aux[0])), rtol=1e-12, atol=1e-13)
    fam = family_of(("gamma", "log", {}))
    eta, aux, y = draw(fam, rng)
    k = np.exp(-2 * aux[0])
    y = np.maximum(y, 1e-100)
    np.testing.assert_allclose(fam.loglik(y, eta, aux),
                               stats.gamma.logpdf(y, k, scale=np.exp(eta) / k), rtol=1e-9,
                               atol=1e-11)


# ---------------------------------------------------------- normalization
@settings(max_examples=25, deadline=None)
@given(eta=st.floats(-4, 3), a=st.floats(-2, 1))
def test_discrete_densities_sum_to_one(eta, a):
    for combo in COMBOS:
        fam = family_of(combo)
        aux = np.array([a]) if fam.aux_names else None
        if fam.name == "bernoulli":
            support = np.array([0.0, 1.0])
        elif fam.name == "binomial":
            support = np.arange(8.0)
        elif fam.name in ("poisson", "nbinomial"):
            support = np.arange(20000.0)
        else:
            continue
        total = np.exp(fam.loglik(support, np.full(support.shape, eta), aux)).sum()
        assert total == pytest.approx(1.0, abs=1e-9), combo


@pytest.mark.parametrize("combo", [c for c in COMBOS if c[0] in ("gaussian", "gamma")],
                         ids=lambda c: f"{c[0]}-{c[1]}")
@pytest.mark.parametrize("eta,a", [(0.3, -0.4), (1.2, 0.5), (-0.5, -1.0)])
def test_continuous_densities_integrate_to_one(combo, eta, a):
    fam = family_of(combo)
    aux = np.array([a])

    def dens(v):
        return float(np.exp(fam.loglik(np.array([v]), np.array([eta]), aux))[0])

    lo = -np.inf if fam.name == "gaussian" else 0.0
    total, _ = integrate.quad(dens, lo, np.inf, limit=200)
    assert total == pytest.approx(1.0, abs=1e-7)


# ------------------------------------------------------ extreme linear predictors
@pytest.mark.parametrize("lk", ["logit", "probit", "cloglog"])
def test_binary_derivatives_stable_in_tails(lk):
    fam = family_of(("bernoulli", lk, {}))
    eta = np.array([-1e4, -500.0, -60.0, -30.0, 30.0, 60.0, 500.0, 1e4])
    for yv in (0.0, 1.0):
        y = np.full(eta.shape, yv)
        with np.errstate(invalid="raise", divide="raise", over="raise"):
            ll, d1, d2 = fam.derivatives(y, eta)
        assert np.all(np.isfinite(ll)) and np.all(np.isfinite(d1)) and np.all(np.isfinite(d2))
        assert np.all(ll <= 0) and np.all(d2 <= 0)
    # known tail forms
    ll, d1, d2 = fam.derivatives(np.ones(3), np.array([-1e4, -60.0, -30.0]))
    if lk == "logit":
        np.testing.assert_allclose(ll, [-1e4, -60.0, -30.0 - np.log1p(np.exp(-30.0))])
        np.testing.assert_allclose(d1, [1.0, 1.0, 1.0], rtol=1e-12)
    elif lk == "probit":
        lam, kap = _mp_probit_hazard([-1e4, -60.0, -30.0])
        np.testing.assert_allclose(d1, lam, rtol=1e-12)
        np.testing.assert_allclose(-d2, kap, rtol=1e-11)
    else:
        np.testing.assert_allclose(ll, [-1e4, -60.0, -30.0 - np.exp(-30.0) / 2], rtol=1e-12)
        np.testing.assert_allclose(d1, [1.0, 1.0, 1.0], rtol=1e-12)
        np.testing.assert_allclose(d2, [-0.0, -np.exp(-60.0) / 2, -np.exp(-30.0) / 2],
                                   rtol=1e-10, atol=1e-300)


def _mp_probit_hazard(xs):
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 50
    lam, kap = [], []
    for x in xs:
        x = mpmath.mpf(x)
        la = mpmath.npdf(x) / mpmath.ncdf(x)
        lam.append(float(la))
        kap.append(float(la * (x + la)))
    return np.array(lam), np.array(kap)


@settings(max_examples=100, deadline=None)
@given(x=st.one_of(st.floats(-1e5, 8.0), st.floats(-120.0, -80.0)))
def test_probit_derivatives_accurate_against_mpmath(x):
    """d/deta log Phi = lambda, d2 = -lambda (eta + lambda): 1e-10 relative everywhere,
    also where the direct formula cancels (eta << 0)."""
    fam = family_of(("bernoulli", "probit", {}))
    _, d1, d2 = fam.derivatives(np.ones(1), np.array([x]))
    lam, kap = _mp_probit_hazard([x])
    np.testing.assert_allclose(d1, lam, rtol=1e-12)
    np.testing.assert_allclose(-d2, kap, rtol=1e-10)


# ------------------------------------------------------ mean and variance table
def test_mean_and_variance_functions():
    eta = np.array([-0.7, 0.4, 1.1])
    aux = np.array([-0.3])
    g = np.exp(-0.3)
    p = 1 / (1 + np.exp(-eta))
    fam = family_of(("bernoulli", "logit", {}))
    np.testing.assert_allclose(fam.mean(eta), p)
    np.testing.assert_allclose(fam.variance(p), p * (1 - p))
    fam = family_of(("binomial", "logit", {"trials": 7}))
    np.testing.assert_allclose(fam.mean(eta), 7 * p)
    np.testing.assert_allclose(fam.variance(7 * p), 7 * p * (1 - p))
    mu = np.exp(eta)
    np.testing.assert_allclose(family_of(("poisson", "log", {})).variance(mu), mu)
    np.testing.assert_allclose(family_of(("gamma", "log", {})).variance(mu), mu**2)
    np.testing.assert_allclose(family_of(("gaussian", "identity", {})).variance(mu), 1.0)
    np.testing.assert_allclose(
        family_of(("nbinomial mean", "log", {})).variance(mu, aux), mu * (1 + g * mu))
    np.testing.assert_allclose(
        family_of(("nbinomial constant", "log", {})).variance(mu, aux), mu * (1 + g))


def test_binomial_bound_trials_broadcast():
    from memodels.families import make_family

    trials = np.array([3.0, 5.0, 10.0])
    y = np.array([1.0, 5.0, 0.0])
    fam = make_family("binomial n", "logit").bind(trials=trials)
    eta = np.array([0.2, -1.0, 0.5])
    expect = stats.binom.logpmf(y, trials, 1 / (1 + np.exp(-eta)))
    np.testing.assert_allclose(fam.loglik(y, eta), expect, rtol=1e-12)
    etak = eta[:, None] + np.zeros((1, 4))
    np.testing.assert_allclose(fam.loglik(y[:, None], etak)[:, 3], expect, rtol=1e-12)
    np.testing.assert_allclose(fam.mean(etak)[:, 0], trials / (1 + np.exp(-eta)))
    fam2 = make_family("binomial", trials=trials)
    np.testing.assert_allclose(fam2.loglik(y, eta), expect, rtol=1e-12)
