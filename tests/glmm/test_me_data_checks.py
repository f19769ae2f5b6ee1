"""Outcome checks and perfect predictors of the me commands (reliability.md finding 2;
me_commands.md rows "perfect predictor dropped by default (note)" and ``asis`` for
melogit, meprobit, mecloglog; [R] logit, Model identification)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from memodels.commands.me_binary import mecloglog, melogit, meprobit
from memodels.commands.me_count import menbreg, mepoisson
from memodels.commands.meglm import meglm
from memodels.commands.meqr import meqrlogit
from memodels.errors import DataError, OptionError

N, G = 160, 16


@pytest.fixture(scope="module")
def base() -> pd.DataFrame:
    rng = np.random.default_rng(20261207)
    x = rng.normal(size=N)
    g = np.repeat(np.arange(G), N // G)
    u = rng.normal(scale=0.5, size=G)[g]
    b = (rng.uniform(size=N) < 1 / (1 + np.exp(-(-0.3 + 0.6 * x + u)))).astype(int)
    return pd.DataFrame({"x": x, "g": g, "b": b})


# ------------------------------------------------------------ outcome does not vary
@pytest.mark.parametrize("coding", ["zero", "one", "one_two", "fraction"])
@pytest.mark.parametrize("command", [melogit, meprobit, mecloglog, meqrlogit])
def test_binary_outcome_that_does_not_vary(base, command, coding):
    y = {"zero": np.zeros(N), "one": np.ones(N), "one_two": 1 + (np.arange(N) % 2),
         "fraction": np.linspace(0.1, 0.9, N)}[coding]
    with pytest.raises(DataError, match=r"outcome y does not vary; remember: 0 = negative "
                       r"outcome.*\(r\(2000\)\)"):
        command("y x || g:", base.assign(y=y), nolog=True)


def test_bernoulli_outcome_is_nonzero_success(base):
    """1/2 coding with a 0 is a valid binary outcome: 2 and 1 are both successes, so the
    fit equals the fit of (y != 0)."""
    y = np.where(base.b == 1, 2, 0)
    y[::7] = np.where(y[::7] == 2, 1, 0)  # some successes coded 1, some 2
    a = melogit("y x || g:", base.assign(y=y), nolog=True)
    b = melogit("y x || g:", base.assign(y=(y != 0).astype(int)), nolog=True)
    assert a.llf == pytest.approx(b.llf, rel=1e-10)
    np.testing.assert_allclose(a.params.to_numpy(), b.params.to_numpy(), rtol=1e-8)


@pytest.mark.parametrize("command", [mepoisson, menbreg])
def test_count_outcome_all_zero(base, command):
    with pytest.raises(DataError, match="outcome y is zero for all observations"):
        command("y x || g:", base.assign(y=0), nolog=True)


def test_binomial_outcome_all_successes(base):
    with pytest.raises(DataError, match="does not vary: every trial is a success"):
        melogit("y x || g:, binomial(3)", base.assign(y=3), nolog=True)
    with pytest.raises(DataError, match="does not vary: 0 successes"):
        melogit("y x || g:, binomial(3)", base.assign(y=0), nolog=True)


def test_gaussian_outcome_constant(base):
    with pytest.raises(DataError, match="outcome y does not vary"):
        meglm("y x || g:", base.assign(y=2.5), nolog=True)


def test_single_observation(base):
    with pytest.raises(DataError, match=r"insufficient observations.*\(r\(2001\)\)"):
        melogit("b x || g:", base.iloc[:1], nolog=True)
    with pytest.raises(DataError, match=r"insufficient observations"):
        mepoisson("b x || g:", base.iloc[3:4].assign(b=2), nolog=True)


def test_mestreg_without_failures(base):
    from memodels import stset
    from memodels.commands.mestreg import mestreg

    st = stset(base.assign(t=1.0 + np.arange(N) / N, fail=0), "t", failure="fail")
    with pytest.raises(DataError, match="no failures in the estimation sample"):
        mestreg("x || g:", st, distribution="weibull", nolog=True)


# ---------------------------------------------------------------- perfect predictors
@pytest.fixture(scope="module")
def with_pp(base) -> pd.DataFrame:
    pp = np.zeros(N, dtype=int)
    pp[np.arange(3, N, 9)] = 1
    return base.assign(pp=pp, b=np.where(pp == 1, 1, base.b))


@pytest.mark.parametrize("command", [melogit, meprobit, mecloglog])
def test_perfect_predictor_dropped_with_note(with_pp, command):
    """The fit equals the fit without the predictor on the observations it does not
    predict, and the note says so as [R] logit does."""
    res = command("b x pp || g:", with_pp, nolog=True)
    n_pp = int(with_pp.pp.sum())
    assert res.nobs == N - n_pp
    assert (f"note: pp != 0 predicts success perfectly; pp dropped and {n_pp} obs not used"
            in res.notes)
    row = {r.name: r for r in res.rows}["pp"]
    assert row.status == "omitted"
    ref = command("b x || g:", with_pp[with_pp.pp == 0], nolog=True)
    assert res.llf == pytest.approx(ref.llf, rel=1e-8)
    for name in ("x", "_cons", "var(_cons[g])"):
        assert res.params[name] == pytest.approx(ref.params[name], rel=1e-6, abs=1e-8)
    assert "pp != 0" in res.summary()


def test_perfect_failure_predictor_by_value(with_pp):
    """A two-valued covariate whose lower value has only failures: "d != 1 predicts
    failure perfectly" (the wording of [R] logit, with the other value)."""
    d = np.where(np.arange(N) % 5 == 0, 0, 1)
    df = with_pp.assign(d=d, b=np.where(d == 0, 0, with_pp.b))
    res = melogit("b x d || g:", df, nolog=True)
    n0 = int((d == 0).sum())
    assert f"note: d != 1 predicts failure perfectly; d dropped and {n0} obs not used" in \
        res.notes
    assert res.nobs == N - n0


