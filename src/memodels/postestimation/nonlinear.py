"""Nonlinear functions of the estimates by the delta method: ``nlcom`` ([R] nlcom) and
``testnl`` ([R] testnl).

For g(b) with b ~ N(beta, V): Var g(b) ~ G V G', G = dg/db' (computed by central
differences).  ``nlcom`` reports g(b) with se = sqrt(G V G'); ``testnl`` tests
H0: g_1(b) = h_1(b), ..., g_q(b) = h_q(b) with the Wald statistic
W = d' (G V G')^{-1} d, d = g(b) - h(b), G the Jacobian of d, ~ chi2(q) ([R] testnl,
Methods and formulas).  Expressions use Stata's operators and functions
(:mod:`memodels.syntax.expressions`) and its coefficient names
(:mod:`memodels.postestimation.coefnames`); they are evaluated on the parameter vector,
never by Python's ``eval``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import OptionError
from ..syntax.expressions import evaluate
from .coefnames import Coefficients, Space, placeholder
from .wald import Combination, _items, independent_rows, parse_text, split_equals

_NAMED = re.compile(r"\s*([A-Za-z_]\w*)\s*:(?![^\[]*\])")


@dataclass
class _Function:
    """g(b) for one or more expressions in one parameter space."""

    texts: list[str]
    nodes: list
    keys: list[list[str]]
    space: Space

    def values(self, P: np.ndarray) -> np.ndarray:
        """g at every row of P (rows are parameter vectors): shape (rows, len(texts))."""
        out = np.empty((P.shape[0], len(self.nodes)))
        for j, (node, keys) in enumerate(zip(self.nodes, self.keys, strict=True)):
            frame = pd.DataFrame({placeholder(k): P[:, self.space.index(key)]
                                  for k, key in enumerate(keys)}, index=range(P.shape[0]))
            v = evaluate(node, frame)
            if v.dtype == object:
                raise OptionError(f"{self.texts[j]!r}: type mismatch (a string expression)")
            out[:, j] = np.asarray(v, dtype=float)
        return out

    def used(self) -> list[int]:
        return sorted({self.space.index(k) for keys in self.keys for k in keys})


def _function(coefs: Coefficients, texts: list[str]) -> _Function:
    nodes, keys = [], []
    for t in texts:
        node, k = parse_text(coefs, t)
        nodes.append(node)
        keys.append(k)
    space = coefs.space([k for ks in keys for k in ks])
    return _Function(texts, nodes, keys, space)


def _delta(f: _Function, what: str) -> tuple[np.ndarray, np.ndarray]:
    """g(b) and its Jacobian (rows: expressions, columns: the space's parameters)."""
    b = f.space.b
    used = f.used()
    steps = np.array([1e-5 * max(abs(b[i]), 1e-2) for i in used])
    P = np.tile(b, (1 + 2 * len(used), 1))
    for r, (i, h) in enumerate(zip(used, steps, strict=True)):
        P[1 + 2 * r, i] += h
        P[2 + 2 * r, i] -= h
    with np.errstate(all="ignore"):
        vals = f.values(P)
    est = vals[0]
    for t, v in zip(f.texts, est, strict=True):
        if not np.isfinite(v):
            raise OptionError(f"{what}: expression {t.strip()!r} evaluates to missing")
    G = np.zeros((len(f.texts), b.size))
    for r, (i, h) in enumerate(zip(used, steps, strict=True)):
        G[:, i] = (vals[1 + 2 * r] - vals[2 + 2 * r]) / (2 * h)
    if not np.all(np.isfinite(G)):
        raise OptionError(f"{what}: could not calculate numerical derivatives -- "
                          "discontinuous region with missing values encountered")
    return est, G


def nlcom(res, expression: str, level: float | None = None) -> Combination:
    """``nlcom [name:] exp``: g(b) with the delta-method standard error, e.g.
    ``res.nlcom("exp(2*[lns1_1_1]_cons)")`` after ``mixed``."""
    text = str(expression)
    m = _NAMED.match(text)
    if m:
        text = text[m.end():]
    coefs = Coefficients(res)
    f = _function(coefs, [text])
    est, G = _delta(f, "nlcom")
    var = float(G[0] @ f.space.V @ G[0])
    se = float(np.sqrt(max(var, 0.0)))
    return Combination(text.strip(), float(est[0]), se,
                       float(res.level if level is None else level))


@dataclass
class NonlinearTest:
    """``testnl``: the Wald test of nonlinear constraints ([R] testnl)."""

    constraints: list[str]
    chi2: float
    df: int
    dropped: list[int]

    @property
    def p(self) -> float:
        return float(stats.chi2.sf(self.chi2, self.df)) if self.df > 0 else np.nan

    @property
    def pvalue(self) -> float:
        return self.p

    F = None  # no small-sample version (the session records F only when set)
    ddf = None

    def __str__(self) -> str:
        lines = [f"  ({i + 1})  {c}" for i, c in enumerate(self.constraints)]
        for d in self.dropped:
            lines.append(f"       Constraint {d + 1} dropped")
        lines += ["", f"{f'chi2({self.df})':>22} = {self.chi2:>11.2f}",
                  f"{'Prob > chi2':>22} = {self.p:>11.4f}"]
        return "\n".join(lines)


def testnl(res, hypothesis) -> NonlinearTest:
    """``testnl exp1 = exp2 [(exp3 = exp4) ...]``: ``res.testnl("exp(_b[week]) = 6")`` or
    ``res.testnl(["_b[week] = 1/_b[_cons]", "[lns1_1_1]_cons = [lnsig_e]_cons"])``."""
    items = _items(hypothesis)
    if not items or not all(items):
        raise OptionError("testnl: a constraint exp = exp is required")
    lhs, rhs = [], []
    for item in items:
        sides = split_equals(item)
        if len(sides) == 1:
            raise OptionError(f"testnl: {item!r} must have the form exp = exp")
        if len(sides) > 2 or not all(s.strip() for s in sides):
            raise OptionError(f"testnl: {item!r} must have the form exp = exp (one '=')")
        lhs.append(sides[0])
        rhs.append(sides[1])
    coefs = Coefficients(res)
    f = _function(coefs, [f"({a}) - ({b})" for a, b in zip(lhs, rhs, strict=True)])
    d, G = _delta(f, "testnl")
    keep, dropped = independent_rows(G)
    if not keep:
        raise OptionError("testnl: the constraints do not depend on the estimates")
    Gk, dk = G[keep], d[keep]
    M = Gk @ f.space.V @ Gk.T
    try:
        stat = float(dk @ np.linalg.solve(M, dk))
    except np.linalg.LinAlgError:
        stat = float(dk @ np.linalg.pinv(M) @ dk)
    texts = [f"{a.strip()} = {b.strip()}" for a, b in zip(lhs, rhs, strict=True)]
    return NonlinearTest(texts, stat, len(keep), dropped)


__all__ = ["NonlinearTest", "nlcom", "testnl"]
