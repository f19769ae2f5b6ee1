"""contrast, pwcompare and the margins options of #18 ([R] contrast, [R] pwcompare,
[R] margins), checked against Wald tests and linear combinations computed here from the
fitted coefficients and their VCE."""

from __future__ import annotations

import functools
import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import memodels
from memodels.errors import OptionError
from memodels.session import Session


@functools.cache
def _data() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    n = 300
    df = pd.DataFrame({"g": rng.integers(0, 30, n), "a": rng.integers(1, 4, n),
                       "b": rng.integers(1, 3, n), "x": rng.normal(size=n)})
    df["y"] = (0.5 * df.a - 0.3 * (df.b == 2) + 0.4 * (df.a == 3) * (df.b == 2) + df.x
               + rng.normal(size=30)[df.g] + rng.normal(size=n))
    return df


@functools.cache
def _fit(cmd: str):
    return memodels.fit(cmd, _data())


def _session(cmd: str) -> Session:
    s = Session(_data())
    s.e = _fit(cmd)
    return s


def _lin(res, weights: dict[str, float]) -> tuple[float, float]:
    """l'b and its standard error for named coefficients."""
    names = list(weights)
    w = np.array([weights[k] for k in names])
    b = res.params[names].to_numpy()
    v = res.vcov.loc[names, names].to_numpy()
    return float(w @ b), float(np.sqrt(w @ v @ w))


MAIN = "mixed y i.a i.b x || g:"
FULL = "mixed y i.a##i.b x || g:"


def test_contrast_of_a_main_effect_is_the_wald_test_of_its_coefficients():
    s = _session(MAIN)
    res = s.e
    out = s.run("contrast a b, effects")
    names = ["2.a", "3.a"]
    b = res.params[names].to_numpy()
    v = res.vcov.loc[names, names].to_numpy()
    chi2 = float(b @ np.linalg.solve(v, b))
    t = s.last.terms[0]
    assert (t.df, t.chi2) == (2, pytest.approx(chi2, rel=1e-10))
    assert t.p == pytest.approx(stats.chi2.sf(chi2, 2), rel=1e-10)
    assert s.r["chi2"] == pytest.approx(chi2)
    row = s.last.terms[0].table.iloc[1]
    est, se = _lin(res, {"3.a": 1.0})
    assert (row["contrast"], row["se"]) == (pytest.approx(est), pytest.approx(se))
    assert row["label"] == "(3 vs base)"
    assert re.search(r"\(3 vs base\)  \|\s+" + re.escape(f"{est:.7g}".lstrip("0")), out)


def test_asbalanced_contrasts_with_an_interaction():
    s = _session(FULL)
    res = s.e
    s.run("contrast r.a#r.b a, effects")
    inter, main = s.last.terms
    # the interaction contrast of the cell means is the interaction coefficient
    for k, lv in enumerate((2, 3)):
        est, se = _lin(res, {f"{lv}.a#2.b": 1.0})
        assert inter.table["contrast"].iloc[k] == pytest.approx(est, rel=1e-9)
        assert inter.table["se"].iloc[k] == pytest.approx(se, rel=1e-9)
    assert inter.table["label"].iloc[0] == "(2 vs 1) (2 vs 1)"
    # a main-effect contrast averages the interaction over b's two levels equally
    est, se = _lin(res, {"3.a": 1.0, "3.a#2.b": 0.5})
    assert main.table["contrast"].iloc[1] == pytest.approx(est, rel=1e-9)
    assert main.table["se"].iloc[1] == pytest.approx(se, rel=1e-9)
    # a. and ar. operators
    s.run("contrast a.a")
    e23, _ = _lin(res, {"2.a": -1.0, "3.a": 1.0, "2.a#2.b": -0.5, "3.a#2.b": 0.5})
    assert s.last.terms[0].table["contrast"].iloc[1] == pytest.approx(-e23, rel=1e-9)
    s.run("contrast ar.a")
    assert s.last.terms[0].table["contrast"].iloc[1] == pytest.approx(e23, rel=1e-9)
    assert list(s.last.terms[0].table["label"]) == ["(2 vs 1)", "(3 vs 2)"]


def test_pwcompare_adjustments():
    s = _session(MAIN)
    res = s.e
    s.run("pwcompare a, effects")
    raw = s.last.terms[0].table
    est, se = _lin(res, {"3.a": 1.0, "2.a": -1.0})
    assert list(raw["label"]) == ["2 vs 1", "3 vs 1", "3 vs 2"]
    assert (raw["contrast"].iloc[2], raw["se"].iloc[2]) == (pytest.approx(est),
                                                           pytest.approx(se))
    z = raw["z"].to_numpy()
    p = 2 * stats.norm.sf(np.abs(z))
    s.run("pwcompare a, effects mcompare(bonferroni)")
    bon = s.last.terms[0].table
    np.testing.assert_allclose(bon["p"], np.minimum(1, 3 * p))
    crit = stats.norm.isf(0.05 / 6)
    np.testing.assert_allclose(bon["ci_upper"], raw["contrast"] + crit * raw["se"])
    s.run("pwcompare a, mcompare(sidak)")
    np.testing.assert_allclose(s.last.terms[0].table["p"], 1 - (1 - p) ** 3)
    s.run("pwcompare a, mcompare(scheffe)")
    np.testing.assert_allclose(s.last.terms[0].table["p"], stats.chi2.sf(z ** 2, 2))
    with pytest.raises(OptionError, match="mcompare"):
        s.run("pwcompare a, mcompare(tukey)")
    with pytest.raises(OptionError, match="not a factor variable"):
        s.run("contrast x")


