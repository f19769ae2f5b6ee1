"""mixed centres a badly located fixed-effects covariate internally and maps the results
back exactly (memodels.lmm.centering): ``week + 1e9`` gives the fit of ``week`` with the
constant moved to the new origin.  The expectation is computed independently: the fit of
the unshifted covariate and the linear map cons' = cons - 1e9 b,
Var(cons') = Var(cons) + 1e18 Var(b) - 2e9 Cov(cons, b)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import memodels
from memodels.errors import DataError
from support import load_dataset

SHIFT = 1e9


def _fit(cmd: str, df):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return memodels.fit(cmd, df, nolog=True)


def _pig():
    d = load_dataset("pig")
    d["wk9"] = d["week"] + SHIFT
    return d


def _mapped(res):
    """(b, cons, se_b, se_cons) of res mapped to the shifted origin."""
    v = res.vcov.loc[["week", "_cons"], ["week", "_cons"]].to_numpy()
    b, c = res.params["week"], res.params["_cons"]
    a = np.array([-SHIFT, 1.0])
    return b, c - SHIFT * b, np.sqrt(v[0, 0]), np.sqrt(a @ v @ a)


@pytest.mark.parametrize("opts", ["", ", reml", ", vce(robust)",
                                  ", residuals(ar 1, t(week))"])
def test_shifted_covariate_same_fit(opts):
    d = _pig()
    a = _fit(f"mixed weight week || id:{opts}", d)
    b = _fit(f"mixed weight wk9 || id:{opts}", d)
    np.testing.assert_allclose(b.llf, a.llf, rtol=0, atol=1e-6)
    slope, cons, se_b, se_c = _mapped(a)
    np.testing.assert_allclose(b.params["wk9"], slope, rtol=1e-6)
    np.testing.assert_allclose(b.params["_cons"], cons, rtol=1e-6)
    np.testing.assert_allclose(b.bse["wk9"], se_b, rtol=1e-5)
    np.testing.assert_allclose(b.bse["_cons"], se_c, rtol=1e-5)
    # the variance components do not depend on the origin
    ra = a.params.drop(["week", "_cons"]).to_numpy()
    rb = b.params.drop(["wk9", "_cons"]).to_numpy()
    np.testing.assert_allclose(rb, ra, rtol=1e-5, atol=1e-8)
    # postestimation on the original data: the fitted values are the same
    np.testing.assert_allclose(np.asarray(b.predict("xb")), np.asarray(a.predict("xb")),
                               rtol=1e-7)


def test_shifted_covariate_kenward_roger():
    """dfmethod(kroger): the adjusted SE and DF of the slope do not depend on the origin."""
    d = _pig()
    a = _fit("mixed weight week || id:, reml dfmethod(kroger)", d)
    b = _fit("mixed weight wk9 || id:, reml dfmethod(kroger)", d)
    np.testing.assert_allclose(b.bse["wk9"], a.bse["week"], rtol=1e-6)
    np.testing.assert_allclose(b.extra["ddf"].df[0], a.extra["ddf"].df[0], rtol=1e-6)
    np.testing.assert_allclose(b.extra["ddf"].model_f[0], a.extra["ddf"].model_f[0],
                               rtol=1e-6)


def test_scaled_covariate_reml_likelihood():
    """x * 1e6 + 1e12: the REML log likelihood moves by -log(1e6) (the term
    -1/2 log|X'V^-1X| of [ME] mixed, Methods and formulas, with X scaled), the ML one
    does not, and the slope scales by 1e-6."""
    d = _pig()
    d["wk6"] = d["week"] * 1e6 + 1e12
    for reml in (False, True):
        opt = ", reml" if reml else ""
        a = _fit(f"mixed weight week || id:{opt}", d)
        b = _fit(f"mixed weight wk6 || id:{opt}", d)
        np.testing.assert_allclose(b.llf, a.llf - (np.log(1e6) if reml else 0.0),
                                   rtol=0, atol=1e-6)
        np.testing.assert_allclose(b.params["wk6"] * 1e6, a.params["week"], rtol=1e-6)
        np.testing.assert_allclose(b.bse["wk6"] * 1e6, a.bse["week"], rtol=1e-5)


def test_shifted_random_slope_refused():
    """A random slope on a shifted covariate: centring it changes the model, refused."""
    with pytest.raises(DataError, match="random-effects covariate wk9 at level id.*centre"):
        _fit("mixed weight wk9 || id: wk9", _pig())


@pytest.mark.parametrize("opts", ["", ", vce(robust)"])
def test_shifted_covariate_postestimation(opts):
    """predict (reffects, fitted, stdp) and margins (overall, at(), dydx()) of the shifted
    fit equal those of the unshifted one: the delta-method variances are computed in the
    centred metric (x'Vx of a 1e9-sized x against the reported VCE loses every digit)."""
    d = _pig()
    a = _fit(f"mixed weight week || id:{opts}", d)
    b = _fit(f"mixed weight wk9 || id:{opts}", d)
    for stat in ("reffects", "fitted", "stdp"):
        np.testing.assert_allclose(np.asarray(b.predict(stat), float),
                                   np.asarray(a.predict(stat), float), rtol=1e-6, atol=1e-6)
    # stdp written out: sqrt(x' V x) with the unshifted fit's V
    x = np.column_stack([d["week"], np.ones(len(d))])
    V = a.vcov.loc[["week", "_cons"], ["week", "_cons"]].to_numpy()
    np.testing.assert_allclose(np.asarray(b.predict("stdp"), float),
                               np.sqrt(np.einsum("ij,jk,ik->i", x, V, x)), rtol=1e-6)
    for ka, kb in [({}, {}), ({"at": {"week": [1, 9]}}, {"at": {"wk9": [SHIFT + 1, SHIFT + 9]}}),
                   ({"dydx": "week"}, {"dydx": "wk9"})]:
        ma, mb = a.margins(d, **ka), b.margins(d, **kb)
        np.testing.assert_allclose(mb["margin"], ma["margin"], rtol=1e-7)
        np.testing.assert_allclose(mb["se"], ma["se"], rtol=1e-6)


def test_interaction_with_shifted_covariate():
    """i.grp##c.wk9 is a reparameterization of i.grp##c.week: same log likelihood and
    slopes (the interaction column is nearly a multiple of its indicator: the
    orthogonalization removes it)."""
    d = _pig()
    d["grp"] = d["id"] % 2
    a = _fit("mixed weight i.grp##c.week || id:", d)
    b = _fit("mixed weight i.grp##c.wk9 || id:", d)
    np.testing.assert_allclose(b.llf, a.llf, rtol=0, atol=1e-6)
    np.testing.assert_allclose(b.params["wk9"], a.params["week"], rtol=1e-6)
    np.testing.assert_allclose(b.params["1.grp#c.wk9"], a.params["1.grp#c.week"], rtol=1e-6)
    np.testing.assert_allclose(b.bse["1.grp#c.wk9"], a.bse["1.grp#c.week"], rtol=1e-5)
    # 1.grp moves by -1e9 times the slope difference, exactly as the algebra says
    np.testing.assert_allclose(b.params["1.grp"],
                               a.params["1.grp"] - SHIFT * a.params["1.grp#c.week"],
                               rtol=1e-6)


def test_square_of_shifted_covariate():
    """(x + 1e4)^2: the same quadratic model; (x + 1e9)^2 stores none of x^2's
    variation (rounding 1e2 at 1e18): refused, not fitted wrongly."""
    d = _pig()
    d["wk4"] = d["week"] + 1e4
    a = _fit("mixed weight week c.week#c.week || id:", d)
    b = _fit("mixed weight wk4 c.wk4#c.wk4 || id:", d)
    np.testing.assert_allclose(b.llf, a.llf, rtol=0, atol=1e-6)
    np.testing.assert_allclose(b.params["c.wk4#c.wk4"], a.params["c.week#c.week"], rtol=1e-6)
    with pytest.raises(DataError, match="c.wk9#c.wk9 cannot be estimated accurately"):
        _fit("mixed weight wk9 c.wk9#c.wk9 || id:", d)
