"""Tokenizer for Stata command text.

Stata's command language ([U] 11 Language syntax) is made of names, numbers, string
literals and operators.  Two lexical contexts matter here:

* *varlist mode* (``wildcards=True``, the default): the characters ``*``, ``?`` and
  ``~`` are wildcard characters inside variable names ([U] 11.4.1, e.g. ``child*``,
  ``x?``, ``*x``), so ``child*`` is one :data:`NAME` token;
* *expression mode* (``wildcards=False``): ``*`` is multiplication and ``~`` means
  "not" (``~=`` is "not equal"), as in ``if`` expressions ([U] 13.2 Operators).

A ``.`` directly attached to a preceding name, number or ``)`` is the factor-variable
/ time-series operator dot (``i.var``, ``ib(last).var``, ``1.girl``); a free-standing
``.`` or ``.a`` ... ``.z`` is a missing-value literal ([U] 12.2.1 Missing values).

Every token carries its start/end offsets in the source text so that callers can cut
out raw text (an ``if`` expression, an option argument) verbatim.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from memodels.errors import StataSyntaxError

NAME = "NAME"
NUMBER = "NUMBER"
STRING = "STRING"
MISSING = "MISSING"
OP = "OP"
EOF = "EOF"

# Longest operators first so that maximal munch works.
OPERATORS: tuple[str, ...] = (
    "||",
    "##",
    "==",
    "!=",
    "~=",
    ">=",
    "<=",
    "<",
    ">",
    "&",
    "|",
    "!",
    "~",
    "+",
    "-",
    "*",
    "/",
    "^",
    "(",
    ")",
    "[",
    "]",
    ",",
    ":",
    "=",
    "#",
    ".",
)

_NAME_START = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_NAME_CHARS = _NAME_START | set("0123456789")
_WILDCARDS = set("*?~")
_DIGITS = set("0123456789")


@dataclass(frozen=True)
class Token:
    """One lexical token: ``kind`` is one of NAME, NUMBER, STRING, MISSING, OP, EOF."""

    kind: str
    text: str
    start: int
    end: int

    def is_op(self, *ops: str) -> bool:
        return self.kind == OP and self.text in ops

    def is_name(self, *names: str) -> bool:
        return self.kind == NAME and (not names or self.text in names)

    @property
    def has_wildcard(self) -> bool:
        return self.kind == NAME and any(c in _WILDCARDS for c in self.text)


def _scan_number(text: str, i: int) -> int:
    """End offset of a number starting at ``i`` (digits, optional fraction, exponent).

    ``1.girl`` scans as the number ``1`` followed by the dot operator: a ``.`` is part
    of the number only when a digit follows it (or when it ends the text after digits
    and is not followed by a name character).
    """
    n = len(text)
    j = i
    while j < n and text[j] in _DIGITS:
        j += 1
    if j < n and text[j] == ".":
        if j + 1 < n and text[j + 1] in _DIGITS:
            j += 1
            while j < n and text[j] in _DIGITS:
                j += 1
        elif j == i:  # a lone "." is not a number
            return i
    if j > i and j < n and text[j] in "eE":
        k = j + 1
        if k < n and text[k] in "+-":
            k += 1
        if k < n and text[k] in _DIGITS:
            while k < n and text[k] in _DIGITS:
                k += 1
            j = k
    return j


def _scan_string(text: str, i: int) -> int:
    """End offset of a string literal: ``"..."`` or Stata's compound ```"..."'``."""
    if text.startswith('`"', i):
        depth = 0
        j = i
        while j < len(text):
            if text.startswith('`"', j):
                depth += 1
                j += 2
            elif text.startswith("\"'", j):
                depth -= 1
                j += 2
                if depth == 0:
                    return j
            else:
                j += 1
        raise StataSyntaxError(f"unbalanced quotes in {text[i:]!r}")
    j = text.find('"', i + 1)
    if j < 0:
        raise StataSyntaxError(f"unbalanced quotes in {text[i:]!r}")
    return j + 1


def iter_tokens(text: str, *, wildcards: bool = True) -> Iterator[Token]:
    """Yield the tokens of ``text`` (without a final EOF token)."""
    n = len(text)
    i = 0
    prev: Token | None = None
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
            continue
        tok: Token
        if c == '"' or text.startswith('`"', i):
            j = _scan_string(text, i)
            tok = Token(STRING, text[i:j], i, j)
        elif c in _NAME_START or (wildcards and c in "*?"):
            j = i
            allowed = _NAME_CHARS | _WILDCARDS if wildcards else _NAME_CHARS
            while j < n and text[j] in allowed:
                j += 1
            tok = Token(NAME, text[i:j], i, j)
        elif c in _DIGITS or (
            c == "." and i + 1 < n and text[i + 1] in _DIGITS and not _dot_is_operator(prev, i)
        ):
            j = _scan_number(text, i)
            tok = Token(NUMBER, text[i:j], i, j)
        elif c == "." and not _dot_is_operator(prev, i):
            # missing value literal: "." or ".a" .. ".z" (not followed by a name char)
            if (
                i + 1 < n
                and text[i + 1].isalpha()
                and text[i + 1].islower()
                and (i + 2 >= n or text[i + 2] not in _NAME_CHARS)
            ):
                tok = Token(MISSING, text[i : i + 2], i, i + 2)
            else:
                tok = Token(MISSING, ".", i, i + 1)
        else:
            for op in OPERATORS:
                if text.startswith(op, i):
                    tok = Token(OP, op, i, i + len(op))
                    break
            else:
                raise StataSyntaxError(f"invalid character {c!r} in {text!r}")
        yield tok
        prev = tok
        i = tok.end


def _dot_is_operator(prev: Token | None, i: int) -> bool:
    """A ``.`` glued to a preceding name, number or ``)`` is the operator dot."""
    return prev is not None and prev.end == i and (prev.kind in (NAME, NUMBER) or prev.is_op(")"))


def tokenize(text: str, *, wildcards: bool = True) -> list[Token]:
    """All tokens of ``text`` followed by an EOF token.

    >>> [t.text for t in tokenize("i.a##c.x child* if x>=2")][:6]
    ['i', '.', 'a', '##', 'c', '.']
    """
    toks = list(iter_tokens(text, wildcards=wildcards))
    toks.append(Token(EOF, "", len(text), len(text)))
    return toks


class TokenStream:
    """A cursor over a token list with small helpers for recursive-descent parsers."""

    def __init__(self, tokens: list[Token], text: str = "") -> None:
        if not tokens or tokens[-1].kind != EOF:
            end = tokens[-1].end if tokens else 0
            tokens = [*tokens, Token(EOF, "", end, end)]
        self.tokens = tokens
        self.text = text
        self.pos = 0

    def peek(self, k: int = 0) -> Token:
        j = min(self.pos + k, len(self.tokens) - 1)
        return self.tokens[j]

    def next(self) -> Token:
        tok = self.peek()
        if tok.kind != EOF:
            self.pos += 1
        return tok

    def at_end(self) -> bool:
        return self.peek().kind == EOF

    def accept_op(self, *ops: str) -> Token | None:
        tok = self.peek()
        if tok.is_op(*ops):
            self.pos += 1
            return tok
        return None

    def expect_op(self, op: str, context: str = "") -> Token:
        tok = self.peek()
        if not tok.is_op(op):
            found = tok.text or "end of input"
            where = f" in {context!r}" if context else ""
            raise StataSyntaxError(f"expected {op!r} but found {found!r}{where}")
        self.pos += 1
        return tok


def find_matching_paren(text: str, open_pos: int) -> int:
    """Offset of the ``)`` matching the ``(`` at ``open_pos`` (quotes respected)."""
    depth = 0
    i = open_pos
    n = len(text)
    while i < n:
        c = text[i]
        if c == '"' or text.startswith('`"', i):
            i = _scan_string(text, i)
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise StataSyntaxError(f"unbalanced parentheses in {text[open_pos:]!r}")


def split_top_level(text: str, sep: str) -> list[tuple[int, str]]:
    """Split ``text`` at occurrences of ``sep`` outside parentheses, brackets and quotes.

    Returns ``(offset, piece)`` pairs.  Raises on unbalanced parentheses/brackets.
    """
    pieces: list[tuple[int, str]] = []
    depth = 0
    start = 0
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == '"' or text.startswith('`"', i):
            i = _scan_string(text, i)
            continue
        if c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
            if depth < 0:
                raise StataSyntaxError(f"unbalanced parentheses: unexpected {c!r} in {text!r}")
        elif depth == 0 and text.startswith(sep, i):
            pieces.append((start, text[start:i]))
            i += len(sep)
            start = i
            continue
        i += 1
    if depth != 0:
        raise StataSyntaxError(f"unbalanced parentheses in {text!r}")
    pieces.append((start, text[start:]))
    return pieces
