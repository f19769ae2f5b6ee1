"""The do-file language of a session: macros, loops, if/else, by/bysort, #delimit,
constraint define, matrix define/input, xtset/tsset with time-series operators
([P] macro, [P] foreach, [P] forvalues, [P] if, [D] by, [R] constraint, [P] matrix define,
[U] 11.4.4 Time-series varlists)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import memodels
from memodels.cli.script import parse_script
from memodels.session import ScriptError, Session, SessionError
from support import load_dataset


def _outputs(log: str) -> list[str]:
    """The lines of a log that are output (not echoed commands or block lines)."""
    out = []
    for line in log.splitlines():
        s = line.strip()
        if not s or s.startswith(". ") or (s[:1].isdigit() and ". " in s[:5]):
            continue
        out.append(s)
    return out


def _panel() -> pd.DataFrame:
    rng = np.random.default_rng(4)
    rows = []
    for g in range(1, 6):
        times = [t for t in range(1, 8) if not (g == 2 and t == 4)]  # a gap in panel 2
        for t in times:
            rows.append((g, t, rng.normal()))
    return pd.DataFrame(rows, columns=["id", "t", "x"]).sample(frac=1.0, random_state=1)


# ----------------------------------------------------------------------- macros
def test_local_global_expansion_nested_and_expressions():
    s = Session(pd.DataFrame({"y": [1.0, 2.0]}))
    log = s.run_script("""
local a 5
local b = `a' * 2 + 1/4
global g "hello world"
local i 2
local x2 second
display `b'
display "$g|${g}|`x`i''|`undefined'|"
local n : word count a "b c" d
local w : word 2 of a "b c" d
display "`n' `w'"
local k 1
local ++k
display "`k' `k++' `k'"
display "`=2^10'"
""")
    assert _outputs(log) == ["10.25", "hello world|hello world|second||", "3 b c",
                             "2 2 3", "1024"]
    assert s.locals["b"] == "10.25" and s.globals["g"] == "hello world"
    assert s.run("display `a' + 1") == "6"  # macros persist across run()


def test_macro_numbers_are_stored_as_stata_does():
    s = Session()
    s.run("local q = 1/4")
    s.run("local m = -1/8")
    s.run("local big = 2^40")
    assert (s.locals["q"], s.locals["m"], s.locals["big"]) == (".25", "-.125",
                                                              "1099511627776")


# ----------------------------------------------------------------------- loops
def test_foreach_every_list_type_and_forvalues_ranges():
    df = pd.DataFrame({"alpha": [1.0], "beta": [2.0], "gamma": [3.0]})
    s = Session(df)
    log = s.run_script("""
local mylist a b c
foreach v in x "y z" {
    display "in:`v'"
}
foreach v of local mylist {
    display "local:`v'"
}
global gl p q
foreach v of global gl {
    display "global:`v'"
}
foreach v of varlist alpha-gamma {
    display "var:`v'=" `v'
}
foreach v of numlist 1/3 10(5)20 {
    display "num:`v'"
}
forvalues i = 10(-4)1 {
    display "down:`i'"
}
forvalues i = 1 3 to 7 {
    display "to:`i'"
}
forvalues i = 0.5/2 {
    display "frac:`i'"
}
""")
    out = _outputs(log)
    assert out == ["in:x", "in:y z", "local:a", "local:b", "local:c", "global:p",
                   "global:q", "var:alpha=1", "var:beta=2", "var:gamma=3", "num:1", "num:2",
                   "num:3", "num:10", "num:15", "num:20", "down:10", "down:6", "down:2",
                   "to:1", "to:3", "to:5", "to:7", "frac:.5", "frac:1.5"]


def test_nested_loops_if_else_while_continue_break():
    s = Session()
    log = s.run_script("""