def test_margins_interaction_cells_if_atmeans_and_statistics():
    s = _session(FULL)
    res = s.e
    df = _data()
    s.run("margins a#b")
    table = s.last
    xbar = df["x"].mean()
    for r in table.to_dict("records"):
        a, b = int(r["a"]), int(r["b"])
        w = {"_cons": 1.0, "x": xbar}
        if a > 1:
            w[f"{a}.a"] = 1.0
        if b > 1:
            w[f"{b}.b"] = 1.0
        if a > 1 and b > 1:
            w[f"{a}.a#{b}.b"] = 1.0
        est, se = _lin(res, w)
        assert r["margin"] == pytest.approx(est, rel=1e-9)
        assert r["se"] == pytest.approx(se, rel=1e-8)
    assert len(table) == 6
    # if: the average linear prediction over the selected observations
    s.run("margins if b == 2")
    xb = res.predict("xb")
    assert s.last["margin"].iloc[0] == pytest.approx(float(xb[df["b"] == 2].mean()))
    # atmeans: x at its mean (legend), and for xb the same margins as without it
    text = s.run("margins a, atmeans")
    assert re.search(r"at\s+: x\s+=\s+-\.04", text)
    assert s.last["x"].iloc[0] == pytest.approx(xbar)
    atm = s.last["margin"].to_numpy()
    s.run("margins a")
    np.testing.assert_allclose(atm, s.last["margin"].to_numpy(), rtol=1e-10)
    s.run("margins, at((median) x)")
    assert s.last["x"].iloc[0] == pytest.approx(df["x"].median())


def test_margins_pwcompare_and_refusals():
    s = _session(MAIN)
    res = s.e
    text = s.run("margins a, pwcompare(effects)")
    est, se = _lin(res, {"3.a": 1.0, "2.a": -1.0})
    line = next(ln for ln in text.splitlines() if ln.strip().startswith("3 vs 2"))
    assert f"{est:.7f}"[:7].lstrip("0") in line and f"{se:.7f}"[:7].lstrip("0") in line
    for opt, msg in [("vce(unconditional)", "unconditional"), ("eyex(a)", "factor")]:
        with pytest.raises(OptionError, match=msg):
            s.run(f"margins, {opt}")


@functools.cache
def _binary() -> pd.DataFrame:
    rng = np.random.default_rng(2)
    n = 400
    df = pd.DataFrame({"g": rng.integers(0, 40, n), "a": rng.integers(1, 4, n),
                       "x": rng.normal(size=n)})
    eta = 0.5 * df.a + df.x + rng.normal(size=40)[df.g]
    df["yb"] = (eta + rng.logistic(size=n) > 1).astype(int)
    df["yo"] = np.digitize(eta + rng.logistic(size=n), [0, 1.5])
    return df


@pytest.mark.parametrize("cmd", ["melogit yb i.a x || g:", "meologit yo i.a x || g:"])
def test_contrast_after_me_commands_is_testparm(cmd):
    s = Session(_binary())
    s.run("quietly " + cmd)
    s.run("contrast a")
    chi2 = s.last.terms[0].chi2
    s.run("testparm i.a")
    assert chi2 == pytest.approx(s.r["chi2"], rel=1e-9)


def test_margins_elasticities_of_the_linear_prediction():
    s = _session(MAIN)
    res = s.e
    df = _data()
    xb = res.predict("xb").to_numpy()
    bx = res.params["x"]
    x = df["x"].to_numpy()
    names = list(res.fe_params.index)
    v = res.vcov.loc[names, names].to_numpy()
    xmat = np.column_stack([(df.a == 2), (df.a == 3), (df.b == 2), x, np.ones(len(df))])
    xmat = xmat.astype(float)
    assert names == ["2.a", "3.a", "2.b", "x", "_cons"]
    ex = np.zeros(5)
    ex[3] = 1.0
    cases = {
        "dyex": (np.mean(x * bx), (x[:, None] * ex).mean(0)),
        "eydx": (np.mean(bx / xb), (ex / xb[:, None] - (bx / xb ** 2)[:, None] * xmat)
                 .mean(0)),
        "eyex": (np.mean(x * bx / xb), (x[:, None] * (ex / xb[:, None] - (bx / xb ** 2)
                                                       [:, None] * xmat)).mean(0)),
    }
    for kind, (est, grad) in cases.items():
        text = s.run(f"margins, {kind}(x)")
        assert s.last["margin"].iloc[0] == pytest.approx(est, rel=1e-6), kind
        assert s.last["se"].iloc[0] == pytest.approx(np.sqrt(grad @ v @ grad), rel=1e-5)
        assert f"{kind[:2]}/{kind[2:]} w.r.t. : x" in text


def test_base_level_and_value_label_order():
    df = _data().copy()
    df["c"] = pd.Categorical(df["a"].map({1: "low", 2: "mid", 3: "high"}),
                             categories=["low", "mid", "high"])
    s = Session(df)
    s.run("quietly mixed y ib2.a x || g:")
    s.run("contrast a, effects")
    table = s.last.terms[0].table
    assert list(table["label"]) == ["(1 vs base)", "(3 vs base)"]
    est, _ = _lin(s.e, {"1.a": 1.0})
    assert table["contrast"].iloc[0] == pytest.approx(est)
    s.run("quietly mixed y i.c x || g:")
    s.run("pwcompare c")
    assert list(s.last.terms[0].table["label"]) == ["mid vs low", "high vs low",
                                                    "high vs mid"]
    s.run("margins c")
    assert list(s.last["c"]) == ["low", "mid", "high"]
