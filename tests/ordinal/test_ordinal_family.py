"""The ordinal family (families/ordinal.py): probabilities, tail accuracy, exact
derivatives against finite differences, outcome validation and starting cutpoints."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memodels.errors import DataError, OptionError
from memodels.families import make_family
from memodels.families.ordinal import Ordinal, log_interval

LINKS = ["logit", "probit", "cloglog"]
PROP = settings(max_examples=40, deadline=None)
SEEDS = st.integers(0, 2**32 - 1)


def _family(link: str, k: int) -> Ordinal:
    fam = make_family("ordinal", link)
    fam.validate(np.arange(k, dtype=float), "y")
    return fam


def _draw(link: str, seed: int, n: int = 30, nodes: int = 3):
    """A family with 2..6 categories, increasing cutpoints, eta (n, nodes) and y drawn
    from the model (as the engines pass them: y of shape (n, 1))."""
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 7))
    fam = _family(link, k)
    cuts = np.sort(rng.uniform(-3.0, 3.0, k - 1))
    cuts += 0.2 * np.arange(k - 1)  # keep them apart
    eta = rng.uniform(-4.0, 4.0, (n, nodes))
    pr = fam.probabilities(eta[:, 0], cuts)
    u = rng.random(n)
    y = (u[:, None] > np.cumsum(pr, axis=1)[:, :-1]).sum(axis=1).astype(float)
    return fam, cuts, eta, y[:, None]


def _fd(f, x, h):
    return (f(x + h) - f(x - h)) / (2 * h)


def _close(actual, expected, rtol, atol):
    actual, expected = np.broadcast_arrays(np.asarray(actual), np.asarray(expected))
    bad = ~(np.abs(actual - expected) <= rtol * np.abs(expected) + atol)
    assert not bad.any(), (actual[bad], expected[bad])


# ------------------------------------------------------------------ probabilities
@pytest.mark.parametrize("link", LINKS)
@PROP
@given(seed=SEEDS)
def test_probabilities_sum_to_one_and_match_loglik(link, seed):
    fam, cuts, eta, y = _draw(link, seed)
    pr = fam.probabilities(eta, cuts)
    assert pr.shape == eta.shape + (len(cuts) + 1,)
    assert np.all(pr >= 0) and np.all(pr <= 1)
    np.testing.assert_allclose(pr.sum(-1), 1.0, atol=1e-13)
    ll = fam.loglik(y, eta, cuts)
    idx = np.broadcast_to(y.astype(int), eta.shape)
    np.testing.assert_allclose(np.exp(ll), np.take_along_axis(pr, idx[..., None], -1)[..., 0],
                               rtol=1e-12, atol=1e-300)


def _cdf_mp(link: str, x):
    x = mpmath.mpf(x)
    if link == "logit":
        return 1 / (1 + mpmath.exp(-x))
    if link == "probit":
        return mpmath.ncdf(x)
    return 1 - mpmath.exp(-mpmath.exp(x))


def _sf_mp(link: str, x):
    x = mpmath.mpf(x)
    if link == "cloglog":
        return mpmath.exp(-mpmath.exp(x))
    return _cdf_mp(link, -x)


def _interval_mp(link: str, a, b):
    """F(a) - F(b) without cancellation: survival functions in the upper tail."""
    if a + b > 0:
        return (_sf_mp(link, b) if b != -mpmath.inf else 1) - (
            _sf_mp(link, a) if a != mpmath.inf else 0)
    return (_cdf_mp(link, a) if a != mpmath.inf else 1) - (
        _cdf_mp(link, b) if b != -mpmath.inf else 0)


# cloglog with eta = -60: 1 - F(b) for b ~ 60 is exp(-exp(60)), not representable in
# double precision, so that corner is not a case
TAIL_CASES = [(link, eta) for link in LINKS
              for eta in (-60.0, -25.0, -8.0, 0.0, 8.0, 25.0, 60.0)
              if not (link == "cloglog" and eta < -25)]


@pytest.mark.parametrize("link, eta", TAIL_CASES)
def test_log_probabilities_accurate_in_the_tails(link, eta):
    """log Pr(y = k) against 50-digit arithmetic, with the linear predictor far out in
    either tail (where the naive F(a) - F(b) underflows or cancels)."""
    mpmath.mp.dps = 50
    cuts = np.array([-1.0, -0.9, 0.5, 2.0])
    fam = _family(link, 5)
    y = np.arange(5, dtype=float)
    got = fam.loglik(y, np.full(5, eta), cuts)
    ext = [-mpmath.inf, *cuts, mpmath.inf]
    for k in range(5):
        want = float(mpmath.log(_interval_mp(link, ext[k + 1] - eta, ext[k] - eta)))
        assert got[k] == pytest.approx(want, rel=1e-10, abs=1e-13), (k, got[k], want)


@pytest.mark.parametrize("link", LINKS)
def test_crossed_cutpoints_give_zero_probability(link):
    assert log_interval(link, np.array([0.0]), np.array([0.5]))[0] == -np.inf
    fam = _family(link, 3)
    ll = fam.loglik(np.array([1.0]), np.array([0.0]), np.array([1.0, 0.5]))
    assert ll[0] == -np.inf


# -------------------------------------------------------------------- derivatives
@pytest.mark.parametrize("link", LINKS)
@PROP
@given(seed=SEEDS)
def test_eta_derivatives_match_finite_differences(link, seed):
    fam, cuts, eta, y = _draw(link, seed)
    ll, d1, d2 = fam.derivatives(y, eta, cuts)
    np.testing.assert_allclose(ll, fam.loglik(y, eta, cuts), rtol=1e-13, atol=1e-13)
    h = 1e-5
    fd1 = _fd(lambda e: fam.loglik(y, e, cuts), eta, h)
    fd2 = _fd(lambda e: fam.derivatives(y, e, cuts)[1], eta, h)
    _close(d1, fd1, 1e-5, 1e-6 * (1 + np.abs(ll)))
    _close(d2, fd2, 1e-5, 1e-6 * (1 + np.abs(d1)))


@pytest.mark.parametrize("link", LINKS)
@PROP
@given(seed=SEEDS)
def test_cutpoint_derivatives_match_finite_differences(link, seed):
    fam, cuts, eta, y = _draw(link, seed)
    a = len(cuts)
    da, daa, dae = fam.aux_derivatives(y, eta, cuts)
    assert da.shape == (a,) + eta.shape
    assert daa.shape == (a, a) + eta.shape
    assert dae.shape == (a,) + eta.shape
    np.testing.assert_allclose(daa, np.swapaxes(daa, 0, 1))
    ll = fam.loglik(y, eta, cuts)
    h = 1e-5
    for j in range(a):
        e = np.zeros(a)
        e[j] = 1.0
        fda = _fd(lambda t, e=e: fam.loglik(y, eta, cuts + t * e), 0.0, h)
        fdae = _fd(lambda t, e=e: fam.derivatives(y, eta, cuts + t * e)[1], 0.0, h)
        fdaa = _fd(lambda t, e=e: fam.aux_derivatives(y, eta, cuts + t * e)[0], 0.0, h)
        _close(da[j], fda, 1e-5, 1e-6 * (1 + np.abs(ll)))
        _close(dae[j], fdae, 1e-5, 1e-6 * (1 + np.abs(da[j])))
        _close(daa[:, j], fdaa, 1e-5, 1e-6 * (1 + np.abs(da)))


@pytest.mark.parametrize("link", LINKS)
def test_derivatives_finite_far_in_the_tails(link):
    fam = _family(link, 4)
    cuts = np.array([-0.5, 0.3, 1.2])
    eta = np.array([-30.0, -10.0, 10.0, 30.0])[:, None] * np.ones((1, 4))
    y = np.array([0.0, 1.0, 2.0, 3.0])[None, :] * np.ones((4, 1))
    y, eta = y.reshape(-1, 1), eta.reshape(-1, 1)
    if link == "cloglog":
        eta = np.clip(eta, -30, 3.0)  # Pr(y > k) = exp(-exp(33)) underflows to 0 exactly
    ll, d1, d2 = fam.derivatives(y, eta, cuts)
    da, daa, dae = fam.aux_derivatives(y, eta, cuts)
    for arr in (ll, d1, d2, da, daa, dae):
        assert np.all(np.isfinite(arr))
    assert np.all(d2 <= 1e-12)  # the ordinal log likelihood is concave in eta


# --------------------------------------------------------------- outcome handling
def test_validate_maps_any_ordered_values():
    fam = make_family("ordinal", "logit")
    idx = fam.validate(np.array([10.0, 2.5, 35.0, 2.5, 10.0, 10.0]), "score")
    np.testing.assert_array_equal(idx, [1, 0, 2, 0, 1, 1])
    np.testing.assert_array_equal(fam.categories, [2.5, 10.0, 35.0])
    assert fam.n_categories == 3
    assert fam.aux_names == ("/cut1", "/cut2")
    np.testing.assert_allclose(fam.proportions, [2 / 6, 3 / 6, 1 / 6])


@pytest.mark.parametrize("link", LINKS)
def test_start_cutpoints_are_inverse_cdf_of_cumulative_shares(link):
    fam = make_family("ordinal", link)
    y = np.repeat([1.0, 2.0, 3.0, 4.0], [10, 30, 40, 20])
    fam.validate(y, "y")
    cuts = fam.start_aux()
    pr = fam.probabilities(np.zeros(1), cuts)[0]
    np.testing.assert_allclose(pr, [0.1, 0.3, 0.4, 0.2], rtol=1e-10)


def test_one_category_is_refused_naming_the_variable():
    fam = make_family("ordinal", "probit")
    with pytest.raises(DataError, match="thk"):
        fam.validate(np.ones(5), "thk")


def test_string_or_missing_outcome_is_refused():
    fam = make_family("ordinal")
    with pytest.raises(DataError, match="grade"):
        fam.validate(np.array(["a", "b", "c"], dtype=object), "grade")
    with pytest.raises(DataError, match="grade"):
        fam.validate(np.array(["a", "b"]), "grade")
    with pytest.raises(DataError, match="grade"):
        fam.validate(np.array([1.0, np.nan, 2.0]), "grade")


def test_registry_returns_the_ordinal_family():
    for link in LINKS:
        fam = make_family("ordinal", link)
        assert isinstance(fam, Ordinal) and fam.link.name == link
    assert make_family("o").link.name == "logit"
    with pytest.raises(OptionError, match="ordinal with link log is not allowed"):
        make_family("ordinal", "log")
    with pytest.raises(OptionError):
        make_family("ordinal 3", "logit")


def test_glm_start_reaches_the_ologit_fit():
    """The fixed-effects fit (glm.fit_glm, Newton on beta and cutpoints) converges from
    the family's starting cutpoints; it equals a direct scipy maximization."""
    from scipy.optimize import minimize

    from memodels.glm.fit import fit_glm

    rng = np.random.default_rng(3)
    n = 400
    X = rng.normal(size=(n, 2))
    latent = X @ np.array([0.8, -0.5]) + rng.logistic(size=n)
    y = np.digitize(latent, [-1.0, 0.2, 1.5]).astype(float) * 2 + 1  # values 1, 3, 5, 7
    fam = make_family("ordinal", "logit")
    yi = fam.validate(y, "y")
    res = fit_glm(yi, X, fam)
    assert res.converged
    assert res.log[0][1] == pytest.approx(
        float(np.sum(np.log(fam.proportions[yi.astype(int)]))), rel=1e-12)

    def neg(t):
        return -fam.loglik(yi, X @ t[:2], t[2:]).sum()

    ref = minimize(neg, res.params + 0.05, method="BFGS", options={"gtol": 1e-9})
    np.testing.assert_allclose(res.params, ref.x, atol=1e-5)
    assert res.llf == pytest.approx(-ref.fun, abs=1e-8)
