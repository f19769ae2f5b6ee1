"""Tokenizer tests ([U] 11 Language syntax)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from memodels.errors import StataSyntaxError
from memodels.syntax.tokens import (
    EOF,
    MISSING,
    NAME,
    NUMBER,
    OP,
    STRING,
    split_top_level,
    tokenize,
)


def kinds(text, **kw):
    return [(t.kind, t.text) for t in tokenize(text, **kw)[:-1]]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("weight week", [(NAME, "weight"), (NAME, "week")]),
        (
            "i.a##c.x",
            [(NAME, "i"), (OP, "."), (NAME, "a"), (OP, "##"), (NAME, "c"), (OP, "."), (NAME, "x")],
        ),
        ("a#b", [(NAME, "a"), (OP, "#"), (NAME, "b")]),
        ("child* x? *x", [(NAME, "child*"), (NAME, "x?"), (NAME, "*x")]),
        ("x~", [(NAME, "x~")]),
        ("x1-x5", [(NAME, "x1"), (OP, "-"), (NAME, "x5")]),
        ("|| id:", [(OP, "||"), (NAME, "id"), (OP, ":")]),
        ("a | b", [(NAME, "a"), (OP, "|"), (NAME, "b")]),
        (
            "x==1 & y!=2 | z~=3",
            [
                (NAME, "x"),
                (OP, "=="),
                (NUMBER, "1"),
                (OP, "&"),
                (NAME, "y"),
                (OP, "!="),
                (NUMBER, "2"),
                (OP, "|"),
                (NAME, "z"),
                (OP, "~="),
                (NUMBER, "3"),
            ],
        ),
        (
            ">= <= < > ! ^ / + - ( ) [ ] , =",
            [(OP, o) for o in ">= <= < > ! ^ / + - ( ) [ ] , =".split()],
        ),
        ("1.5 .5 2e3 10", [(NUMBER, "1.5"), (NUMBER, ".5"), (NUMBER, "2e3"), (NUMBER, "10")]),
        ("x < .", [(NAME, "x"), (OP, "<"), (MISSING, ".")]),
        ("x == .a", [(NAME, "x"), (OP, "=="), (MISSING, ".a")]),
        ('s == "a b"', [(NAME, "s"), (OP, "=="), (STRING, '"a b"')]),
        (
            "ib(last).x",
            [(NAME, "ib"), (OP, "("), (NAME, "last"), (OP, ")"), (OP, "."), (NAME, "x")],
        ),
        ("1.girl", [(NUMBER, "1"), (OP, "."), (NAME, "girl")]),
        ("_all:R.id", [(NAME, "_all"), (OP, ":"), (NAME, "R"), (OP, "."), (NAME, "id")]),
    ],
)
def test_tokens(text, expected):
    assert kinds(text, wildcards="~=" not in text) == expected


def test_expression_mode_star_is_operator():
    assert kinds("x*2", wildcards=False) == [(NAME, "x"), (OP, "*"), (NUMBER, "2")]
    assert kinds("~x", wildcards=False) == [(OP, "~"), (NAME, "x")]


def test_positions_and_eof():
    toks = tokenize("ab  cd")
    assert (toks[1].start, toks[1].end) == (4, 6)
    assert toks[-1].kind == EOF


def test_unbalanced_quote():
    with pytest.raises(StataSyntaxError, match="quotes"):
        tokenize('x == "abc')


def test_invalid_character():
    with pytest.raises(StataSyntaxError, match="@"):
        tokenize("x @ y")


def test_split_top_level():
    parts = [p for _, p in split_top_level("a, b(c, d) || e", ",")]
    assert parts == ["a", " b(c, d) || e"]
    assert [p.strip() for _, p in split_top_level("y x || id: || c:", "||")] == ["y x", "id:", "c:"]


@pytest.mark.parametrize("text", ["a(b", "a)b", "x [pw=w"])
def test_split_unbalanced(text):
    with pytest.raises(StataSyntaxError, match="unbalanced"):
        split_top_level(text, ",")


names = st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True)


@given(st.lists(names, min_size=1, max_size=12))
def test_names_roundtrip(words):
    text = " ".join(words)
    assert [t.text for t in tokenize(text)[:-1]] == words
    assert all(t.kind == NAME for t in tokenize(text)[:-1])


@given(st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=8))
def test_numbers_roundtrip(nums):
    toks = tokenize(" ".join(map(str, nums)))[:-1]
    assert [int(t.text) for t in toks] == nums
