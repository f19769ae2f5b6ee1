"""``margins, post`` ([R] margins, Options: post): the margins become e(b)/e(V), so
``test`` and ``lincom`` apply to them.  After ``mixed`` the margins of the linear
prediction over a factor differ by the factor's coefficients exactly, so the tests on
the posted margins are checked against the same tests on the model's coefficients, and
against the Wald statistic computed here from the posted e(b) and e(V)."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest

from memodels.errors import MemodelsError, OptionError
from memodels.session import Session


@functools.cache
def _data() -> pd.DataFrame:
    rng = np.random.default_rng(8)
    n = 240
    df = pd.DataFrame({"g": rng.integers(0, 24, n), "a": rng.integers(1, 4, n),
                       "b": rng.integers(0, 2, n), "x": rng.normal(size=n)})
    df["y"] = (0.4 * df.a - 0.3 * df.b + df.x + rng.normal(size=24)[df.g]
               + rng.normal(size=n))
    return df


MODEL = "mixed y i.a i.b x || g:"


def _session() -> Session:
    s = Session(_data())
    s.run(MODEL)
    return s


def test_posted_factor_margins_test_and_lincom_match_the_model_coefficients():
    s = _session()
    model = s.e
    s.run("test 2.a")
    chi2_model = s.r["chi2"]
    s.run("lincom 3.a - 2.a")
    est_model, se_model = s.r["estimate"], s.r["se"]
    table = s.run("margins a, post")
    posted = s.e
    assert posted is not model and list(posted.params.index) == ["1.a", "2.a", "3.a"]
    b, V = posted.params.to_numpy(), posted.vcov.to_numpy()
    np.testing.assert_allclose(b, s.last["margin"].to_numpy(), rtol=1e-12)
    s.run("test 2.a = 1.a")
    c = np.array([-1.0, 1.0, 0.0])
    assert s.r["chi2"] == pytest.approx((c @ b) ** 2 / (c @ V @ c), rel=1e-10)
    assert s.r["chi2"] == pytest.approx(chi2_model, rel=1e-6)
    s.run("lincom _b[3.a] - _b[2.a]")
    assert s.r["estimate"] == pytest.approx(est_model, rel=1e-8)
    assert s.r["se"] == pytest.approx(se_model, rel=1e-6)
    assert s.run("margins") == table  # replay


def test_posted_interaction_cells_and_at_settings_are_named_as_stata():
    s = _session()
    s.run("margins a#b, post")
    assert list(s.e.params.index) == ["1.a#0.b", "1.a#1.b", "2.a#0.b", "2.a#1.b",
                                      "3.a#0.b", "3.a#1.b"]
    s.run("test 1.a#0.b = 1.a#1.b")
    b, V = s.e.params.to_numpy(), s.e.vcov.to_numpy()
    c = np.zeros(6)
    c[[0, 1]] = [1.0, -1.0]
    assert s.r["chi2"] == pytest.approx((c @ b) ** 2 / (c @ V @ c), rel=1e-10)
    s = _session()
    s.run("margins, at(x=(0 1)) post")
    assert list(s.e.params.index) == ["1._at", "2._at"]
    s.run("lincom 2._at - 1._at")  # the slope of x: the linear prediction
    x_row = next(r for r in _session().e.rows if r.name == "x")
    assert s.r["estimate"] == pytest.approx(x_row.estimate, rel=1e-8)
    s = _session()
    s.run("margins, dydx(x) post")
    assert list(s.e.params.index) == ["x"]
    assert s.e.params["x"] == pytest.approx(x_row.estimate, rel=1e-8)


def test_posted_margins_refuse_what_needs_a_model():
    s = _session()
    s.run("margins a, post")
    with pytest.raises(MemodelsError, match="margins, post"):
        s.run("predict p")
    with pytest.raises(OptionError, match="posted margins"):
        s.run("margins b")
    s = _session()
    with pytest.raises(OptionError, match="joint VCE"):
        s.run("margins, at(x=0) at(x=1) post")
    with pytest.raises(OptionError, match="unconditional"):
        s.run("margins, vce(unconditional)")


def test_posted_margins_e_scalars_and_coefficients_in_display():
    s = _session()
    s.run("margins a, post")
    assert float(s.run("display e(N)")) == len(_data())
    b2 = s.e.params["2.a"]
    assert float(s.run("display _b[2.a]")) == pytest.approx(b2, rel=1e-6)
