import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memodels.errors import OptionError
from memodels.families import LINKS, Link, link

NAMES = ["identity", "log", "logit", "probit", "cloglog"]


def mu_strategy(name):
    if name == "identity":
        return st.floats(-1e3, 1e3)
    if name == "log":
        return st.floats(1e-6, 1e6)
    return st.floats(1e-9, 1 - 1e-9)


@pytest.mark.parametrize("name", NAMES)
def test_link_is_a_link(name):
    assert isinstance(link(name), Link)
    assert link(name).name == name


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_inverse_of_link_is_identity(name, data):
    mu = data.draw(mu_strategy(name))
    lk = LINKS[name]
    back = lk.inverse(lk.link(np.array([mu])))[0]
    assert back == pytest.approx(mu, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=60, deadline=None)
@given(eta=st.floats(-8, 8))
def test_inverse_derivatives_match_finite_differences(name, eta):
    lk = LINKS[name]
    h = 1e-5
    e = np.array([eta - h, eta, eta + h])
    f = lk.inverse(e)
    d1 = lk.inverse_d1(e)
    assert lk.inverse_d1(np.array([eta]))[0] == pytest.approx(
        (f[2] - f[0]) / (2 * h), rel=1e-6, abs=1e-9)
    assert lk.inverse_d2(np.array([eta]))[0] == pytest.approx(
        (d1[2] - d1[0]) / (2 * h), rel=1e-5, abs=1e-8)


@pytest.mark.parametrize("name", ["logit", "probit", "cloglog"])
def test_binary_inverse_links_stable_at_extremes(name):
    lk = LINKS[name]
    eta = np.array([-1e4, -800.0, -40.0, 40.0, 800.0, 1e4])
    with np.errstate(invalid="raise", over="raise", divide="raise"):
        mu = lk.inverse(eta)
        assert np.all(np.isfinite(mu)) and np.all((mu >= 0) & (mu <= 1))
        assert np.all(np.isfinite(lk.inverse_d1(eta)))
        assert np.all(np.isfinite(lk.inverse_d2(eta)))
    # cloglog: mu ~ exp(eta) for eta -> -inf
    if name == "cloglog":
        assert lk.inverse(np.array([-40.0]))[0] == pytest.approx(np.exp(-40.0), rel=1e-12)


def test_values_match_manual_table():
    eta = np.array([-1.3, 0.2, 2.5])
    from scipy.stats import norm

    np.testing.assert_allclose(LINKS["logit"].inverse(eta), 1 / (1 + np.exp(-eta)))
    np.testing.assert_allclose(LINKS["probit"].inverse(eta), norm.cdf(eta))
    np.testing.assert_allclose(LINKS["cloglog"].inverse(eta), 1 - np.exp(-np.exp(eta)))
    np.testing.assert_allclose(LINKS["log"].inverse(eta), np.exp(eta))
    np.testing.assert_allclose(LINKS["identity"].inverse(eta), eta)


@pytest.mark.parametrize("abbrev,full", [("iden", "identity"), ("id", "identity"),
                                         ("log", "log"), ("logi", "logit"), ("p", "probit"),
                                         ("c", "cloglog"), ("LOGIT", "logit")])
def test_abbreviations(abbrev, full):
    assert link(abbrev).name == full


@pytest.mark.parametrize("bad", ["lo", "i", "sqrt", "", "power"])
def test_unknown_link(bad):
    with pytest.raises(OptionError, match="link"):
        link(bad)
