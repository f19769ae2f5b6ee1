"""generate/replace take _b[], _se[] (every Stata spelling) and e() scalars, as display
does ([U] 13.5 Accessing coefficients and standard errors; [ME] mixed, Stored results)."""

from __future__ import annotations

import numpy as np
import pytest

from memodels.session import Session, SessionError
from support import fitted, load_dataset

PIG_UN = "mixed weight week || id: week, covariance(unstructured)"


@pytest.fixture()
def s() -> Session:
    out = Session(load_dataset("pig"))
    out.e = fitted("pig", PIG_UN)
    return out


def test_generate_with_coefficients(s):
    p, V = s.e.params, s.e.vcov
    s.run("generate xb = _b[_cons] + _b[week]*week")
    np.testing.assert_allclose(s.data["xb"], p["_cons"] + p["week"] * s.data["week"],
                               rtol=1e-12)
    s.run("generate v = exp(2*_b[lns1_1_1:_cons])")  # estimation metric -> var(week[id])
    np.testing.assert_allclose(s.data["v"], p["var(week[id])"], rtol=1e-9)
    s.run("generate v2 = _b[/var(_cons[id])]")
    np.testing.assert_allclose(s.data["v2"], p["var(_cons[id])"], rtol=1e-12)
    s.run("generate se = _se[week]")
    np.testing.assert_allclose(s.data["se"], np.sqrt(V.loc["week", "week"]), rtol=1e-12)


def test_generate_replace_with_e_scalars(s):
    s.run("generate ll = e(ll)")
    np.testing.assert_allclose(s.data["ll"], s.e.llf, rtol=1e-12)
    out = s.run("replace ll = e(N) if id == 1")
    assert (s.data.loc[s.data["id"] == 1, "ll"] == s.e.nobs).all()
    assert out == f"({int((s.data['id'] == 1).sum())} real changes made)"
    s.run("replace ll = ll - _b[week] if week > _b[week]")
    assert (s.data.loc[s.data["week"] > s.e.params["week"], "ll"] != s.e.nobs).all()


def test_unknown_coefficient_is_an_error(s):
    with pytest.raises(SessionError, match="nosuch"):
        s.run("generate bad = _b[nosuch]")
    assert "bad" not in s.data.columns
