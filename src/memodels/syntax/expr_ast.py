"""The syntax tree of a Stata expression ([U] 13 Functions and expressions) and an
iterative post-order walk, so that a long flat sum (a left-deep tree of hundreds of
levels) or deep nesting is walked without Python recursion."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass


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

# (min args, max args or None); [FN] Mathematical functions, Statistical functions
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
    "mod": (2, 2),
    "sum": (1, 1),
    "min": (1, None),
    "max": (1, None),
    "cond": (3, 3),
    "invlogit": (1, 1),
    "logit": (1, 1),
    "normal": (1, 1),
    "invnormal": (1, 1),
    "tanh": (1, 1),
    "atanh": (1, 1),
    "sin": (1, 1),
    "cos": (1, 1),
    "tan": (1, 1),
}

COMPARISONS = ("==", "!=", "~=", ">", "<", ">=", "<=")
LOGICAL_FUNCS = ("missing", "mi", "inlist", "inrange")


def children(node: Node) -> tuple[Node, ...]:
    """The direct sub-expressions of ``node``."""
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Call):
        return node.args
    return ()


def postorder(node: Node) -> Iterator[Node]:
    """Every node of the tree, children before their parent, without recursion."""
    stack: list[tuple[Node, bool]] = [(node, False)]
    while stack:
        n, expanded = stack.pop()
        if expanded:
            yield n
            continue
        stack.append((n, True))
        for c in reversed(children(n)):
            stack.append((c, False))


__all__ = ["Binary", "COMPARISONS", "Call", "FUNCTIONS", "LOGICAL_FUNCS", "Missing",
           "Node", "Num", "Str", "Unary", "Var", "children", "postorder"]