local total 0
forvalues i = 1/4 {
    forvalues j = 1/`i' {
        if mod(`j', 2) == 0 {
            continue
        }
        else if `j' == 3 {
            local total = `total' + 100
        }
        else {
            local total = `total' + `j'
        }
    }
}
display "total `total'"
local k 0
while `k' < 100 {
    local ++k
    if `k' == 5 continue, break
    if `k' == 2 display "two"
    else display "not two `k'"
}
display "k `k'"
""")
    # j odd: i=1 ->1; i=2 ->1; i=3 ->1+100; i=4 ->1+100
    assert _outputs(log) == ["total 204", "not two 1", "two", "not two 3", "not two 4", "k 5"]


def test_blocks_are_echoed_once_with_numbered_lines():
    s = Session()
    log = s.run_script("forvalues i = 1/2 {\n  display `i'\n}\n")
    assert log.startswith(". forvalues i = 1/2 {\n  2. display `i'\n  3. }\n")
    assert log.rstrip().endswith("1\n2")


def test_quietly_and_capture_blocks():
    s = Session()
    log = s.run_script("""
quietly {
    display "hidden"
}
capture {
    display "also hidden"
    nosuchcommand
    display "never reached"
}
display "rc=" _rc
capture noisily {
    display "shown"
}
display "rc=" _rc
""")
    out = _outputs(log)
    assert out == ["rc=199", "shown", "rc=0"]


def test_block_errors_name_the_inner_line_and_unclosed_braces_are_refused():
    s = Session()
    with pytest.raises(ScriptError) as info:
        s.run_script("display 1\nforeach v in a b {\n    display \"`v'\"\n    bogus `v'\n}\n")
    assert info.value.lineno == 4 and info.value.rc == 199
    with pytest.raises(ScriptError, match="open brace"):
        s.run_script("forvalues i = 1/3 {\n display `i'\n")
    with pytest.raises(ScriptError, match="unexpected close brace"):
        s.run_script("display 1\n}\n")
    with pytest.raises(ScriptError, match="invalid range"):
        s.run_script("forvalues i = a/b {\n}\n")
    with pytest.raises(ScriptError, match="else without if"):
        s.run_script("else {\n}\n")


def test_run_accepts_one_block_and_one_line_if():
    s = Session()
    assert s.run("if 1 > 0 display \"yes\"") == "yes"
    assert s.run("if 1 < 0 display \"yes\"") == ""
    assert s.run("forvalues i = 1/3 {\n display `i'\n}") == "1\n2\n3"


# ----------------------------------------------------------------------- #delimit
def test_delimit_semicolon_joins_lines_until_the_semicolon():
    lines = parse_script('display 1\n#delimit ;\ndisplay\n  "a;b" ; * a comment ;\n'
                         'display 2; display 3;\n#delimit cr\ndisplay 4\n')
    assert [(c.lineno, c.text) for c in lines] == [
        (1, "display 1"), (3, 'display "a;b"'), (5, "display 2"), (5, "display 3"),
        (7, "display 4")]
    s = Session()
    assert _outputs(s.run_script("#d ;\ndisplay 1 +\n 2 ;\n")) == ["3"]


# ----------------------------------------------------------------------- by
def test_bysort_generate_matches_groupwise_numpy():
    df = _panel()
    s = Session(df)
    s.run_script("bysort id (t): generate first = _n == 1\n"
                 "by id: generate n = _N\n"
                 "by id: generate cum = sum(x)\n"
                 "by id: replace x = x - 1\n")
    out = s.data
    expect = df.sort_values(["id", "t"]).reset_index(drop=True)
    assert (out["id"].to_numpy() == expect["id"].to_numpy()).all()
    np.testing.assert_array_equal(out["first"], expect.groupby("id").cumcount().eq(0))
    np.testing.assert_array_equal(out["n"], expect.groupby("id")["x"].transform("size"))
    np.testing.assert_allclose(out["cum"], expect.groupby("id")["x"].cumsum())
    np.testing.assert_allclose(out["x"], expect["x"] - 1)
    assert len(df) == 34 and "first" not in df.columns  # the input is not modified


def test_by_requires_sorted_data_and_byable_commands():
    s = Session(_panel())
    with pytest.raises(SessionError, match="not sorted") as info:
        s.run("by id: generate n = _n")
    assert info.value.rc == 5
    with pytest.raises(SessionError, match="may not be combined with by") as info:
        s.run("bysort id: predict p")
    assert info.value.rc == 190
    s.run("sort id t")
    s.run("by id: generate n = _n")
    assert s.data["n"].max() == 7


def test_by_estimation_fits_each_group():
    pig = load_dataset("pig")
    pig["half"] = (pig["id"] > 24).astype(int)
    s = Session(pig)
    log = s.run("bysort half: mixed weight week || id:, nolog")
    assert log.count("-> half = ") == 2 and "-> half = 1" in log
    last = memodels.fit("mixed weight week || id:", pig[pig["half"] == 1])
    np.testing.assert_allclose(s.e.params.to_numpy(), last.params.to_numpy(), rtol=1e-6)
    assert s.e.nobs == 9 * 24


# ----------------------------------------------------------------------- time series
def test_xtset_lags_leads_differences_respect_panels_and_gaps():
    df = _panel()
    s = Session(df)
    s.run("xtset id t")
    s.run("generate lx = L.x")
    s.run("generate l2x = L2.x")
    s.run("generate fx = F.x")
    s.run("generate dx = D.x")
    s.run("generate d2x = D2.x")
    out = s.data
    key = {(g, t): v for g, t, v in zip(df["id"], df["t"], df["x"], strict=True)}

    def at(g, t):
        return key.get((g, t), np.nan)

    for name, f in [("lx", lambda g, t: at(g, t - 1)), ("l2x", lambda g, t: at(g, t - 2)),
                    ("fx", lambda g, t: at(g, t + 1)),
                    ("dx", lambda g, t: at(g, t) - at(g, t - 1)),
                    ("d2x", lambda g, t: at(g, t) - 2 * at(g, t - 1) + at(g, t - 2))]:
        expect = [f(g, t) for g, t in zip(out["id"], out["t"], strict=True)]
        np.testing.assert_allclose(out[name], expect, err_msg=name)
    # the gap at t=4 in panel 2: L.x at t=5 is missing
    row = out[(out["id"] == 2) & (out["t"] == 5)]
    assert np.isnan(row["lx"].iloc[0])


def test_time_series_operators_in_an_estimation_command():
    pig = load_dataset("pig")
    s = Session(pig)
    with pytest.raises(SessionError, match="time variable not set"):
        s.run("mixed weight L.weight || id:")
    s.run("xtset id week")
    s.run("mixed weight L.weight week || id:, nolog")
    lagged = pig.sort_values(["id", "week"]).copy()
    lagged["L_weight"] = lagged.groupby("id")["weight"].shift(1)
    direct = memodels.fit("mixed weight L_weight week || id:", lagged)
    np.testing.assert_allclose(s.e.params.to_numpy(), direct.params.to_numpy(), rtol=1e-6)
    assert s.e.nobs == 48 * 8
    assert "weight" in s.data.columns and "L_weight" not in s.data.columns
    with pytest.raises(SessionError, match="repeated time values"):
        s.run("xtset id")  # ok: panel only
        s.run("tsset week")


# ----------------------------------------------------------------------- constraint, matrix
def test_manual_me_example6_as_a_do_file():
    """[ME] me, example 6: both routes as the manual types them; the manual prints
    _cons -.5166151 (.2059448), var(e.or) .2377469 (.1950926), ll -9.4552759."""
    s = Session(load_dataset("diuretics"))
    s.run_script("""
