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
``round(x[, y])``, ``floor``, ``ceil``, ``min(...)``, ``max(...)`` (ignoring missing),
``cond(c, a, b)``; system variables ``_n`` and ``_N``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from memodels.errors import StataSyntaxError, VariableNotFoundError
from memodels.syntax.tokens import EOF, MISSING, NAME, NUMBER, STRING, TokenStream, tokenize
from memodels.syntax.varlist import resolve_name


@dataclass(frozen=True)
class Num:
    value: float


@dataclass(frozen=True)
class Missing:
    code: str = "."


@dataclass(frozen=True)
class Str:
    value: str


@dataclass(frozen=True)
class Var:
    name: str


@dataclass(frozen=True)
class Unary:
    op: str  # "-" or "!"
    operand: Node


@dataclass(frozen=True)
class Binary:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Node, ...]


Node = Num | Missing | Str | Var | Unary | Binary | Call

# (min args, max args or None)
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "missing": (1, None),
    "mi": (1, None),
    "inlist": (2, None),
    "inrange": (3, 3),
    "abs": (1, 1),
    "log": (1, 1),
    "ln": (1, 1),
    "log10": (1, 1),
    "exp": (1, 1),
    "sqrt": (1, 1),
    "int": (1, 1),
    "round": (1, 2),
    "floor": (1, 1),
    "ceil": (1, 1),
    "min": (1, None),
    "max": (1, None),
    "cond": (3, 3),
}

_COMPARISONS = ("==", "!=", "~=", ">", "<", ">=", "<=")
_LOGICAL_FUNCS = ("missing", "mi", "inlist", "inrange")


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
    return _Parser(text, columns).parse()


def expression_variables(node: Node) -> set[str]:
    """The data variables an expression refers to (system variables excluded)."""
    out: set[str] = set()

    def walk(n: Node) -> None:
        if isinstance(n, Var):
            if n.name not in ("_n", "_N"):
                out.add(n.name)
        elif isinstance(n, Unary):
            walk(n.operand)
        elif isinstance(n, Binary):
            walk(n.left)
            walk(n.right)
        elif isinstance(n, Call):
            for a in n.args:
                walk(a)

    walk(node)
    return out


def is_logical(node: Node) -> bool:
    """True when the expression's value is logical (0/1)."""
    if isinstance(node, Binary):
        return node.op in _COMPARISONS or node.op in ("&", "|")
    if isinstance(node, Unary):
        return node.op == "!"
    if isinstance(node, Call):
        return node.name in _LOGICAL_FUNCS
    return False


# ---------------------------------------------------------------- evaluation
class _Value:
    """An evaluated sub-expression: a float array, or an object array of strings."""

    __slots__ = ("arr", "is_str")

    def __init__(self, arr: np.ndarray, is_str: bool = False) -> None:
        self.arr = arr
        self.is_str = is_str


def _num(v: _Value, where: str) -> np.ndarray:
    if v.is_str:
        raise StataSyntaxError(f"type mismatch: string used in numeric context ({where})")
    return v.arr


def _truth(v: _Value, where: str) -> np.ndarray:
    a = _num(v, where)
    return (a != 0) | np.isnan(a)  # missing is nonzero, hence true


