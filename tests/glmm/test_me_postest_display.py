"""meqrlogit ``or`` / meqrpoisson ``irr`` displayed as the manual shows them, and the
me_commands.md LAX/DIFF rows on predict and margins ([ME] meglm postestimation)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from memodels.commands.me_binary import melogit
from memodels.commands.me_count import mepoisson
from memodels.commands.me_ordinal import meologit
from memodels.commands.meglm import meglm
from memodels.commands.meqr import meqrlogit, meqrpoisson
from memodels.errors import OptionError


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    n, g = 240, 24
    grp = np.repeat(np.arange(g), n // g)
    x = rng.normal(size=n)
    u = rng.normal(scale=0.7, size=g)[grp]
    b = (rng.uniform(size=n) < 1 / (1 + np.exp(-(0.5 * x + u)))).astype(int)
    c = rng.poisson(np.exp(0.3 * x + 0.5 * u))
    o = np.digitize(0.6 * x + u + rng.logistic(size=n), [-1.0, 0.5]) + 1
    y = x + u + rng.normal(size=n)
    return pd.DataFrame({"x": x, "g": grp, "b": b, "c": c, "o": o, "y": y})


def _row(text: str, name: str) -> list[float]:
    line = next(ln for ln in text.splitlines() if ln.strip().startswith(f"{name} |"))
    return [float(v) for v in line.split("|")[1].split()]


@pytest.mark.parametrize("command,spec,opt,label", [
    (meqrlogit, "b x || g:", "or", "Odds Ratio"),
    (meqrpoisson, "c x || g:", "irr", "IRR"),
])
def test_meqr_eform_display(df, command, spec, opt, label):
    res = command(f"{spec}, {opt}", df, nolog=True)
    text = res.summary()
    assert f"|{label:>11}   Std. Err." in text
    assert "Coef." not in text
    b, se = float(res.params["x"]), float(res.bse["x"])
    z = stats.norm.ppf(0.975)
    est, se_e, zz, _, lo, hi = _row(text, "x")
    assert est == pytest.approx(np.exp(b), rel=1e-6)
    assert se_e == pytest.approx(np.exp(b) * se, rel=1e-6)  # delta method, as Stata
    assert zz == pytest.approx(b / se, abs=0.006)  # z of b, not of exp(b)
    assert lo == pytest.approx(np.exp(b - z * se), rel=1e-6)
    assert hi == pytest.approx(np.exp(b + z * se), rel=1e-6)
    assert "LR test vs. " + ("logistic" if opt == "or" else "Poisson") + " model:" in text


@pytest.mark.parametrize("command,spec,opt", [
    (meqrlogit, "b x || g:", "irr"), (meqrpoisson, "c x || g:", "or"),
    (meqrlogit, "b x || g:", "exposure(x)"), (meqrpoisson, "c x || g:", "binomial(2)"),
])
def test_meqr_options_of_the_other_command_refused(df, command, spec, opt):
    with pytest.raises(OptionError, match=rf"option {opt.split('(')[0]}(\(\))? not allowed"):
        command(f"{spec}, {opt}", df, nolog=True)


@pytest.fixture(scope="module")
def logit_fit(df):
    return melogit("b x || g:", df, nolog=True)


@pytest.mark.parametrize("stat", ["pearson", "deviance", "anscombe"])
def test_residuals_with_marginal_refused(df, logit_fit, stat):
    with pytest.raises(OptionError, match=f"predict, {stat} may not be combined with marginal"):
        logit_fit.predict(stat, data=df, marginal=True)


def test_margins_pr_refused_for_count_and_gaussian(df):
    pois = mepoisson("c x || g:", df, nolog=True)
    with pytest.raises(OptionError, match=r"predict\(pr\) not allowed after mepoisson"):
        pois.margins(df, predict="pr")
    gaus = meglm("y x || g:", df, nolog=True)
    with pytest.raises(OptionError, match=r"predict\(pr\) not allowed after meglm"):
        gaus.margins(df, predict="pr")


def test_margins_pr_binary_is_mu(df, logit_fit):
    a = logit_fit.margins(df, predict="pr")
    b = logit_fit.margins(df)
    assert float(a["margin"].iloc[0]) == pytest.approx(float(b["margin"].iloc[0]), rel=1e-12)


def test_ordinal_margins_pr_is_first_outcome(df):
    res = meologit("o x || g:", df, nolog=True)
    every = res.margins(df)  # the default: every outcome
    assert len(every) == 3
    first = res.margins(df, predict="pr")  # "pr defaults to the first outcome"
    assert len(first) == 1
    assert float(first["margin"].iloc[0]) == pytest.approx(float(every["margin"].iloc[0]),
                                                          rel=1e-12)
    second = res.margins(df, predict="pr outcome(#2)")
    assert float(second["margin"].iloc[0]) == pytest.approx(
        float(every["margin"].iloc[1]), rel=1e-12)


def test_meglm_or_irr_only_for_their_families(df):
    with pytest.raises(OptionError, match="allowed for logistic models only"):
        meglm("y x || g:, or", df, nolog=True)
    with pytest.raises(OptionError, match="allowed for logistic models only"):
        meglm("b x || g:, family(bernoulli) link(probit) or", df, nolog=True)
    with pytest.raises(OptionError, match="allowed for count models only"):
        meglm("b x || g:, family(bernoulli) irr", df, nolog=True)
    res = meglm("b x || g:, family(bernoulli) or", df, nolog=True)
    assert "Odds Ratio" in res.summary()


def test_meqr_replay_or_and_notable(df):
    import memodels

    s = memodels.Session(df)
    s.run("meqrlogit b x || g:, nolog")
    b = float(s.e.params["x"])
    text = s.run("meqrlogit, or")
    assert "Odds Ratio" in text
    assert _row(text, "x")[0] == pytest.approx(np.exp(b), rel=1e-6)
    with pytest.raises(OptionError, match="option notable not allowed with meqrlogit"):
        s.run("meqrlogit, notable")


def test_ordinal_one_variable_predict_is_first_outcome(df):
    import memodels

    s = memodels.Session(df)
    s.run("meologit o x || g:, nolog")
    s.run("predict p1")
    s.run("predict q*")
    s.run("predict p2, pr outcome(#2)")
    d = s.data
    np.testing.assert_allclose(d["p1"], d["q1"], rtol=1e-12)
    np.testing.assert_allclose(d["p2"], d["q2"], rtol=1e-12)
    np.testing.assert_allclose(d[["q1", "q2", "q3"]].sum(axis=1), 1.0, rtol=1e-10)
