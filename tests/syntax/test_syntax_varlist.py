"""Variable-list resolution ([U] 11.4 varlists, [U] 11.2 abbreviations)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from memodels.errors import StataSyntaxError, VariableNotFoundError
from memodels.syntax.varlist import resolve_name, resolve_range, resolve_varlist

COLS = ["id", "week", "weight", "child1", "child2", "child3", "x1", "x2", "x3", "ax", "bx", "age"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("weight", ["weight"]),
        ("weig", ["weight"]),
        ("wee", ["week"]),
        ("child*", ["child1", "child2", "child3"]),
        ("x?", ["x1", "x2", "x3"]),
        ("*x", ["ax", "bx"]),
        ("c*2", ["child2"]),
        ("x1-x3", ["x1", "x2", "x3"]),
        ("child2-x1", ["child2", "child3", "x1"]),
        ("x1 - x2", ["x1", "x2"]),
        ("id week", ["id", "week"]),
        ("ag", ["age"]),
        ("_all", COLS),
        ("ag~", ["age"]),
    ],
)
def test_resolve(text, expected):
    assert resolve_varlist(text, COLS) == expected


def test_exact_beats_prefix():
    assert resolve_name("x1", ["x1", "x10"]) == ["x1"]


@pytest.mark.parametrize("token", ["we", "w", "child"])
def test_ambiguous_abbreviation_named(token):
    with pytest.raises(VariableNotFoundError, match=f"{token} ambiguous"):
        resolve_varlist(token, COLS)


@pytest.mark.parametrize("token", ["zzz", "q*", "y?"])
def test_not_found_named(token):
    with pytest.raises(
        VariableNotFoundError,
        match=f"variable {token.replace('*', '[*]').replace('?', '[?]')} not found",
    ):
        resolve_varlist(token, COLS)


def test_tilde_must_be_unique():
    with pytest.raises(VariableNotFoundError, match="x~"):
        resolve_name("x~", COLS)


def test_abbrev_off():
    with pytest.raises(VariableNotFoundError, match="weig"):
        resolve_name("weig", COLS, abbrev=False)


def test_reversed_range():
    with pytest.raises(StataSyntaxError, match="x3-x1"):
        resolve_range("x3", "x1", COLS)


def test_bad_element():
    with pytest.raises(StataSyntaxError, match="'#'"):
        resolve_varlist("a#b", ["a", "b"])


colnames = st.lists(
    st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True), min_size=1, max_size=15, unique=True
)


@given(colnames, st.data())
def test_permutation_roundtrip(cols, data):
    perm = data.draw(st.permutations(cols))
    assert resolve_varlist(" ".join(perm), cols) == list(perm)


@given(colnames, st.data())
def test_range_is_data_order_slice(cols, data):
    i = data.draw(st.integers(0, len(cols) - 1))
    j = data.draw(st.integers(i, len(cols) - 1))
    assert resolve_varlist(f"{cols[i]}-{cols[j]}", cols) == cols[i : j + 1]


@given(colnames)
def test_star_is_everything(cols):
    assert resolve_name("*", cols) == cols