mkmat varor, mat(f)
mat f = diag(f)
qui tabulate trial, gen(tr)
meglm or || _all: tr1-tr9, nocons cov(fixed(f)) intm(laplace) nocnsreport
estimates store fixedf
constraint 1 _b[var(std[trial]):_cons] = 1
meglm or || trial: std, nocons constraints(1)
""")
    for res in (s.estimates["fixedf"], s.e):
        assert res.llf == pytest.approx(-9.4552759, abs=1e-6)
        assert res.params["_cons"] == pytest.approx(-.5166151, rel=1e-5)
        assert res.bse["_cons"] == pytest.approx(.2059448, rel=1e-4)
        assert res.params["var(e.or)"] == pytest.approx(.2377469, rel=1e-4)
    assert s.estimates["fixedf"].params["var(tr8[_all])"] == pytest.approx(.69)
    assert s.e.params["var(std[trial])"] == 1.0


def test_constraint_list_drop_and_undefined():
    s = Session(load_dataset("diuretics"))
    s.run("constraint define 3 _b[var(std[trial]):_cons] = 1")
    s.run("constraint 1 _b[_cons] = 0")
    assert s.run("constraint list") == "     1:  _b[_cons] = 0\n     3:  " \
        "_b[var(std[trial]):_cons] = 1"
    s.run("constraint drop 1")
    assert list(s.constraints) == [3]
    with pytest.raises(memodels.errors.MemodelsError, match="constraint 1 not defined"):
        s.run("meglm or || trial: std, nocons constraints(1)")
    s.run("constraint drop _all")
    with pytest.raises(SessionError, match="no constraints defined"):
        s.run("meglm or || trial: std, nocons constraints(1)")


def test_matrix_define_input_and_names():
    s = Session(pd.DataFrame({"v": [2.0, 3.0]}))
    s.run("matrix define A = (1, 2 \\ 3, 2*2)")
    s.run("matrix input B = (1 . \\ . 4)")
    s.run("matrix C = J(2, 3, 0.5)")
    s.run("matrix D = I(2)")
    s.run("matrix E = A'")
    s.run("matrix b = (0.1, 0.2)")
    s.run("matrix colnames b = x:_cons y:_cons")
    np.testing.assert_array_equal(s.matrices["A"].to_numpy(), [[1, 2], [3, 4]])
    np.testing.assert_array_equal(s.matrices["B"].to_numpy(), [[1, np.nan], [np.nan, 4]])
    np.testing.assert_array_equal(s.matrices["C"].to_numpy(), np.full((2, 3), .5))
    np.testing.assert_array_equal(s.matrices["D"].to_numpy(), np.eye(2))
    np.testing.assert_array_equal(s.matrices["E"].to_numpy(), [[1, 3], [2, 4]])
    assert list(s.matrices["b"].index) == ["x:_cons", "y:_cons"]
    assert "." in s.run("matrix list B")
    with pytest.raises(SessionError, match="conformability"):
        s.run("matrix F = (1, 2 \\ 3)")
    with pytest.raises(SessionError, match="not a number"):
        s.run("matrix input F = (1 x)")
    with pytest.raises(SessionError, match="2 names required"):
        s.run("matrix rownames A = one")


# ----------------------------------------------------------------------- scalars, r(), e()
def test_scalars_and_return_lists():
    s = Session(pd.DataFrame({"week": [3.0, 4.0]}))
    log = s.run_script("""
