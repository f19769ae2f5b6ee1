"""The survival families: derivatives against finite differences (right censoring and
delayed entry included), the density/survivor relations, Weibull PH = AFT, and the
incomplete-gamma derivatives of the gamma distribution."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs
from scipy import integrate, special, stats

from memodels.survival import make_distribution
from memodels.survival.gamma import log_upper_gamma

CASES = [("exponential", False), ("exponential", True), ("weibull", False),
         ("weibull", True), ("loglogistic", False), ("lognormal", False), ("gamma", False)]


def _data(seed=0, n=40, k=3):
    rng = np.random.default_rng(seed)
    t = rng.gamma(2.0, 3.0, n) + 0.05
    t0 = np.where(rng.random(n) < 0.4, t * rng.uniform(0.05, 0.95, n), 0.0)
    d = (rng.random(n) < 0.6).astype(float)
    eta = rng.normal(0.8, 1.0, (n, k))
    return t, t0, d, eta


def _family(name, time, t0, d):
    return make_distribution(name, time).bind(t0=t0, d=d)


@pytest.mark.parametrize("name, time", CASES)
@pytest.mark.parametrize("aux", [-0.4, 0.3])
def test_derivatives_match_finite_differences(name, time, aux):
    t, t0, d, eta = _data()
    fam = _family(name, time, t0, d)
    y = t[:, None]
    a = np.array([aux]) if fam.aux_names else None
    ll, de, dee = fam.derivatives(y, eta, a)
    h = 1e-5
    lp, dep, _ = fam.derivatives(y, eta + h, a)
    lm, dem, _ = fam.derivatives(y, eta - h, a)
    np.testing.assert_allclose(de, (lp - lm) / (2 * h), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(dee, (dep - dem) / (2 * h), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(ll, fam.loglik(y, eta, a))
    if not fam.aux_names:
        return
    da, daa, dae = fam.aux_derivatives(y, eta, a)
    assert da.shape == (1, *eta.shape) and daa.shape == (1, 1, *eta.shape)
    lap, dep_a, _ = fam.derivatives(y, eta, a + h)
    lam_, dem_a, _ = fam.derivatives(y, eta, a - h)
    np.testing.assert_allclose(da[0], (lap - lam_) / (2 * h), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(dae[0], (dep_a - dem_a) / (2 * h), rtol=1e-6, atol=1e-6)
    dap = fam.aux_derivatives(y, eta, a + h)[0][0]
    dam = fam.aux_derivatives(y, eta, a - h)[0][0]
    np.testing.assert_allclose(daa[0, 0], (dap - dam) / (2 * h), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name, time", CASES)
def test_survivor_is_integral_of_density(name, time):
    """S(t) = int_t^inf g(u) du for the fitted forms (d = 1 gives log g (+ ln t when the
    family prints the log-t form), d = 0 gives log S)."""
    fam0 = make_distribution(name, time)
    eta, aux = 0.7, np.array([0.2]) if fam0.aux_names else None
    one = np.ones(1)

    def logg(u):
        v = fam0.bind(t0=np.zeros(1), d=one).loglik(np.array([u]), np.array([eta]), aux)[0]
        return v - (np.log(u) if fam0.log_t_form else 0.0)

    for t in (0.5, 2.0, 7.0):
        logs = fam0.bind(t0=np.zeros(1), d=np.zeros(1)).loglik(
            np.array([t]), np.array([eta]), aux)[0]
        tail, _ = integrate.quad(lambda u: np.exp(logg(u)), t, np.inf, limit=200)
        assert np.exp(logs) == pytest.approx(tail, rel=1e-7)


def test_known_closed_forms():
    t, eta, a = np.array([3.0]), np.array([0.4]), np.array([0.3])
    s = np.exp(a[0])
    one, zero = np.ones(1), np.zeros(1)
    # lognormal: ln T ~ N(eta, s^2); density of t
    fam = make_distribution("lognormal").bind(t0=zero, d=one)
    assert fam.loglik(t, eta, a)[0] == pytest.approx(
        stats.lognorm.logpdf(3.0, s, scale=np.exp(0.4)), rel=1e-12)
    # gamma: shape 1/s^2, mean exp(eta)
    fam = make_distribution("gamma").bind(t0=zero, d=zero)
    k = 1 / s**2
    assert fam.loglik(t, eta, a)[0] == pytest.approx(
        stats.gamma.logsf(3.0, k, scale=np.exp(0.4) / k), rel=1e-12)
    # Weibull PH, log-t form: d (eta + ln p + p ln t) - exp(eta) t^p
    p = np.exp(0.3)
    fam = make_distribution("weibull").bind(t0=zero, d=one)
    assert fam.loglik(t, eta, a)[0] == pytest.approx(
        0.4 + 0.3 + p * np.log(3.0) - np.exp(0.4) * 3.0**p, rel=1e-12)
    # delayed entry subtracts log S(t0)
    fam2 = make_distribution("weibull").bind(t0=np.array([1.5]), d=one)
    assert fam2.loglik(t, eta, a)[0] == pytest.approx(
        fam.loglik(t, eta, a)[0] + np.exp(0.4) * 1.5**p, rel=1e-12)


@settings(max_examples=40, deadline=None)
@given(eta=hs.floats(-3, 3), lnp=hs.floats(-1, 1), t=hs.floats(0.01, 50),
       frac=hs.floats(0, 0.99), d=hs.sampled_from([0.0, 1.0]))
def test_weibull_ph_equals_aft(eta, lnp, t, frac, d):
    """b_PH = -p b_AFT: the same likelihood at eta_PH = -p eta_AFT."""
    t0 = np.array([t * frac])
    ph = make_distribution("weibull").bind(t0=t0, d=np.array([d]))
    aft = make_distribution("weibull", time=True).bind(t0=t0, d=np.array([d]))
    p = np.exp(lnp)
    a = np.array([lnp])
    v_aft = aft.loglik(np.array([t]), np.array([eta]), a)[0]
    v_ph = ph.loglik(np.array([t]), np.array([-p * eta]), a)[0]
    assert v_aft == pytest.approx(v_ph, rel=1e-10, abs=1e-10)


@pytest.mark.filterwarnings("ignore::scipy.integrate.IntegrationWarning")
def test_log_upper_gamma_against_quadrature():
    for k in (0.2, 1.44, 9.0, 60.0):
        for x in (0.01, 1.0, 5.0, 12.0, 80.0):
            lq, lk, lkk, _, _, _ = log_upper_gamma(np.array([k]), np.array([np.log(x)]))

            def mom(m, k=k, x=x):
                f = lambda u: np.log(u) ** m * np.exp((k - 1) * np.log(u) - u - special.gammaln(k))  # noqa: E731
                return integrate.quad(f, x, np.inf, limit=400, epsabs=0, epsrel=1e-13)[0]

            q = special.gammaincc(k, x)
            if q < 1e-250:
                continue
            m1 = mom(1) / q
            m2 = mom(2) / q
            assert lq[0] == pytest.approx(np.log(q), rel=1e-10, abs=1e-14)
            assert lk[0] == pytest.approx(m1 - special.digamma(k), rel=1e-7, abs=1e-10)
            assert lkk[0] == pytest.approx(m2 - m1 * m1 - special.polygamma(1, k),
                                           rel=1e-6, abs=1e-9)


def test_gamma_far_tail_is_finite():
    lq, lk, lkk, ll_, lkl, lll = log_upper_gamma(np.array([1.5, 1.5]),
                                                 np.log(np.array([800.0, 5000.0])))
    for v in (lq, lk, lkk, ll_, lkl, lll):
        assert np.all(np.isfinite(v))
    # log Q ~ (k-1) ln x - x - lgamma(k) for large x
    assert lq[1] == pytest.approx(0.5 * np.log(5000.0) - 5000.0 - special.gammaln(1.5),
                                  rel=1e-6)


def test_metric_rules():
    assert make_distribution("weibull").metric == "ph"
    assert make_distribution("weibull", time=True).metric == "aft"
    assert make_distribution("lnormal").name == "lognormal"
    assert make_distribution("llogistic").name == "loglogistic"
    assert make_distribution("gamma").aux_names == ("/logs",)
    assert make_distribution("weibull").aux_names == ("/ln_p",)
    with pytest.raises(Exception, match="distribution"):
        make_distribution("gompertz")


@pytest.mark.parametrize("dist", ["lognormal", "loglogistic", "gamma"])
def test_time_only_for_exponential_and_weibull(dist):
    """[ME] mestreg, Options: time "is valid only for the exponential and Weibull models"
    (audit LAX row: accepted with lognormal)."""
    from memodels.errors import OptionError

    with pytest.raises(OptionError, match="only for the exponential and Weibull"):
        make_distribution(dist, time=True)
    assert make_distribution("weibull", time=True).metric == "aft"
    assert make_distribution(dist).metric == "aft"
