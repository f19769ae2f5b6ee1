"""Evaluating a Stata expression tree on a DataFrame ([U] 13 Functions and expressions,
12.2.1 Missing values): numeric missing is NaN and larger than every number, arithmetic
with missing, division by zero, overflow and arguments outside a function's domain give
missing.  The tree is evaluated bottom-up without recursion (:func:`expr_ast.postorder`),
so a sum of thousands of terms evaluates as well as a short one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats

from memodels.errors import StataSyntaxError, VariableNotFoundError
from memodels.syntax.expr_ast import (
    COMPARISONS,
    Binary,
    Call,
    Missing,
    Node,
    Num,
    Str,
    Unary,
    Var,
    children,
    postorder,
)
from memodels.syntax.varlist import resolve_name

_COMPARISONS = COMPARISONS


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


def truth_value(v: _Value, where: str) -> np.ndarray:
    """An expression value as a logical vector: nonzero is true and missing (NaN) is
    nonzero, hence true ([U] 13.2.4 logical operators); ``where`` names the operator
    in the error a string operand raises."""
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


def eval_tree(node: Node, df: pd.DataFrame, n: int) -> _Value:
    """The value of every node, children first, with an explicit stack."""
    values: dict[int, _Value] = {}
    for nd in postorder(node):
        args = [values.pop(id(c)) for c in children(nd)]
        values[id(nd)] = _eval_node(nd, args, df, n)
    return values[id(node)]


def _eval_node(node: Node, args: list[_Value], df: pd.DataFrame, n: int) -> _Value:
    if isinstance(node, Num):
        return _Value(np.full(n, node.value if np.isfinite(node.value) else np.nan))
    if isinstance(node, Missing):
        return _Value(np.full(n, np.nan))
    if isinstance(node, Str):
        return _Value(np.full(n, node.value, dtype=object), is_str=True)
    if isinstance(node, Var):
        return _column(df, node.name, n)
    if isinstance(node, Unary):
        if node.op == "-":
            return _Value(-_num(args[0], "-"))
        a = _num(args[0], "!")
        return _Value(((a == 0) & ~np.isnan(a)).astype(float))
    if isinstance(node, Binary):
        return _eval_binary(node, args[0], args[1])
    if isinstance(node, Call):
        return _eval_call(node, args, n)
    raise StataSyntaxError(f"invalid expression node {type(node).__name__}")  # pragma: no cover


def _eval_binary(node: Binary, left: _Value, right: _Value) -> _Value:
    op = node.op
    if op in ("&", "|"):
        a, b = truth_value(left, op), truth_value(right, op)
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


def _eval_call(node: Call, args: list[_Value], n: int) -> _Value:
    name = node.name
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
        c = truth_value(args[0], "cond()")
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
        elif name == "mod":  # [FN] mod(x, y) = x - y*floor(x/y); missing when y <= 0
            y = _num(args[1], "mod()")
            r = np.where(y > 0, x - y * np.floor(x / np.where(y > 0, y, 1.0)), np.nan)
        elif name == "sum":  # [FN] sum(x): running sum, missing treated as 0
            r = np.cumsum(np.where(np.isnan(x), 0.0, x))
        elif name in _UNIT:
            r = _UNIT[name](x)
        else:  # pragma: no cover
            raise StataSyntaxError(f"unknown function {name}()")
    r = np.where(np.isfinite(r), r, np.nan)
    return _Value(r)




def _inside(lo: float, hi: float, f: Callable[[np.ndarray], Any]) -> Callable[[np.ndarray], Any]:
    """``f`` on the open interval (lo, hi), missing outside it."""

    def g(x: np.ndarray) -> np.ndarray:
        ok = (x > lo) & (x < hi)
        return np.where(ok, f(np.where(ok, x, 0.5 * (lo + hi) if np.isfinite(lo + hi)
                                       else 0.0)), np.nan)

    return g


# [FN] Mathematical functions and Statistical functions: invlogit, logit, normal...
_UNIT: dict[str, Callable[[np.ndarray], Any]] = {
    "invlogit": special.expit,
    "logit": _inside(0.0, 1.0, special.logit),
    "normal": stats.norm.cdf,
    "invnormal": _inside(0.0, 1.0, stats.norm.ppf),
    "tanh": np.tanh,
    "atanh": _inside(-1.0, 1.0, np.arctanh),
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
}
