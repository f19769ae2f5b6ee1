"""lme4-style formulas."""

import pytest

from memodels.errors import StataSyntaxError, VariableNotFoundError
from memodels.spec import FactorVar
from memodels.syntax import parse_formula, parse_model

COLS = ["y", "x", "x1", "x2", "g", "a", "b", "c", "f", "time"]


def F(text, **kw):
    return parse_formula(text, "mixed", COLS, **kw)


def eqs(spec):
    return [(e.level, e.variables, e.noconstant, e.covariance, e.nested) for e in spec.equations]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("y ~ x1 + x2 + (1 + x | g)", [("g", ("x",), False, "unstructured", False)]),
        ("y ~ x + (1 | g)", [("g", (), False, "identity", False)]),
        ("y ~ x + (x | g)", [("g", ("x",), False, "unstructured", False)]),
        ("y ~ x + (0 + x | g)", [("g", ("x",), True, "identity", False)]),
        ("y ~ x + (-1 + x | g)", [("g", ("x",), True, "identity", False)]),
        ("y ~ x + (x - 1 | g)", [("g", ("x",), True, "identity", False)]),
        ("y ~ x + (1 + x || g)", [("g", ("x",), False, "independent", False)]),
        (
            "y ~ x + (1 | a/b)",
            [("a", (), False, "identity", True), ("b", (), False, "identity", True)],
        ),
        (
            "y ~ x + (x | a/b/c)",
            [
                ("a", ("x",), False, "unstructured", True),
                ("b", ("x",), False, "unstructured", True),
                ("c", ("x",), False, "unstructured", True),
            ],
        ),
        ("y ~ x + (1 | a:b)", [("a", (), True, None, True), ("b", (), False, "identity", True)]),
        (
            "y ~ x + (1 | a) + (1 | a:b)",
            [("a", (), False, "identity", True), ("b", (), False, "identity", True)],
        ),
        (
            "y ~ x + (1 | a) + (1 | b)",
            [("a", (), False, "identity", False), ("b", (), False, "identity", False)],
        ),
        (
            "y ~ x + (1 | g) + (0 + x | g)",
            [("g", (), False, "identity", False), ("g", ("x",), True, "identity", False)],
        ),
        ("y ~ 1 + (1 | _all)", [("_all", (), False, "identity", False)]),
    ],
)
def test_random_parts(text, expected):
    assert eqs(F(text)) == expected


def names(spec):
    return [tuple((f.name, f.kind) for f in t.factors) for t in spec.fixed]


def test_fixed_parts():
    s = F("y ~ x1 * x2 + (1|g)")
    assert names(s) == [(("x1", "c"),), (("x2", "c"),), (("x1", "c"), ("x2", "c"))]
    s = F("y ~ x1:x2")
    assert names(s) == [(("x1", "c"), ("x2", "c"))]
    s = F("y ~ C(f) + factor(a) + x")
    assert s.fixed[0].factors == (FactorVar("f", "i", explicit=True),)
    assert names(s) == [(("f", "i"),), (("a", "i"),), (("x", "c"),)]
    s = F("y ~ x1 * x2 * a")
    assert len(s.fixed) == 7 and names(s)[2] == (("x1", "c"), ("x2", "c"))


@pytest.mark.parametrize("text", ["y ~ 0 + x", "y ~ x - 1", "y ~ -1 + x", "y ~ x + 0"])
def test_noconstant(text):
    assert F(text).noconstant


def test_constant_only_and_options():
    s = F("y ~ 1 + (1|g), reml stddev")
    assert s.fixed == () and not s.noconstant
    assert s.options == {"reml": True, "stddeviations": True}
    s = F("y ~ x + (1 + x | g)", options={"covariance": "exc", "reml": True})
    assert s.equations[0].covariance == "exchangeable" and s.options == {"reml": True}
    s = parse_formula("y ~ x + (1|g)", "melogit", COLS, options={"intpoints": 12, "or": True})
    assert s.options == {"intpoints": 12, "or": True}
    s = parse_formula("~ x + (1|g)", "mestreg", COLS, options={"distribution": "weibull"})
    assert s.depvar == "_t"


def test_dispatch_from_parse_model():
    assert eqs(parse_model("y ~ x + (1|g)", "mixed", COLS)) == eqs(F("y ~ x + (1|g)"))


@pytest.mark.parametrize(
    "text, err, match",
    [
        ("y ~ nosuch", VariableNotFoundError, "nosuch"),
        ("y ~ x + (1 | nosuch)", VariableNotFoundError, "nosuch"),
        ("y ~ x + (1 + x g)", StataSyntaxError, "g"),
        ("y ~ x + (1 + x | g", StataSyntaxError, "unbalanced"),
        ("y ~ x + (1 + x)", StataSyntaxError, "no '\\|'"),
        ("y ~ x + (1 |)", StataSyntaxError, "grouping"),
        ("y ~ x)", StataSyntaxError, "unbalanced"),
        ("y ~ ", StataSyntaxError, "empty"),
        ("~ x", StataSyntaxError, "dependent"),
        ("y + x ~ x", StataSyntaxError, "single variable"),
        ("y ~ x - x1", StataSyntaxError, "x1"),
        ("y ~ logg(x)", StataSyntaxError, "logg"),
        ("y ~ log(nosuch)", VariableNotFoundError, "nosuch"),
        ("y ~ x + offset(x) + offset(x1)", StataSyntaxError, "one offset"),
        ("y ~ x + (1 + x) + (1|g)", StataSyntaxError, "no .\\|."),
        ("y ~ x + (0 | g)", StataSyntaxError, "no effects"),
        ("y ~ x + (x:x1 | g)", StataSyntaxError, "interactions"),
        ("y ~ x, bogus", Exception, "bogus"),
        ("y ~ xx", VariableNotFoundError, "xx"),
    ],
)
def test_formula_errors(text, err, match):
    with pytest.raises(err, match=match):
        F(text)


def test_no_abbreviation_in_formulas():
    with pytest.raises(VariableNotFoundError, match="tim"):
        F("y ~ tim")