def _stata_compare(op: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Compare with missing (NaN) larger than every number and equal to itself."""
    an, bn = np.isnan(a), np.isnan(b)
    with np.errstate(invalid="ignore"):
        if op == "==":
            return (an & bn) | (~an & ~bn & (a == b))
        if op == "!=":
            return ~((an & bn) | (~an & ~bn & (a == b)))
        if op == "<":
            return (~an & bn) | (~an & ~bn & (a < b))
        if op == "<=":
            return bn | (~an & (a <= b))
        if op == ">":
            return (an & ~bn) | (~an & ~bn & (a > b))
        if op == ">=":
            return an | (~bn & (a >= b))
    raise StataSyntaxError(f"unknown comparison {op}")  # pragma: no cover


def _str_compare(op: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ops: dict[str, Callable[[Any, Any], Any]] = {
        "==": np.equal,
        "!=": np.not_equal,
        "<": np.less,
        "<=": np.less_equal,
        ">": np.greater,
        ">=": np.greater_equal,
    }
    return np.asarray(ops[op](a.astype(str), b.astype(str)), dtype=bool)


def _column(df: pd.DataFrame, name: str, n: int) -> _Value:
    if name == "_n":
        return _Value(np.arange(1, n + 1, dtype=float))
    if name == "_N":
        return _Value(np.full(n, float(n)))
    if name in df.columns:
        col = df[name]
    else:
        found = resolve_name(name, [str(c) for c in df.columns])
        if len(found) != 1:
            raise VariableNotFoundError(f"{name} must name a single variable")
        col = df[found[0]]
    if pd.api.types.is_bool_dtype(col.dtype):
        return _Value(col.to_numpy(dtype=float, na_value=np.nan))
    if pd.api.types.is_numeric_dtype(col.dtype):
        return _Value(col.to_numpy(dtype=float, na_value=np.nan))
    if isinstance(col.dtype, pd.CategoricalDtype) and pd.api.types.is_numeric_dtype(
        col.cat.categories.dtype
    ):
        return _Value(col.astype(float).to_numpy(dtype=float, na_value=np.nan))
    values = col.astype(object).where(col.notna(), "").to_numpy(dtype=object)
    return _Value(np.array([str(v) for v in values], dtype=object), is_str=True)


def _round(x: np.ndarray, y: np.ndarray | None) -> np.ndarray:
    if y is None:
        return np.floor(x + 0.5)
    with np.errstate(invalid="ignore", divide="ignore"):
        return y * np.floor(x / y + 0.5)


def _eval(node: Node, df: pd.DataFrame, n: int) -> _Value:
    if isinstance(node, Num):
        return _Value(np.full(n, node.value))
    if isinstance(node, Missing):
        return _Value(np.full(n, np.nan))
    if isinstance(node, Str):
        return _Value(np.full(n, node.value, dtype=object), is_str=True)
    if isinstance(node, Var):
        return _column(df, node.name, n)
    if isinstance(node, Unary):
        v = _eval(node.operand, df, n)
        if node.op == "-":
            return _Value(-_num(v, "-"))
        a = _num(v, "!")
        return _Value(((a == 0) & ~np.isnan(a)).astype(float))
    if isinstance(node, Binary):
        return _eval_binary(node, df, n)
    if isinstance(node, Call):
        return _eval_call(node, df, n)
    raise StataSyntaxError(f"invalid expression node {node!r}")  # pragma: no cover


def _eval_binary(node: Binary, df: pd.DataFrame, n: int) -> _Value:
    left = _eval(node.left, df, n)
    right = _eval(node.right, df, n)
    op = node.op
    if op in ("&", "|"):
        a, b = _truth(left, op), _truth(right, op)
        return _Value((a & b if op == "&" else a | b).astype(float))
    if op in _COMPARISONS:
        if left.is_str != right.is_str:
            raise StataSyntaxError(f"type mismatch: comparing string with number ({op})")
        if left.is_str:
            return _Value(_str_compare(op, left.arr, right.arr).astype(float))
        return _Value(_stata_compare(op, left.arr, right.arr).astype(float))
    if op == "+" and left.is_str and right.is_str:
        joined = [x + y for x, y in zip(left.arr, right.arr, strict=False)]
        return _Value(np.array(joined, dtype=object), True)
    a, b = _num(left, op), _num(right, op)
    with np.errstate(all="ignore"):
        if op == "+":
            r = a + b
        elif op == "-":
            r = a - b
        elif op == "*":
            r = a * b
        elif op == "/":
            r = a / b
        elif op == "^":
            r = np.power(a, b)
        else:  # pragma: no cover
            raise StataSyntaxError(f"unknown operator {op}")
    r = np.where(np.isfinite(r), r, np.nan)
    return _Value(r)


def _eval_call(node: Call, df: pd.DataFrame, n: int) -> _Value:
    name = node.name
    args = [_eval(a, df, n) for a in node.args]
    if name in ("missing", "mi"):
        out = np.zeros(n, dtype=bool)
        for v in args:
            out |= (v.arr == "") if v.is_str else np.isnan(v.arr)
        return _Value(out.astype(float))
    if name == "inlist":
        z = args[0]
        out = np.zeros(n, dtype=bool)
        for v in args[1:]:
            if v.is_str != z.is_str:
                raise StataSyntaxError("type mismatch in inlist()")
            if z.is_str:
                out |= _str_compare("==", z.arr, v.arr)
            else:
                out |= _stata_compare("==", z.arr, v.arr)
        return _Value(out.astype(float))
    if name == "inrange":
        z, a, b = (_num(v, "inrange()") for v in args)
        # [FN] inrange(): z missing -> 0; a missing -> -inf; b missing -> +inf
        lo = np.where(np.isnan(a), -np.inf, a)
        hi = np.where(np.isnan(b), np.inf, b)
        with np.errstate(invalid="ignore"):
            out = ~np.isnan(z) & (z >= lo) & (z <= hi)
        return _Value(out.astype(float))
    if name == "cond":
        c = _truth(args[0], "cond()")
        if args[1].is_str or args[2].is_str:
            return _Value(np.where(c, args[1].arr, args[2].arr), True)
        return _Value(np.where(c, args[1].arr, args[2].arr))
    if name in ("min", "max"):
        stack = np.vstack([_num(v, name) for v in args])
        with np.errstate(all="ignore"):
            allnan = np.all(np.isnan(stack), axis=0)
            filled = np.where(np.isnan(stack), np.inf if name == "min" else -np.inf, stack)
            r = filled.min(axis=0) if name == "min" else filled.max(axis=0)
        return _Value(np.where(allnan, np.nan, r))
    x = _num(args[0], name + "()")
    with np.errstate(all="ignore"):
        if name == "abs":
            r = np.abs(x)
        elif name in ("log", "ln"):
            r = np.where(x > 0, np.log(np.where(x > 0, x, 1.0)), np.nan)
        elif name == "log10":
            r = np.where(x > 0, np.log10(np.where(x > 0, x, 1.0)), np.nan)
        elif name == "exp":
            r = np.exp(x)
        elif name == "sqrt":
            r = np.where(x >= 0, np.sqrt(np.where(x >= 0, x, 0.0)), np.nan)
        elif name == "int":
            r = np.trunc(x)
        elif name == "round":
            r = _round(x, _num(args[1], "round()") if len(args) > 1 else None)
        elif name == "floor":
            r = np.floor(x)
        elif name == "ceil":
            r = np.ceil(x)
        else:  # pragma: no cover
            raise StataSyntaxError(f"unknown function {name}()")
    r = np.where(np.isfinite(r), r, np.nan)
    return _Value(r)


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
    v = _eval(node, df, n)
    if v.is_str:
        return v.arr
    if is_logical(node):
        return v.arr != 0
    return v.arr.astype(float)


def evaluate_condition(node: Node | str, df: pd.DataFrame) -> np.ndarray:
    """Evaluate an ``if`` condition: true where the value is nonzero (missing is true)."""
    if isinstance(node, str):
        node = parse_expression(node)
    v = _eval(node, df, len(df))
    return _truth(v, "if")
