"""Stata expressions for ``if`` qualifiers and weight expressions ([U] 13 Functions and
expressions).

:func:`parse_expression` builds a small immutable AST; :func:`evaluate` computes it on
a DataFrame, returning a numpy array (``bool`` for logical/relational expressions,
``float`` otherwise; string-valued expressions give an object array).

Operator precedence, highest first ([U] 13.2.5 Order of evaluation, all operators)::

    !  ~          (logical not)
    ^
    -             (negation)
    /  *
    -  +
    != > < <= >= == ~=
    &
    |

Stata semantics reproduced here:

* numeric missing (``.``, NaN in the data) is larger than every number, so ``x > 5``
  is true and ``x < .`` false when ``x`` is missing; ``x == .`` is true for missing;
* arithmetic involving missing gives missing; division by zero gives missing;
  ``log``/``sqrt`` outside their domain give missing;
* in logical context any nonzero value, including missing, is true;
* the extended missing literals ``.a`` ... ``.z`` are accepted but, since pandas has a
  single NaN, they all behave like ``.``;
* string literals compare with string columns (pandas NaN/None in a string column is
  the empty string ``""``, Stata's string missing); ``+`` concatenates strings.

Functions: ``missing(x, ...)`` (alias ``mi``), ``inlist(z, a, ...)``,
``inrange(z, a, b)``, ``abs``, ``log``/``ln``, ``log10``, ``exp``, ``sqrt``, ``int``,
``round(x[, y])``, ``floor``, ``ceil``, ``mod(x, y)``, ``sum(x)`` (running sum),
``min(...)``, ``max(...)`` (ignoring missing),
``cond(c, a, b)``, ``invlogit``, ``logit``, ``normal``, ``invnormal``, ``tanh``, ``atanh``,
``sin``, ``cos``, ``tan``; system variables ``_n`` and ``_N``.  Evaluation is iterative
(:mod:`memodels.syntax.expr_eval`), so long sums work; parentheses may nest
:data:`MAX_NESTING` deep.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import numpy as np
import pandas as pd

from memodels.errors import StataSyntaxError
from memodels.syntax.expr_ast import (
    COMPARISONS,
    FUNCTIONS,
    LOGICAL_FUNCS,
    Binary,
    Call,
    Missing,
    Node,
    Num,
    Str,
    Unary,
    Var,
    postorder,
)
from memodels.syntax.expr_eval import eval_tree, truth_value
from memodels.syntax.tokens import EOF, MISSING, NAME, NUMBER, STRING, TokenStream, tokenize
from memodels.syntax.varlist import resolve_name

_COMPARISONS = COMPARISONS
_LOGICAL_FUNCS = LOGICAL_FUNCS
# the parser recurses about ten frames per parenthesis; deeper nesting is refused
MAX_NESTING = 1000


# ---------------------------------------------------------------- parsing
class _Parser:
    def __init__(self, text: str, columns: Sequence[str] | None) -> None:
        self.text = text
        self.columns = list(columns) if columns is not None else None
        self.s = TokenStream(tokenize(text, wildcards=False), text)

    def parse(self) -> Node:
        if self.s.at_end():
            raise StataSyntaxError("empty expression")
        node = self.parse_or()
        if not self.s.at_end():
            tok = self.s.peek()
            if tok.is_op(")"):
                raise StataSyntaxError(f"unbalanced parentheses in expression {self.text!r}")
            raise StataSyntaxError(f"unexpected {tok.text!r} in expression {self.text!r}")
        return node

    def parse_or(self) -> Node:
        node = self.parse_and()
        while self.s.accept_op("|"):
            node = Binary("|", node, self.parse_and())
        return node

    def parse_and(self) -> Node:
        node = self.parse_cmp()
        while self.s.accept_op("&"):
            node = Binary("&", node, self.parse_cmp())
        return node

    def parse_cmp(self) -> Node:
        node = self.parse_add()
        while True:
            tok = self.s.accept_op(*_COMPARISONS)
            if tok is None:
                if self.s.peek().is_op("="):
                    raise StataSyntaxError(
                        f"'=' invalid in expression {self.text!r}; use '==' for equality"
                    )
                return node
            op = "!=" if tok.text == "~=" else tok.text
            node = Binary(op, node, self.parse_add())

    def parse_add(self) -> Node:
        node = self.parse_mul()
        while True:
            tok = self.s.accept_op("+", "-")
            if tok is None:
                return node
            node = Binary(tok.text, node, self.parse_mul())

    def parse_mul(self) -> Node:
        node = self.parse_neg()
        while True:
            tok = self.s.accept_op("*", "/")
            if tok is None:
                return node
            node = Binary(tok.text, node, self.parse_neg())

    def parse_neg(self) -> Node:
        if self.s.accept_op("-"):
            return Unary("-", self.parse_neg())
        if self.s.accept_op("+"):
            return self.parse_neg()
        return self.parse_pow()

    def parse_pow(self) -> Node:
        node = self.parse_not()
        if self.s.accept_op("^"):
            # Stata evaluates 2^3^2 left to right: (2^3)^2
            node = Binary("^", node, self.parse_not())
            while self.s.accept_op("^"):
                node = Binary("^", node, self.parse_not())
        return node

    def parse_not(self) -> Node:
        if self.s.accept_op("!", "~"):
            return Unary("!", self.parse_not())
        if self.s.peek().is_op("-"):  # 2^-1
            self.s.next()
            return Unary("-", self.parse_not())
        return self.parse_atom()

    def parse_atom(self) -> Node:
        tok = self.s.next()
        if tok.kind == NUMBER:
            return Num(float(tok.text))
        if tok.kind == MISSING:
            return Missing(tok.text)
        if tok.kind == STRING:
            raw = tok.text
            inner = raw[2:-2] if raw.startswith('`"') else raw[1:-1]
            return Str(inner)
        if tok.is_op("("):
            node = self.parse_or()
            if not self.s.accept_op(")"):
                raise StataSyntaxError(f"unbalanced parentheses in expression {self.text!r}")
            return node
        if tok.kind == NAME:
            if self.s.peek().is_op("(") and self.s.peek().start == tok.end:
                return self.parse_call(tok.text)
            if tok.text in ("_n", "_N"):
                return Var(tok.text)
            if self.columns is not None:
                found = resolve_name(tok.text, self.columns)
                if len(found) != 1:
                    raise StataSyntaxError(f"{tok.text} must name a single variable")
                return Var(found[0])
            return Var(tok.text)
        if tok.kind == EOF:
            raise StataSyntaxError(f"expression {self.text!r} ends unexpectedly")
        raise StataSyntaxError(f"unexpected {tok.text!r} in expression {self.text!r}")

    def parse_call(self, name: str) -> Node:
        if name not in FUNCTIONS:
            raise StataSyntaxError(f"unknown function {name}()")
        self.s.expect_op("(")
        args: list[Node] = []
        if not self.s.peek().is_op(")"):
            args.append(self.parse_or())
            while self.s.accept_op(","):
                args.append(self.parse_or())
        if not self.s.accept_op(")"):
            raise StataSyntaxError(f"unbalanced parentheses in {name}() in {self.text!r}")
        lo, hi = FUNCTIONS[name]
        if len(args) < lo or (hi is not None and len(args) > hi):
            raise StataSyntaxError(f"wrong number of arguments to {name}()")
        return Call(name, tuple(args))


def parse_expression(text: str, columns: Sequence[str] | None = None) -> Node:
    """Parse a Stata expression.  With ``columns``, variable names (and unique
    abbreviations) are resolved now and unknown names raise
    :class:`VariableNotFoundError`; otherwise they are resolved at evaluation."""
    parser = _Parser(text, columns)
    depth = _nesting(parser.s.tokens)
    if depth > MAX_NESTING:
        raise StataSyntaxError(f"expression too complex: more than {MAX_NESTING} nested "
                               f"parentheses or unary operators in {text[:60]!r}...")
    need = 12 * depth + 400
    old = sys.getrecursionlimit()
    try:
        if need > old - 200:  # Python 3.11 frames of pure-Python calls live on the heap
            sys.setrecursionlimit(need + old)
        return parser.parse()
    except RecursionError:
        raise StataSyntaxError(f"expression too complex: {text[:60]!r}...") from None
    finally:
        if sys.getrecursionlimit() != old:
            sys.setrecursionlimit(old)


def _nesting(tokens) -> int:
    """The deepest nesting of parentheses and runs of unary operators in the tokens."""
    depth = best = run = 0
    prev_operand = False
    for tok in tokens:
        if tok.is_op("("):
            depth += 1
            run = 0
            prev_operand = False
        elif tok.is_op(")"):
            depth -= 1
            prev_operand = True
        elif tok.is_op("-", "+", "!", "~") and not prev_operand:
            run += 1
        else:
            run = 0 if tok.kind != "OP" else run
            prev_operand = tok.kind != "OP"
        best = max(best, depth + run)
    return best


def expression_variables(node: Node) -> set[str]:
    """The data variables an expression refers to (system variables excluded)."""
    return {n.name for n in postorder(node)
            if isinstance(n, Var) and n.name not in ("_n", "_N")}


def is_logical(node: Node) -> bool:
    """True when the expression's value is logical (0/1)."""
    if isinstance(node, Binary):
        return node.op in _COMPARISONS or node.op in ("&", "|")
    if isinstance(node, Unary):
        return node.op == "!"
    if isinstance(node, Call):
        return node.name in _LOGICAL_FUNCS
    return False


def evaluate(node: Node | str, df: pd.DataFrame) -> np.ndarray:
    """Evaluate an expression (AST or text) on ``df``.

    Returns a ``bool`` array for logical expressions (comparisons, ``& | !``,
    ``missing()``, ``inlist()``, ``inrange()``), a ``float`` array for numeric ones
    and an object array for string-valued ones.  Unknown variables raise
    :class:`VariableNotFoundError` naming them.
    """
    if isinstance(node, str):
        node = parse_expression(node)
    n = len(df)
    v = eval_tree(node, df, n)
    if v.is_str:
        return v.arr
    if is_logical(node):
        return v.arr != 0
    return v.arr.astype(float)


def evaluate_condition(node: Node | str, df: pd.DataFrame) -> np.ndarray:
    """Evaluate an ``if`` condition: true where the value is nonzero (missing is true)."""
    if isinstance(node, str):
        node = parse_expression(node)
    v = eval_tree(node, df, len(df))
    return truth_value(v, "if")
