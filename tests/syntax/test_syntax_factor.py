"""Factor-variable notation ([U] 11.4.3)."""

import pytest

from memodels.errors import StataSyntaxError, VariableNotFoundError
from memodels.spec import FactorVar
from memodels.syntax.factor import parse_fixed_terms, parse_numlist

COLS = ["a", "b", "c", "x", "age", "girl", "child1", "child2", "child3", "drug"]


def show(text):
    """Compact rendering: kind.name[base][levels] joined with #."""
    out = []
    for term in parse_fixed_terms(text, COLS):
        parts = []
        for f in term.factors:
            s = f"{f.kind}.{f.name}"
            if f.base != "first":
                s += f"[b={f.base}]"
            if f.levels is not None:
                s += f"{list(f.levels)}"
            parts.append(s)
        out.append("#".join(parts))
    return out


@pytest.mark.parametrize(
    "text, expected",
    [
        ("x", ["c.x"]),
        ("i.a", ["i.a"]),
        ("c.x", ["c.x"]),
        ("ib2.a", ["i.a[b=2]"]),
        ("ib(last).a", ["i.a[b=last]"]),
        ("ib(first).a", ["i.a"]),
        ("ib(freq).a", ["i.a[b=freq]"]),
        ("ib(3).a", ["i.a[b=3]"]),
        ("ibn.a", ["i.a[b=none]"]),
        ("i(2 3).a", ["i.a[2.0, 3.0]"]),
        ("i(1/3).a", ["i.a[1.0, 2.0, 3.0]"]),
        ("2.girl", ["i.girl[b=none][2.0]"]),  # one level's indicator: no base
        ("i.(a b)", ["i.a", "i.b"]),
        ("i.child*", ["i.child1", "i.child2", "i.child3"]),
        ("i.(child1-child3)", ["i.child1", "i.child2", "i.child3"]),
        ("i.a#c.x", ["i.a#c.x"]),
        ("c.age#c.age", ["c.age#c.age"]),
        ("i.a#i.b#c.x", ["i.a#i.b#c.x"]),
        ("a#b", ["i.a#i.b"]),
        ("a#c.x", ["i.a#c.x"]),
        ("a##b", ["i.a", "i.b", "i.a#i.b"]),
        ("i.a##c.x", ["i.a", "c.x", "i.a#c.x"]),
        ("c.x##c.x", ["c.x", "c.x#c.x"]),  # the main effect once, as Stata
        ("a##b##c", ["i.a", "i.b", "i.a#i.b", "i.c", "i.a#i.c", "i.b#i.c", "i.a#i.b#i.c"]),
        ("ibn.a##ibn.b", ["i.a[b=none]", "i.b[b=none]", "i.a[b=none]#i.b[b=none]"]),
        ("i.(a b)#c.x", ["i.a#c.x", "i.b#c.x"]),
        ("x age i.girl i.girl#c.age", ["c.x", "c.age", "i.girl", "i.girl#c.age"]),
        ("child1-child3", ["c.child1", "c.child2", "c.child3"]),
    ],
)
def test_factor_terms(text, expected):
    assert show(text) == expected


def test_explicit_flags():
    (t,) = parse_fixed_terms("x", COLS)
    assert t.factors == (FactorVar("x", "c", explicit=False),)
    (t,) = parse_fixed_terms("c.x", COLS)
    assert t.factors == (FactorVar("x", "c", explicit=True),)
    (t,) = parse_fixed_terms("a#b", COLS)
    assert all(f.kind == "i" and not f.explicit for f in t.factors)
    assert t.is_interaction


def test_abbreviation_inside_operator():
    assert show("i.dr") == ["i.drug"]


@pytest.mark.parametrize(
    "text, match",
    [
        ("L.x", "time-series operator L"),
        ("q.x", "operator q"),
        ("i.zz", "zz"),
        ("i.(a b", "unbalanced"),
        ("ib(#2).a", "#2"),
    ],
)
def test_factor_errors(text, match):
    with pytest.raises(StataSyntaxError, match=match):
        parse_fixed_terms(text, COLS)


def test_unknown_variable_is_variable_error():
    with pytest.raises(VariableNotFoundError, match="nope"):
        parse_fixed_terms("i.a#c.nope", COLS)


def test_numlist():
    assert parse_numlist("1 3/5") == (1.0, 3.0, 4.0, 5.0)
    with pytest.raises(StataSyntaxError, match="abc"):
        parse_numlist("abc")
