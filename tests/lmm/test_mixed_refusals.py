"""``mixed``: option combinations Stata refuses, internal crashes turned into memodels
errors, and fits that must not stop at a stationary point that is not a maximum
(audit rows B4, B13, A28, C13-C15, C17-C19, D15, F5, I3)."""

from __future__ import annotations

import numpy as np
import pytest

from memodels.lmm.fit_residual import _escape_saddles
from support import fitted, shared_available

pytestmark = pytest.mark.skipif(not shared_available(), reason="shared/ reference data absent")

EX = "if inlist(day, 0, 4, 6, 8, 12)"


# ------------------------------------------------------------------ B4: saddle
def test_ar1_with_gapped_times_reaches_the_maximum():
    """B4: with only even lags observed (days 0 4 6 8 12) the AR(1) likelihood is even in
    rho, so rho = 0 is a stationary point (ll -453.92).  The maximum equals the manual's
    exponential fit (example 9: ll -307.83324, rho .9786462 per day), which AR(1) on
    integer times reproduces exactly."""
    res = fitted("exercise", f"mixed strength i.program##i.day {EX} || id:, noconstant "
                 "residuals(ar 1, t(day))")
    assert res.llf == pytest.approx(-307.83324, abs=5e-6)
    assert res.params["rho"] == pytest.approx(0.9786462, abs=2e-6)
    assert res.fit.converged and res.fit.hessian_ok
    expo = fitted("exercise", f"mixed strength i.program##i.day {EX} || id:, noconstant "
                  "residuals(exponential, t(day))")
    np.testing.assert_allclose(res.fit.beta, expo.fit.beta, rtol=1e-5)


def test_saddle_escape_finds_the_maximum():
    """f = -x0^2 + x1^2 - x1^4 has a saddle at 0 and maxima at x1 = +-1/sqrt(2)."""
    def f(x):
        return -x[0] ** 2 + x[1] ** 2 - x[1] ** 4

    phi = np.zeros(2)
    hess = np.diag([-2.0, 2.0])
    out, _, ok, _, saddle = _escape_saddles(f, phi, hess, np.ones(2, bool), 1e-7, True, 0)
    assert ok and not saddle
    assert abs(out[1]) == pytest.approx(1 / np.sqrt(2), abs=1e-5)


def test_stationary_point_not_a_maximum_is_not_converged():
    """A positive Hessian eigenvalue that no step can exploit: reported not converged."""
    def f(x):
        return -float(x @ x)

    _, _, ok, _, saddle = _escape_saddles(f, np.zeros(2), np.diag([-2.0, 2.0]),
                                          np.ones(2, bool), 1e-7, True, 0)
    assert saddle and not ok