scalar a = 1/4
scalar define b = a * 8
display a + b " " scalar(b) " " week
local c = b - 1
display "`c'"
if b > 1 display "big"
return list
""")
    assert _outputs(log)[:3] == ["2.25 2 3", "1", "big"]
    assert s.scalars == {"a": 0.25, "b": 2.0}
    with pytest.raises(SessionError, match="scalar nosuch not found"):
        s.run("display scalar(nosuch)")
    s.run("scalar drop _all")
    assert s.scalars == {}
    with pytest.raises(SessionError, match="last estimates not found"):
        s.run("ereturn list")


def test_statsby_collects_each_groups_coefficients():
    pig = load_dataset("pig")
    pig["half"] = (pig["id"] > 24).astype(int)
    s = Session(pig)
    with pytest.raises(SessionError, match="clear"):
        s.run("statsby, by(half): mixed weight week || id:")
    s.run("statsby _b _se, by(half) clear: mixed weight week || id:")
    assert list(s.data["half"]) == [0, 1]
    for k in (0, 1):
        res = memodels.fit("mixed weight week || id:", pig[pig["half"] == k])
        assert s.data["_b_week"].iloc[k] == pytest.approx(res.params["week"], rel=1e-6)
        assert s.data["_se_cons"].iloc[k] == pytest.approx(res.bse["_cons"], rel=1e-6)
