"""Stata expressions ([U] 13) with Stata's missing-value semantics."""

import numpy as np
import pandas as pd
import pytest

from memodels.errors import StataSyntaxError, VariableNotFoundError
from memodels.syntax.expressions import (
    Binary,
    Var,
    evaluate,
    evaluate_condition,
    expression_variables,
    parse_expression,
)

NAN = np.nan
DF = pd.DataFrame(
    {
        "x": [1.0, NAN, 7.0, 3.0],
        "y": [2.0, 2.0, NAN, 0.0],
        "s": ["a", "b", None, "a"],
        "week": [1, 2, 3, 4],
    }
)


@pytest.mark.parametrize(
    "expr, expected",
    [
        ("x > 5", [False, True, True, False]),  # missing is larger than any number
        ("x < .", [True, False, True, True]),
        ("x >= .", [False, True, False, False]),
        ("x == .", [False, True, False, False]),
        ("x != .", [True, False, True, True]),
        ("x ~= .", [True, False, True, True]),
        ("x <= 3", [True, False, False, True]),
        ("x == y", [False, False, False, False]),
        ("x > y", [False, True, False, True]),
        ("x < y", [True, False, True, False]),
        ("!missing(x)", [True, False, True, True]),
        ("missing(x, y)", [False, True, True, False]),
        ("mi(x)", [False, True, False, False]),
        ("~missing(x)", [True, False, True, True]),
        ("x > 2 & y < .", [False, True, False, True]),
        ("x > 2 | y == 0", [False, True, True, True]),
        ("!(x > 2)", [True, False, False, False]),
        ("inlist(x, 1, 3)", [True, False, False, True]),
        ("inrange(x, 2, 7)", [False, False, True, True]),
        ("inrange(x, ., 3)", [True, False, False, True]),
        ('s == "a"', [True, False, False, True]),
        ('s != "a"', [False, True, True, False]),
        ("missing(s)", [False, False, True, False]),
        ('inlist(s, "a", "b")', [True, True, False, True]),
        ("week > 2 in", None),
    ][:-1],
)
def test_logical(expr, expected):
    out = evaluate(parse_expression(expr), DF)
    assert out.dtype == bool
    assert out.tolist() == expected


@pytest.mark.parametrize(
    "expr, expected",
    [
        ("x + 1", [2, NAN, 8, 4]),
        ("x * y", [2, NAN, NAN, 0]),
        ("x / y", [0.5, NAN, NAN, NAN]),  # division by zero is missing
        ("2 ^ 3 + 1", [9, 9, 9, 9]),
        ("-2 ^ 2", [-4, -4, -4, -4]),
        ("2 ^ -1", [0.5] * 4),
        ("10 - 2 - 3", [5] * 4),
        ("8 / 2 * 4", [16] * 4),
        ("(1 + 2) * 3", [9] * 4),
        ("abs(-x)", [1, NAN, 7, 3]),
        ("log(y)", [np.log(2), np.log(2), NAN, NAN]),
        ("ln(1)", [0] * 4),
        ("exp(0)", [1] * 4),
        ("sqrt(x - 2)", [NAN, NAN, np.sqrt(5), 1]),
        ("int(-2.5)", [-2] * 4),
        ("round(2.5)", [3] * 4),
        ("round(1.26, .1)", [1.3] * 4),
        ("floor(1.5) + ceil(1.5)", [3] * 4),
        ("min(x, y)", [1, 2, 7, 0]),
        ("max(x, y)", [2, 2, 7, 3]),
        ("cond(x > 2, 1, 0)", [0, 1, 1, 1]),
        ("_n", [1, 2, 3, 4]),
        ("_N", [4] * 4),
        ("(x > 2) + 1", [1, 2, 2, 2]),
        (".", [NAN] * 4),
        (".a", [NAN] * 4),
        ("x + .", [NAN] * 4),
    ],
)
def test_numeric(expr, expected):
    out = evaluate(parse_expression(expr), DF)
    assert out.dtype == float
    np.testing.assert_allclose(out, np.array(expected, dtype=float), equal_nan=True)


def test_not_binds_tighter_than_comparison():
    # Stata: ! has the highest precedence, so !x==0 is (!x)==0
    assert parse_expression("!x==0") == Binary("==", parse_expression("!x"), parse_expression("0"))


def test_condition_missing_is_true():
    np.testing.assert_array_equal(evaluate_condition("x", DF), [True, True, True, True])
    np.testing.assert_array_equal(evaluate_condition("y", DF), [True, True, True, False])


def test_string_concat():
    out = evaluate('s + "z"', DF)
    assert out.tolist() == ["az", "bz", "z", "az"]


def test_variables_and_abbreviation():
    node = parse_expression("wee > 2 & !missing(x)", columns=list(DF.columns))
    assert expression_variables(node) == {"week", "x"}
    assert evaluate(node, DF).tolist() == [False, False, True, True]
    assert parse_expression("_n < 3") == Binary("<", Var("_n"), parse_expression("3"))
    assert expression_variables(parse_expression("_n < 3")) == set()


@pytest.mark.parametrize(
    "expr, err, match",
    [
        ("foo(x)", StataSyntaxError, "unknown function foo"),
        ("(x > 2", StataSyntaxError, "unbalanced"),
        ("x > 2)", StataSyntaxError, "unbalanced"),
        ("x = 2", StataSyntaxError, "'='"),
        ("x >", StataSyntaxError, "ends unexpectedly"),
        ("", StataSyntaxError, "empty"),
        ("inrange(x, 1)", StataSyntaxError, "inrange"),
        ("missing()", StataSyntaxError, "missing"),
    ],
)
def test_parse_errors(expr, err, match):
    with pytest.raises(err, match=match):
        parse_expression(expr)


def test_unknown_variable_named():
    with pytest.raises(VariableNotFoundError, match="nosuch"):
        parse_expression("nosuch > 1", columns=["x"])
    with pytest.raises(VariableNotFoundError, match="nosuch"):
        evaluate("nosuch > 1", DF)


def test_type_mismatch():
    with pytest.raises(StataSyntaxError, match="type mismatch"):
        evaluate("s == 1", DF)
    with pytest.raises(StataSyntaxError, match="type mismatch"):
        evaluate("s * 2", DF)


def test_categorical_and_bool_columns():
    df = pd.DataFrame(
        {
            "c": pd.Categorical(["u", "v", "u"]),
            "b": [True, False, True],
            "i": pd.array([1, None, 3], dtype="Int64"),
        }
    )
    assert evaluate('c == "u"', df).tolist() == [True, False, True]
    assert evaluate("b == 1", df).tolist() == [True, False, True]
    assert evaluate("i < .", df).tolist() == [True, False, True]
