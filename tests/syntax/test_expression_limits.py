"""Expressions at their limits (audit reliability.md, finding 6): long flat sums and deep
nesting in ``generate``/``display``/``nlcom``, overflow, and Python syntax that is not
Stata's.  Every input either works or raises a memodels error, which ``capture`` catches
in a do-file; random token soups never raise anything else (property tests)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memodels.errors import MemodelsError, StataSyntaxError
from memodels.session import Session
from memodels.syntax.expressions import MAX_NESTING, evaluate, parse_expression
from support import fitted

DF = pd.DataFrame({"x": [1.0, 2.0, np.nan], "y": [0.5, -1.0, 3.0]})


def _eval(text: str) -> np.ndarray:
    return evaluate(parse_expression(text, list(DF.columns)), DF)


def test_flat_sum_of_thousands_of_terms():
    out = _eval(" + ".join(["x"] * 3000))
    np.testing.assert_allclose(out[:2], [3000.0, 6000.0])
    assert np.isnan(out[2])
    out = _eval(" - ".join(["y"] * 501))  # y - y - ... : -499 y
    np.testing.assert_allclose(out, [-249.5, 499.0, -1497.0])


def test_deep_parentheses_and_unary_chains():
    np.testing.assert_allclose(_eval("(" * 200 + "x + 1" + ")" * 200)[:2], [2.0, 3.0])
    np.testing.assert_allclose(_eval("-" * 301 + "y"), [-0.5, 1.0, -3.0])
    np.testing.assert_allclose(_eval("!" * 300 + "(y > 0)"), [1.0, 0.0, 1.0])


def test_nesting_beyond_the_limit_is_a_clear_error():
    deep = "(" * (MAX_NESTING + 5) + "x" + ")" * (MAX_NESTING + 5)
    with pytest.raises(StataSyntaxError, match="too complex"):
        parse_expression(deep)


def test_overflow_is_missing():
    assert np.isnan(_eval("10^1000")).all()
    assert np.isnan(_eval("exp(1000) - exp(1000)")).all()
    assert np.isnan(_eval("1e400 * 0")).all()


def test_new_functions():
    np.testing.assert_allclose(_eval("invlogit(logit(0.3))"), 0.3)
    np.testing.assert_allclose(_eval("normal(invnormal(0.975))"), 0.975)
    np.testing.assert_allclose(_eval("tanh(atanh(0.25))"), 0.25)
    assert np.isnan(_eval("logit(1.5) + atanh(1) + invnormal(0)")).all()


@pytest.mark.parametrize("text", [
    "(x, y)", "x = 1", "(lambda: 1)()", "x.y", "x[1]", "__import__('os')", "x ** 2",
    "x if y", "[x]", "1 +", "f(x)", "min()", "cond(x)", "x !", '"a" + 1',
])
def test_python_syntax_refused(text):
    with pytest.raises(MemodelsError):
        _eval(text)


def test_do_file_generate_and_display_limits():
    s = Session(DF.copy())
    long_sum = " + ".join(["x"] * 500)
    nested = "(" * 200 + "1" + ")" * 200
    log = s.run_script(f"generate z = {long_sum}\ndisplay {long_sum}\n"
                       f"display {nested}\ncapture display (1, 2)\ndisplay _rc\n"
                       f"capture generate w = x = 1\ndisplay _rc\n")
    assert s.data["z"].tolist()[:2] == [500.0, 1000.0]
    assert "\n500\n" in log and "\n1\n" in log
    assert [ln for ln in log.splitlines() if ln.strip().isdigit()][-2:] == ["198", "198"]


# ---------------------------------------------------------------- properties
TOKENS = ["x", "y", "1", "2.5", ".", "+", "-", "*", "/", "^", "(", ")", ",", "==", "=",
          "!", "&", "|", "<", ">=", "exp(", "log(", "cond(", "min(", "abs(", "1e308",
          '"a"', ":", "[", "]", "lambda", "_n", "10^1000", "invlogit("]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=40))
def test_random_expressions_raise_only_memodels_errors(tokens):
    text = " ".join(tokens)
    try:
        out = _eval(text)
    except MemodelsError:
        return
    assert len(out) == len(DF)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30))
def test_random_text_raises_only_memodels_errors(text):
    try:
        _eval(text)
    except MemodelsError:
        pass


NL_TOKENS = ["_b[week]", "[weight]week", "_b[_cons]", "[lns1_1_1]_cons", "[lnsig_e]_cons",
             "[id]week", "_b[nosuch]", "2", "0", "+", "-", "*", "/", "^", "(", ")", ",",
             "=", "exp(", "log(", "sqrt(", "10^1000", "lambda", ":", "[", "]", "_pi"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(NL_TOKENS), min_size=1, max_size=15))
def test_random_nlcom_and_lincom_raise_only_memodels_errors(tokens):
    res = fitted("pig", "mixed weight week || id:")
    text = " ".join(tokens)
    for call in (res.nlcom, res.lincom, res.test, res.testnl):
        try:
            out = call(text)
        except MemodelsError:
            continue
        if hasattr(out, "estimate"):
            assert np.isfinite(out.estimate)


def test_nlcom_long_sum_and_deep_nesting():
    res = fitted("pig", "mixed weight week || id:")
    c = res.nlcom(" + ".join(["_b[week]"] * 500))
    assert c.estimate == pytest.approx(500 * res.params["week"], rel=1e-12)
    assert c.se == pytest.approx(500 * res.bse["week"], rel=1e-6)
    c = res.nlcom("(" * 200 + "_b[week]" + ")" * 200)
    assert c.estimate == pytest.approx(res.params["week"], rel=1e-12)
    lin = res.lincom(" + ".join(["week"] * 500))
    assert lin.se == pytest.approx(500 * res.bse["week"], rel=1e-9)


@settings(max_examples=120, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=25))
def test_random_display_and_generate_are_capturable(tokens):
    """In a do-file, ``capture`` catches whatever a malformed expression raises."""
    text = " ".join(tokens).replace("\n", " ")
    s = Session(DF.copy())
    s.run_script(f"capture display {text}\ncapture generate z = {text}\n")  # no raise
    assert isinstance(s.rc, int) and ("z" in s.data.columns) == (s.rc == 0)