def test_asis_keeps_perfect_predictor(with_pp):
    with pytest.warns(Warning):
        res = melogit("b x pp || g:, asis", with_pp, nolog=True)
    assert res.nobs == N
    assert res.params["pp"] > 5  # diverging estimate, kept as asked
    assert not any("predicts" in nt for nt in res.notes)


@pytest.mark.parametrize("command", [mepoisson, menbreg])
def test_asis_not_allowed_with_count_models(base, command):
    with pytest.raises(OptionError, match="option asis not allowed"):
        command("b x || g:, asis", base, nolog=True)


def test_complete_separation_by_continuous_covariate(base):
    c = float(np.sort(base.x)[N // 2 - 1])
    with pytest.raises(DataError, match=rf"outcome = x > {c:.8g} predicts data perfectly"):
        melogit("y x || g:", base.assign(y=(base.x > c).astype(int)), nolog=True)
    with pytest.raises(DataError, match=r"outcome = x < .* predicts data perfectly"):
        meprobit("y x || g:", base.assign(y=(base.x <= c).astype(int)), nolog=True)


def test_quasi_complete_separation_keeps_tied_subsample(base):
    xr = np.round(base.x.to_numpy() * 2) / 2
    y = (xr > 0).astype(int)
    tied = xr == 0
    y[tied] = base.b.to_numpy()[tied]
    res = melogit("y xr || g:", base.assign(y=y, xr=xr), nolog=True)
    n_out = int((~tied).sum())
    assert res.nobs == int(tied.sum())
    assert (f"note: outcome = xr > 0 predicts data perfectly except for xr == 0 subsample: "
            f"xr dropped and {n_out} obs not used") in res.notes


def test_dummy_equal_to_outcome_leaves_no_variation(base):
    with pytest.raises(DataError, match=r"predicts success perfectly.*then outcome b does "
                       r"not vary.*r\(2000\)"):
        melogit("b x d || g:", base.assign(d=base.b), nolog=True)


def test_input_data_not_modified(with_pp):
    before = with_pp.copy()
    melogit("b x pp || g:", with_pp, nolog=True)
    pd.testing.assert_frame_equal(with_pp, before)


def test_perfectly_predicted_factor_level_shown_omitted(base):
    cat = 1 + np.arange(N) % 3
    df = base.assign(cat=cat, b=np.where(cat == 2, 1, base.b))
    res = melogit("b x i.cat || g:", df, nolog=True)
    n2 = int((cat == 2).sum())
    assert f"note: 2.cat != 0 predicts success perfectly; 2.cat dropped and {n2} obs not " \
        "used" in res.notes
    rows = {r.name: r for r in res.rows}
    assert rows["2.cat"].status == "omitted"
    assert [r.name for r in res.rows if r.section == "fixed"].index("2.cat") < \
        [r.name for r in res.rows if r.section == "fixed"].index("3.cat")
    ref = melogit("b x i.cat || g:", df[cat != 2], nolog=True)
    assert res.llf == pytest.approx(ref.llf, rel=1e-8)
    assert res.params["3.cat"] == pytest.approx(ref.params["3.cat"], rel=1e-6)


def test_perfect_prediction_count_with_frequency_weights(with_pp):
    w = 1 + np.arange(N) % 2
    res = melogit("b x pp [fw=w] || g:", with_pp.assign(w=w), nolog=True)
    n_pp = int(w[with_pp.pp.to_numpy() == 1].sum())
    assert f"pp dropped and {n_pp} obs not used" in res.notes[0]
    assert res.nobs == int(w.sum()) - n_pp


def test_ordinal_noconstant_refused(base):
    from memodels.commands.me_ordinal import meologit

    df = base.assign(o=1 + np.arange(N) % 3)
    with pytest.raises(OptionError, match="option noconstant not allowed with meologit"):
        meologit("o x, noconstant || g:", df, nolog=True)


def test_meqr_vce_refused(base):
    with pytest.raises(OptionError, match=r"option vce\(\) not allowed with meqrlogit"):
        meqrlogit("b x || g:, vce(robust)", base, nolog=True)


@pytest.mark.parametrize("opt", ["offset", "exposure"])
def test_string_offset_or_exposure_refused(base, opt):
    df = base.assign(s=np.where(np.arange(N) % 2, "1", "2"))
    with pytest.raises(DataError, match=rf"{opt}\(\) variable s must be numeric"):
        mepoisson(f"b x || g:, {opt}(s)", df, nolog=True)


def test_python_arguments_checked(base):
    from memodels.commands.dispatch import fit
    from memodels.errors import StataSyntaxError

    with pytest.raises(DataError, match="melogit: data must be a pandas DataFrame"):
        melogit("b x || g:", base.to_dict(), nolog=True)
    with pytest.raises(StataSyntaxError, match="specification must be a string"):
        melogit(None, base, nolog=True)
    with pytest.raises(StataSyntaxError, match="command line must be a string"):
        fit(b"melogit b x || g:", base)
    dup = pd.concat([base, base[["x"]]], axis=1)
    with pytest.raises(DataError, match="duplicated column names: x"):
        melogit("b x || g:", dup, nolog=True)
