"""meologit/meoprobit with constraints(), covariance(fixed()) and covariance(pattern())
(me_commands.md CRASH rows: "cannot reshape array" before), cutpoints constrainable."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from memodels.commands.me_ordinal import meologit, meoprobit


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n, g = 300, 30
    grp = np.repeat(np.arange(g), n // g)
    x = rng.normal(size=n)
    u0, u1 = rng.normal(size=g)[grp], 0.5 * rng.normal(size=g)[grp]
    o = np.digitize((0.5 + u1) * x + u0 + rng.logistic(size=n), [-1.0, 0.0, 1.0]) + 1
    return pd.DataFrame({"x": x, "g": grp, "o": o, "ox": 0.5 * x})


@pytest.mark.parametrize("command", [meologit, meoprobit])
def test_coefficient_constraint_equals_offset(df, command):
    """_b[x] = 0.5 is the model with offset(0.5 x) and no x."""
    con = command("o x || g:, constraints(1)", df, nolog=True, constraints={1: "_b[x] = 0.5"})
    off = command("o || g:, offset(ox)", df, nolog=True)
    assert con.params["x"] == 0.5
    assert con.bse["x"] == 0
    assert con.llf == pytest.approx(off.llf, rel=1e-7)
    for name in ("/cut1", "/cut2", "/cut3", "var(_cons[g])"):
        assert con.params[name] == pytest.approx(off.params[name], rel=1e-4)
    assert any("[o]x = .5" in c for c in con.constraints)


def test_cutpoint_constraint_at_the_estimate_reproduces_the_fit(df):
    free = meologit("o x || g:", df, nolog=True)
    c1 = float(free.params["/cut1"])
    con = meologit("o x || g:, constraints(1)", df, nolog=True,
                   constraints={1: f"_b[/cut1] = {c1!r}"})
    assert con.params["/cut1"] == pytest.approx(c1, abs=1e-12)
    assert con.bse["/cut1"] == 0
    assert con.llf == pytest.approx(free.llf, rel=1e-9)
    for name in ("x", "/cut2", "/cut3", "var(_cons[g])"):
        assert con.params[name] == pytest.approx(free.params[name], rel=1e-4)
    moved = meologit("o x || g:, constraints(1)", df, nolog=True,
                     constraints={1: f"_b[/cut1] = {c1 - 0.5!r}"})
    assert moved.llf < free.llf - 1e-3


def test_covariance_fixed_equals_variance_constraints(df):
    fixed = meologit("o x || g: x, cov(fixed(f))", df, nolog=True,
                     matrices={"f": np.diag([0.3, 1.2])})
    cons = meologit("o x || g: x, constraints(1 2)", df, nolog=True,
                    constraints={1: "_b[var(x[g]):_cons] = 0.3",
                                 2: "_b[var(_cons[g]):_cons] = 1.2"})
    assert fixed.params["var(x[g])"] == pytest.approx(0.3, rel=1e-12)
    assert fixed.params["var(_cons[g])"] == pytest.approx(1.2, rel=1e-12)
    assert fixed.llf == pytest.approx(cons.llf, rel=1e-9)
    np.testing.assert_allclose(fixed.params[["x", "/cut1", "/cut2", "/cut3"]],
                               cons.params[["x", "/cut1", "/cut2", "/cut3"]], rtol=1e-5)


def test_covariance_pattern_equals_exchangeable(df):
    pat = meoprobit("o x || g: x, cov(pattern(p))", df, nolog=True,
                    matrices={"p": np.array([[1.0, np.nan], [np.nan, 1.0]])})
    exch = meoprobit("o x || g: x, cov(exchangeable)", df, nolog=True)
    assert pat.llf == pytest.approx(exch.llf, rel=1e-8)
    np.testing.assert_allclose(pat.params.to_numpy(), exch.params.to_numpy(), rtol=1e-4,
                               atol=1e-6)
