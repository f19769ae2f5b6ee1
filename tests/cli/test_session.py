"""The Stata-style command session (memodels.session) and ``memodels run``/``fit``."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest

import memodels
from memodels.cli.main import main
from memodels.cli.parsing import numlist, parse_assignments, split_qualifiers, typed_values
from memodels.cli.script import parse_script
from memodels.datasets import load
from memodels.session import ScriptError, Session, SessionError

RANDINT = "mixed weight week || id:, nolog"
RANDSLOPE = "mixed weight week || id: week, nolog"

WORKFLOW = f"""\
* [ME] mixed, example 2: random intercept vs. random intercept and slope
{RANDINT}
estimates store randint
quietly {RANDSLOPE}    // the random-slope model
lrtest randint .
"""


@functools.cache
def _fits() -> tuple:
    pig = load("pig")
    return memodels.fit(RANDINT, pig), memodels.fit(RANDSLOPE, pig)


@pytest.fixture(scope="module")
def workflow() -> tuple[Session, str]:
    s = Session(load("pig"))
    return s, s.run_script(WORKFLOW)


def _session(which: int = 0) -> Session:
    """A fresh session on pig whose active results are a cached fit."""
    s = Session(load("pig"))
    s.e = _fits()[which]
    return s


# ----------------------------------------------------------------- workflow
def test_pig_workflow_lrtest_matches_library(workflow):
    s, log = workflow
    direct = memodels.lrtest(*_fits(), names=("randint", "."))
    assert s.r["chi2"] == pytest.approx(direct.chi2, rel=1e-10)
    assert s.r["df"] == 1
    assert str(direct) in log
    assert "LR chi2(1)  =    291.78" in log
    assert "(Assumption: randint nested in .)" in log


def test_workflow_log_echoes_commands_and_keeps_results(workflow):
    s, log = workflow
    assert log.startswith(f". {RANDINT}\n\n")
    for cmd in ("estimates store randint", f"quietly {RANDSLOPE}", "lrtest randint ."):
        assert f"\n. {cmd}\n" in log
    assert log.count("Mixed-effects ML regression") == 1  # the quietly fit prints nothing
    assert "-1014.9268" in log
    assert set(s.estimates) == {"randint"}
    assert s.e.llf == pytest.approx(_fits()[1].llf)
    assert s.estimates["randint"].llf == pytest.approx(_fits()[0].llf)


def test_estimation_output_is_the_summary():
    s = Session(load("pig"))
    out = s.run(RANDINT)
    assert out == "\n" + s.e.summary()
    assert s.e.llf == pytest.approx(-1014.9268, abs=1e-4)


def test_replay_and_display_options():
    s = _session()
    assert s.run("mixed") == s.e.summary()
    out = s.run("mixed, level(90) noheader")
    assert "[90% Conf. Interval]" in out and "Number of obs" not in out
    assert s.e.level == 95  # replay changes the display only
    with pytest.raises(SessionError, match="last estimates not found"):
        Session(load("pig")).run("mixed")
    with pytest.raises(memodels.errors.OptionError, match="small"):
        s.run("mixed, small")


# ----------------------------------------------------------------- estimates
def test_estimates_stats_restore_and_dir():
    s = _session(1)
    s.estimates["randint"] = _fits()[0]
    out = s.run("estimates stats randint .")
    assert "randint |        432" in out and "2037.854" in out and "1748.077" in out
    assert "(results randint are active now)" == s.run("estimates restore randint")
    assert s.e is _fits()[0]
    assert "randint" in s.run("estimates dir")
    with pytest.raises(SessionError, match="estimation result nosuch not found"):
        s.run("estimates restore nosuch")


def test_lrtest_force_and_errors():
    s = _session(1)
    s.estimates["randint"] = _fits()[0]
    out = s.run("lrtest randint, force")  # lrtest A = lrtest A .
    assert "LR chi2(1)" in out
    with pytest.raises(memodels.errors.MemodelsError, match="df"):
        s.run("lrtest . .")


# ----------------------------------------------------------------- postestimation
def test_estat_delegates_to_results():
    s = _session()
    res = s.e
    assert s.run("estat icc") == str(res.estat("icc"))
    assert s.run("estat icc, level(90)") == str(res.estat("icc", level=90))
    assert s.run("estat group") == str(res.estat("group"))
    assert s.run("estat ic") == str(res.estat("ic"))
    assert s.run("estat recov, relevel(id)") == str(res.estat("recovariance", relevel="id"))
    out = s.run("estat wcorrelation, at(id=3)")
    assert out == str(res.estat("wcorrelation", at={"id": 3}, data=s.data))
    with pytest.raises(memodels.errors.OptionError, match="estat icc: option bad"):
        s.run("estat icc, bad")


def test_estat_df_methods():
    s = Session(load("pig"))
    s.run("quietly mixed weight week || id: week, reml")
    out = s.run("estat df, method(kroger satterthwaite)")
    assert "Kenward-Roger" in out and "Satterthwaite" in out and "47.54" in out


def test_test_testparm_lincom_nlcom():
    s = _session()
    res = s.e
    assert s.run("test week = 0") == str(res.test("week = 0"))
    assert s.r["chi2"] == pytest.approx(res.test("week = 0").chi2)
    two = s.run("test (week = 6) (_cons = 19)")
    assert "( 2)  [weight]_cons = 19" in two and "chi2(  2)" in two
    assert s.run("test week = _cons = 0") == str(res.test("week = _cons = 0"))
    assert s.run("testparm week") == str(res.testparm("week"))
    assert s.run("lincom week + _cons, level(90)") == str(res.lincom("week + _cons", level=90))
    out = s.run("nlcom ratio: _b[week]/_b[_cons]")
    assert "ratio |" in out
    assert s.r["estimate"] == pytest.approx(res.params["week"] / res.params["_cons"])


# ----------------------------------------------------------------- predict
def test_predict_adds_columns_equal_to_res_predict():
    s = _session(1)
    res = s.e
    s.run("predict u*, reffects reses(se*)")
    s.run("predict yhat, fitted")
    assert s.run("predict xb") == "(option xb assumed)"
    re = res.predict("reffects")
    ses = res.predict("reses")
    for k, col in enumerate(re.columns):
        np.testing.assert_allclose(s.data[f"u{k + 1}"], re[col])
        np.testing.assert_allclose(s.data[f"se{k + 1}"], ses[ses.columns[k]])
    np.testing.assert_allclose(s.data["yhat"], res.predict("fitted"))
    np.testing.assert_allclose(s.data["xb"], res.predict("xb"))
    with pytest.raises(memodels.errors.MemodelsError, match="already defined"):
        s.run("predict yhat, fitted")
    with pytest.raises(memodels.errors.MemodelsError, match="2 new variables needed"):
        s.run("predict a, reffects")


def test_predict_if_in_sets_missing():
    s = _session()
    out = s.run("predict r if week <= 2, residuals")
    assert out == "(336 missing values generated)"
    expected = s.e.predict("residuals").where(s.data["week"] <= 2)
    np.testing.assert_allclose(s.data["r"], expected)


# ----------------------------------------------------------------- margins
def test_margins_at_numlist_matches_library():
    s = _session()
    out = s.run("margins, at(week=(1(2)9))")
    assert "Predictive margins" in out and "5._at        : week" in out
    table = s.last
    direct = s.e.margins(s.data, at={"week": [1, 3, 5, 7, 9]})
    np.testing.assert_allclose(table["margin"], direct["margin"])
    np.testing.assert_allclose(table["se"], direct["se"])
    dydx = s.run("margins, dydx(week)")
    assert "dy/dx w.r.t. : week" in dydx and "6.209896" in dydx


def test_margins_after_meologit_every_outcome_and_predict_options():
    from support import load_dataset

    s = Session(load_dataset("tvsfpors"))
    s.run("quietly meologit thk prethk cc##tv || school:")
    out = s.run("margins tv")
    assert "2._predict   : Pr(thk==2), predict(pr outcome(2))" in out
    assert " _predict#tv |" in out and "4#1" in out
    one = s.run("margins, predict(pr outcome(#3))")
    assert "_predict" not in one and "outcome #3" in one
    fixed = s.run("margins, predict(pr outcome(#3) fixedonly)")
    assert "Predicted probability, outcome #3, fixed portion" in fixed


# ----------------------------------------------------------------- data commands
def test_generate_replace_list_display():
    s = Session(load("pig"))
    assert s.run("generate w2 = weight / 2 if week > 1") == "(48 missing values generated)"
    assert s.run("replace w2 = 0 if missing(w2)") == "(48 real changes made)"
    assert (s.data["w2"] == 0).sum() == 48
    out = s.run("list id week weight in 1/6, sepby(id)")
    assert "  1. |" in out and "  6. |" in out and "  7. |" not in out
    assert s.run("display 2/3") == ".66666667"
    assert s.run('display "N = " _N') == "N = 432"
    s.e = _fits()[0]
    assert s.run("display %9.4f e(ll)") == "-1014.9268"
    assert s.run("drop if week > 8") == "(48 observations deleted)"
    assert len(s.data) == 384


# ----------------------------------------------------------------- errors
def test_unknown_command_is_a_clear_error_and_the_session_goes_on():
    s = _session()
    with pytest.raises(SessionError, match="command frobnicate is unrecognized") as info:
        s.run("frobnicate weight")
    assert info.value.rc == 199
    assert "chi2" in s.run("test week = 0")  # still usable
    assert s.run("capture frobnicate") == ""
    assert s.rc == 199
    assert s.run("display _rc") == "199"


def test_script_stops_at_first_error():
    s = _session()
    script = "test week = 0\n\n// next line fails\nbogus stuff\ntest _cons = 0\n"
    with pytest.raises(ScriptError) as info:
        s.run_script(script)
    err = info.value
    assert (err.lineno, err.command, err.rc) == (4, "bogus stuff", 199)
    assert err.log.endswith(". bogus stuff\ncommand bogus is unrecognized\nr(199);\n")
    assert "_cons = 0" not in err.log
    log = s.run_script("capture bogus stuff\ndisplay _rc\nexit\ndisplay 1\n")
    assert log == ". capture bogus stuff\n\n. display _rc\n\n199\n\n. exit\n"


# ----------------------------------------------------------------- parsing
def test_parse_script_comments_and_continuations():
    text = (
        "* a comment ///\n"
        "  continued comment\n"
        "mixed weight week ///   the rest is ignored\n"
        "    || id:, nolog   // trailing comment\n"
        "\n"
        'display "a // b"  // c\n'
        "display 1 /* inline */ + 2\n"
        "list /* a block\n"
        "   comment */ in 1\n"
        "   * indented comment\n"
    )
    lines = parse_script(text)
    assert [(x.lineno, x.text) for x in lines] == [
        (3, "mixed weight week || id:, nolog"),
        (6, 'display "a // b"'),
        (7, "display 1   + 2"),
        (8, "list in 1"),
    ]


def test_qualifiers_numlists_and_at_lists():
    p = split_qualifiers("u* if week > 2 & id < 5 in 1/20, reffects reses(s*)")
    assert (p.body, p.if_expr, p.in_range, p.options) == (
        "u*", "week > 2 & id < 5", "1/20", "reffects reses(s*)")
    assert numlist("20(5)35 1/3 0[.5]1") == [20, 25, 30, 35, 1, 2, 3, 0, 0.5, 1]
    raw = parse_assignments("wee=(1(2)5) id=3", ["id", "week", "weight"], "at")
    assert typed_values(raw, pd.DataFrame({"id": [1], "week": [1]})) == {
        "week": [1, 3, 5], "id": [3]}


# ----------------------------------------------------------------- command line
def test_cli_run_do_file(tmp_path, capsys):
    load("pig").to_csv(tmp_path / "pig.csv", index=False)
    do = tmp_path / "pig.do"
    do.write_text(WORKFLOW + "estat icc ///\n   , level(90)\n")
    assert main(["run", str(tmp_path / "pig.csv"), str(do)]) == 0
    out = capsys.readouterr().out
    assert ". lrtest randint .\n\nLikelihood-ratio test" in out
    assert "LR chi2(1)  =    291.78" in out
    assert ". estat icc , level(90)" in out and "[90% Conf. Interval]" in out


def test_cli_run_script_loading_its_data_and_failing(tmp_path, capsys):
    do = tmp_path / "bad.do"
    do.write_text("webuse pig\nquietly mixed weight week || id:\npredict week\n")
    assert main(["run", str(do)]) == 2
    captured = capsys.readouterr()
    assert "variable week already defined\nr(110);" in captured.out
    assert "bad.do, line 3" in captured.err and "week already defined" in captured.err


def test_cli_fit_several_commands(tmp_path, capsys):
    load("pig").to_csv(tmp_path / "pig.csv", index=False)
    assert main(["fit", str(tmp_path / "pig.csv"), RANDINT, "estat icc", "test week = 0"]) == 0
    out = capsys.readouterr().out
    assert "-1014.9268" in out and ". estat icc\n" in out and ".771714" in out
    assert "chi2(  1) = 25337.48" in out


def test_capture_noisily_shows_the_error_and_goes_on():
    s = Session(load("pig"))
    log = s.run_script("capture noisily frobnicate\ndisplay _rc\n")
    assert "command frobnicate is unrecognized\nr(199);\n\n. display _rc\n\n199" in log


def test_me_command_replay_and_predict():
    from support import load_dataset

    s = Session(load_dataset("bangladesh"))
    s.run("quietly melogit c_use urban age child* || district:")
    assert "Odds Ratio" in s.run("melogit, or")
    assert "Odds Ratio" not in s.run("melogit")
    s.run("predict p, pr")
    s.run("predict pm, pr marginal")
    s.run("predict re*, reffects")
    np.testing.assert_allclose(s.data["p"], s.e.predict("pr"))
    np.testing.assert_allclose(s.data["pm"], s.e.predict("pr", marginal=True))
    np.testing.assert_allclose(s.data["re1"], s.e.predict("reffects").iloc[:, 0])
    with pytest.raises(memodels.errors.OptionError, match="small"):
        s.run("melogit, small")
