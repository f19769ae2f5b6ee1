"""The front doors agree: Stata syntax, keyword options, whole command lines, formulas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import memodels
from memodels.datasets import load
from memodels.errors import DataError, MemodelsError, OptionError, StataSyntaxError


@pytest.fixture(scope="module")
def pig() -> pd.DataFrame:
    return load("pig")


@pytest.fixture(scope="module")
def slope_un(pig):
    return memodels.mixed("weight week || id: week, covariance(unstructured)", pig, nolog=True)


def test_keyword_options_equal_string_options(pig, slope_un):
    kw = memodels.mixed("weight week || id: week", pig, covariance="un", nolog=True)
    assert kw.llf == pytest.approx(slope_un.llf, abs=1e-9)
    pd.testing.assert_series_equal(kw.params, slope_un.params, rtol=1e-6)


def test_fit_dispatches_whole_command_line(pig, slope_un):
    res = memodels.fit("mixed weight week || id: week, cov(un) nolog", pig)
    assert res.llf == pytest.approx(slope_un.llf, abs=1e-9)


def test_lme4_formula_correlated_is_unstructured(pig, slope_un):
    res = memodels.mixed("weight ~ week + (1 + week | id)", pig, nolog=True)
    assert res.llf == pytest.approx(slope_un.llf, abs=1e-7)
    assert list(res.params.index) == list(slope_un.params.index)


def test_lme4_double_bar_is_independent(pig):
    a = memodels.mixed("weight ~ week + (1 + week || id)", pig, nolog=True)
    b = memodels.mixed("weight week || id: week", pig, nolog=True)
    assert a.llf == pytest.approx(b.llf, abs=1e-7) == pytest.approx(-869.03825, abs=1e-4)


def test_lme4_nested_and_crossed():
    prod = load("productivity")
    a = memodels.mixed("gsp ~ private + emp + hwy + water + other + unemp + (1|region/state)",
                       prod, nolog=True)
    b = memodels.mixed("gsp private emp hwy water other unemp || region: || state:", prod,
                       nolog=True)
    assert a.llf == pytest.approx(b.llf, abs=1e-7)
    assert "var(_cons[region>state])" in a.params.index
    pig = load("pig")
    c = memodels.mixed("weight ~ week + (1|id) + (1|week)", pig, nolog=True)
    d = memodels.mixed("weight week || _all: R.id || week:", pig, nolog=True)
    assert c.llf == pytest.approx(d.llf, abs=1e-6) == pytest.approx(-1013.824, abs=1e-3)


def test_results_object(slope_un):
    res = slope_un
    assert res.nobs == 432 and res.ngroups == {"id": 48}
    assert res.converged and res.iterations > 0
    assert isinstance(res.params, pd.Series) and isinstance(res.bse, pd.Series)
    assert list(res.vcov.index) == list(res.params.index)
    assert res.aic == pytest.approx(-2 * res.llf + 2 * 6)
    assert res.bic == pytest.approx(-2 * res.llf + np.log(432) * 6)
    tab = res.table()
    assert {"estimate", "se", "z", "p", "ci_lower", "ci_upper"} <= set(tab.columns)
    text = str(res)
    for piece in ("Mixed-effects ML regression", "Number of obs", "id: Unstructured",
                  "cov(week,_cons)", "var(Residual)", "LR test vs. linear model: chi2(3)"):
        assert piece in text


def test_stddeviations_metric(pig):
    res = memodels.mixed("weight week || id: week, cov(un) stddev", pig, nolog=True)
    assert "sd(week[id])" in res.params.index and "corr(week,_cons[id])" in res.params.index
    assert "sd(e)" in res.params.index
    var = memodels.mixed("weight week || id: week, cov(un)", pig, nolog=True)
    assert res.params["sd(_cons[id])"] ** 2 == pytest.approx(var.params["var(_cons[id])"], 1e-6)


def test_reml_header(pig):
    res = memodels.mixed("weight week || id:, reml", pig, nolog=True)
    assert res.title == "Mixed-effects REML regression"
    assert "Log restricted-likelihood" in str(res)


def test_iteration_log_printed_unless_nolog(pig, capsys):
    # quiet by default from Python (issue #17); log=True prints Stata's log
    memodels.mixed("weight week || id:", pig)
    assert capsys.readouterr().out == ""
    memodels.mixed("weight week || id:", pig, log=True)
    out = capsys.readouterr().out
    assert "Iteration 0:" in out and "log likelihood" in out
    memodels.mixed("weight week || id:", pig, nolog=True)
    assert "Iteration" not in capsys.readouterr().out


def test_missing_values_dropped_and_counted(pig):
    df = pig.copy()
    df.loc[[0, 5, 17], "weight"] = np.nan
    df.loc[40, "week"] = np.nan
    before = df.copy()
    res = memodels.mixed("weight week || id:", df, nolog=True)
    assert res.nobs == 428 and res.n_dropped == 4
    assert "4 observations with missing values excluded" in str(res)
    pd.testing.assert_frame_equal(df, before)  # the caller's data are untouched


def test_if_and_in(pig):
    res = memodels.mixed("weight week if week > 2 in 1/300 || id:", pig, nolog=True)
    sub = pig.iloc[:300]
    assert res.nobs == int((sub.week > 2).sum())


def test_collinear_term_omitted_with_note(pig):
    df = pig.assign(week2=pig.week * 2.0)
    res = memodels.mixed("weight week week2 || id:", df, nolog=True)
    assert "week2" not in res.params.index
    assert any("week2 omitted because of collinearity" in n for n in res.notes)
    assert "(omitted)" in str(res)
    base = memodels.mixed("weight week || id:", pig, nolog=True)
    assert res.llf == pytest.approx(base.llf, abs=1e-8)


def test_factor_variables_names(pig):
    df = pig.assign(period=(pig.week - 1) // 3 + 1)
    res = memodels.mixed("weight i.period || id:", df, nolog=True)
    assert {"2.period", "3.period", "_cons"} <= set(res.params.index)
    res = memodels.mixed("weight ib(last).period c.week#c.week || id:", df, nolog=True)
    assert {"1.period", "2.period", "c.week#c.week"} <= set(res.params.index)


def test_frequency_weights_equal_expanded_data(pig):
    df = pig.assign(n=(pig.index % 3 + 1))
    res = memodels.mixed("weight week [fw=n] || id:", df, nolog=True)
    big = df.loc[df.index.repeat(df.n)]
    exp = memodels.mixed("weight week || id:", big, nolog=True)
    assert res.llf == pytest.approx(exp.llf, abs=1e-6)
    assert res.nobs == len(big)


@pytest.mark.parametrize(
    "spec,error,word",
    [
        ("weight wek || id:", StataSyntaxError, "wek"),
        ("weight week || idd:", StataSyntaxError, "idd"),
        ("weight week || id:, covariance(banana)", OptionError, "banana"),
        ("weight week || id:, frobnicate", OptionError, "frobnicate"),
        ("weight week if week > 100 || id:", DataError, "observations"),
        ("label week || id:", DataError, "label"),
    ],
)
def test_bad_input_names_the_problem(pig, spec, error, word):
    df = pig.assign(label="x")
    with pytest.raises(error, match=word):
        memodels.mixed(spec, df, nolog=True)


def test_unknown_command(pig):
    with pytest.raises(MemodelsError, match="notacommand"):
        memodels.fit("notacommand weight week || id:", pig)


def test_single_level_indicator_is_kept():
    """``1.id`` in a varlist is the indicator of id == 1 ([U] 11.4.3), not a base level
    dropped without a note (audit item: "1.treatment in a varlist is dropped")."""
    from support import load_dataset

    pig = load_dataset("pig")
    res = memodels.fit("mixed weight 1.id week || id:", pig, nolog=True)
    assert "1.id" in res.params.index
    direct = memodels.fit("mixed weight d1 week || id:", pig.assign(d1=(pig.id == 1) * 1.0),
                          nolog=True)
    assert res.params["1.id"] == pytest.approx(direct.params["d1"], rel=1e-6)
