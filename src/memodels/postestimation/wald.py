"""Wald tests and linear combinations of the estimates: ``test``, ``testparm``,
``lincom`` ([R] test, [R] testparm, [R] lincom); ``nlcom`` and ``testnl`` are in
:mod:`memodels.postestimation.nonlinear`.

Coefficients are written as in Stata (:mod:`memodels.postestimation.coefnames`):
``week``, ``_b[week]``, ``[weight]week``, ``0.girl#c.age``, ``2.drug``, and the
equations of e(b): ``[lns1_1_1]_cons``, ``_b[lnsig_e:_cons]`` after ``mixed``;
``_b[var(_cons[id]):_cons]``, ``_b[/var(_cons[id])]``, ``_b[/cut1]`` after the me
commands.  Expressions are parsed by :mod:`memodels.syntax.expressions`.

* ``test``: H0 R b = r; W = (Rb - r)'(R V R')^{-1}(Rb - r) ~ chi2(rank), constraints
  that are linearly dependent on earlier ones are dropped (Stata's "constraint #
  dropped").  ``"a = b = 0"`` means a - b = 0 and a = 0 (as Stata writes it).
* ``lincom``: c'b, se = sqrt(c'Vc), z, p and the normal CI.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import MemodelsError, OptionError
from ..syntax.expr_ast import Binary, Call, Node, Num, Unary, Var, children, postorder
from ..syntax.expressions import parse_expression
from .coefnames import Coefficients, closing_bracket, placeholder
from .tables import fmt

# ------------------------------------------------------------- linear forms
Linear = tuple[dict[str, float], float]


def parse_text(coefs: Coefficients, text: str) -> tuple[Node, list[str]]:
    """The expression tree of ``text`` with every coefficient a placeholder variable
    ``__b0``, ``__b1``... and the coefficients' keys in that order."""
    sub, keys = coefs.substitute(text)
    if not sub.strip():
        raise OptionError(f"expression {text!r} is empty")
    try:
        node = parse_expression(sub, [placeholder(k) for k in range(len(keys))])
    except MemodelsError as exc:
        msg = str(exc).replace(sub, text.strip())
        for k in reversed(range(len(keys))):
            msg = msg.replace(f" {placeholder(k)} ", coefs.display.get(keys[k], keys[k]))
        raise OptionError(f"invalid expression {text.strip()!r}: {msg}") from None
    return node, keys


def _linear_node(node: Node, args: list[Linear], keys: list[str], text: str) -> Linear:
    def fail(why: str) -> OptionError:
        return OptionError(f"{text.strip()!r} is not a linear expression ({why})")

    if isinstance(node, Num):
        if not np.isfinite(node.value):
            raise fail("a number is too large")
        return {}, float(node.value)
    if isinstance(node, Var):
        return {keys[int(node.name[3:])]: 1.0}, 0.0
    if isinstance(node, Unary) and node.op == "-":
        return _scale(args[0], -1.0)
    if isinstance(node, Binary) and node.op in ("+", "-"):
        return _combine(args[0], args[1], 1.0 if node.op == "+" else -1.0)
    if isinstance(node, Binary) and node.op == "*":
        (ca, ka), (cb, kb) = args
        if ca and cb:
            raise fail("product of coefficients")
        return _scale(args[1], ka) if not ca else _scale(args[0], kb)
    if isinstance(node, Binary) and node.op in ("/", "^"):
        (ca, ka), (cb, kb) = args
        if cb or (node.op == "^" and ca):
            raise fail("division by a coefficient" if node.op == "/" else "power")
        if node.op == "/":
            if kb == 0:
                raise fail("division by zero")
            return _scale(args[0], 1.0 / kb)
        with np.errstate(all="ignore"):
            v = float(np.power(ka, kb))
        if not np.isfinite(v):
            raise fail(f"{ka:g}^{kb:g} is missing")
        return {}, v
    if isinstance(node, Binary):
        raise fail(f"operator {node.op}")
    if isinstance(node, Call):
        raise fail(f"function {node.name}()")
    raise fail("missing value or string")


def linear_form(coefs: Coefficients, text: str) -> Linear:
    """``text`` as (coefficients by key, constant); refused unless linear."""
    node, keys = parse_text(coefs, text)
    vals: dict[int, Linear] = {}
    for nd in postorder(node):
        args = [vals.pop(id(c)) for c in children(nd)]
        vals[id(nd)] = _linear_node(nd, args, keys, text)
    coef, const = vals[id(node)]
    return {k: v for k, v in coef.items() if v != 0}, const


def _combine(a: Linear, b: Linear, sign: float) -> Linear:
    out = dict(a[0])
    for k, v in b[0].items():
        out[k] = out.get(k, 0.0) + sign * v
    return out, a[1] + sign * b[1]


def _scale(a: Linear, s: float) -> Linear:
    return {k: v * s for k, v in a[0].items()}, a[1] * s


_EQUALS = re.compile(r"(?<![=<>!~])=(?!=)")


def split_equals(text: str) -> list[str]:
    """``a = b = c`` -> the sides (Stata's ``test``/``testnl`` equality syntax)."""
    return _EQUALS.split(text)


# ---------------------------------------------------------------------- test
@dataclass
class WaldTest:
    """A Wald test: chi2(df), or -- with ``small`` after ``mixed, dfmethod()`` -- the
    F(df, ddf) test of [ME] mixed postestimation, example 6 (``F`` is the method's
    statistic: the Kenward-Roger scaled F, else chi2/df)."""

    constraints: list[str]
    chi2: float
    df: int
    dropped: list[int] = field(default_factory=list)
    F: float | None = None
    ddf: float | None = None

    @property
    def p(self) -> float:
        if self.F is not None and self.ddf is not None:
            return float(stats.f.sf(self.F, self.df, self.ddf))
        return float(stats.chi2.sf(self.chi2, self.df)) if self.df > 0 else np.nan

    @property
    def pvalue(self) -> float:
        return self.p

    def __str__(self) -> str:
        lines = [f" ({i + 1:>2})  {c}" for i, c in enumerate(self.constraints)]
        for d in self.dropped:
            lines.append(f"       Constraint {d + 1} dropped")
        if self.F is not None and self.ddf is not None:
            lines += ["", f"       F({self.df:>3}, {self.ddf:>6.2f}) = {self.F:>8.2f}",
                      f"            Prob > F = {self.p:>10.4f}"]
        else:
            lines += ["", f"           chi2({self.df:>3}) = {self.chi2:>8.2f}",
                      f"         Prob > chi2 = {self.p:>10.4f}"]
        return "\n".join(lines)


def _constraint_text(coef: dict, rhs: float, display: dict[str, str]) -> str:
    """Stata's listing of a constraint: ``[weight]week - [weight]_cons = 0``."""
    parts = []
    for nm, c in coef.items():
        if c == 0:
            continue
        sign = "-" if c < 0 else "+"
        mag = abs(c)
        shown = display.get(nm, nm)
        body = shown if mag == 1 else f"{mag:g}*{shown}"
        parts.append((sign, body))
    if not parts:
        return f"0 = {rhs:g}"
    text = ("- " if parts[0][0] == "-" else "") + parts[0][1]
    for sign, body in parts[1:]:
        text += f" {sign} {body}"
    return f"{text} = {rhs:g}"


def _items(hyp) -> list[str]:
    items = [hyp] if isinstance(hyp, str) else list(hyp)
    out = []
    for item in items:
        item = str(item).strip()
        if item.startswith("(") and item.endswith(")") and "=" in item:
            item = item[1:-1]
        out.append(item)
    return out


def _equations_only(item: str) -> list[str]:
    """``[eq1] [eq2]`` -> ["eq1", "eq2"]; [] when ``item`` is anything else."""
    out: list[str] = []
    i, text = 0, item.strip()
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        if text[i] != "[":
            return []
        try:
            end = closing_bracket(text, i)
        except OptionError:
            return []
        if end + 1 < len(text) and not text[end + 1].isspace():
            return []
        out.append(text[i + 1:end])
        i = end + 1
    return out


def _parse_constraints(coefs: Coefficients, hyp) -> list[tuple[dict, float]]:
    out = []
    for item in _items(hyp):
        sides = split_equals(item)
        eqs = _equations_only(item)
        if eqs:  # test [eq1] [eq2]: every coefficient of the equations is 0
            out += [({k: 1.0}, 0.0) for eq in eqs for k in coefs.equation(eq)]
            continue
        if len(sides) == 1:
            sub, keys = coefs.substitute(item)
            if keys and re.fullmatch(r"(?:\s*__b\d+\s*)+", sub):  # test x1 x2
                out += [({keys[int(k)]: 1.0}, 0.0) for k in re.findall(r"__b(\d+)", sub)]
                continue
            coef, const = linear_form(coefs, item)
            out.append((coef, -const))
            continue
        if any(not s.strip() for s in sides):
            raise OptionError(f"test: {item!r} has an empty side of '='")
        first_c, first_k = linear_form(coefs, sides[0])
        for side in sides[1:]:
            c, k = linear_form(coefs, side)
            coef, _ = _combine((first_c, 0.0), (c, 0.0), -1.0)
            out.append(({n: v for n, v in coef.items() if v != 0}, k - first_k))
    return out


def wald_test(res, coefs: list[tuple[dict, float]], small: bool = False,
              names: Coefficients | None = None) -> WaldTest:
    """The Wald test of H0: sum(c * b) = r for every (c, r) in ``coefs``."""
    names = names if names is not None else Coefficients(res)
    space = names.space([k for c, _ in coefs for k in c])
    b, V = space.b, space.V
    R = np.zeros((len(coefs), len(space.names)))
    r = np.zeros(len(coefs))
    for i, (c, k) in enumerate(coefs):
        for nm, v in c.items():
            R[i, space.index(nm)] += v
        r[i] = k
    keep, dropped = [], []
    for i in range(R.shape[0]):
        trial = keep + [i]
        if np.linalg.matrix_rank(R[trial], tol=1e-10) == len(trial):
            keep.append(i)
        else:
            dropped.append(i)
    Rk, rk = R[keep], r[keep]
    d = Rk @ b - rk
    M = Rk @ V @ Rk.T
    try:
        stat = float(d @ np.linalg.solve(M, d))
    except np.linalg.LinAlgError:
        stat = float(d @ np.linalg.pinv(M) @ d)
    texts = [_constraint_text(c, k, names.display) for c, k in coefs]
    out = WaldTest(texts, stat, len(keep), dropped)
    if small:
        out.F, out.ddf = _small_f(res, space.names, Rk, rk)
    return out


def _small_ddf(res):
    ddf = (getattr(res, "extra", None) or {}).get("ddf")
    if ddf is None or ddf.contrast is None:
        raise OptionError("option small requires that dfmethod() be specified with mixed "
                          "(or posted by estat df, post)")
    return ddf


def _small_f(res, names: list[str], R: np.ndarray, r: np.ndarray):
    """F and DDF of H0: R b = r under the posted DDF method; the fixed effects only."""
    ddf = _small_ddf(res)
    fixed = list(res.design.kept_names)
    lmat = np.zeros((R.shape[0], len(fixed)))
    for j, nm in enumerate(names):
        if np.any(R[:, j] != 0):
            if nm not in fixed:
                raise OptionError(f"option small: {nm} is not a fixed effect")
            lmat[:, fixed.index(nm)] = R[:, j]
    f, _, den = ddf.contrast(lmat, r)
    if den is None:
        return None, None  # DFs differ: the large-sample chi2 test (Stata's rule)
    return float(f), float(den)


def test(res, hypothesis, small: bool = False) -> WaldTest:
    """``test``: ``res.test("week = 0")``, ``res.test(["x1", "x2"])``,
    ``res.test("a = b = 0")``, ``res.test(["(a = b)", "(c = 0)"])``,
    ``res.test("[lns1_1_1]_cons = [lns1_1_2]_cons")``; ``small=True`` for the
    small-sample F test after ``mixed, dfmethod()``."""
    coefs = Coefficients(res)
    return wald_test(res, _parse_constraints(coefs, hypothesis), small, coefs)


def testparm(res, varlist: str | list[str], small: bool = False) -> WaldTest:
    """``testparm``: every kept coefficient of the named terms is 0.  Terms are written
    as in Stata: ``i.drug``, ``drug`` (its indicators), ``c.age#c.age``, ``x*``."""
    items = varlist.split() if isinstance(varlist, str) else list(varlist)
    design = getattr(res, "design", None)
    fixed = [r for r in res.rows if r.section == "fixed" and r.status == "ok"]
    chosen: list[str] = []
    for it in items:
        pat = it.strip()
        plain = re.sub(r"^(?:i|ib\w*|c)\.", "", pat)
        hits = []
        for r in fixed:
            term = r.block or ""
            if design is not None:
                col = next((c for c in design.columns if c.name == r.name), None)
                term = col.term if col is not None else term
            if any(fnmatch.fnmatchcase(x, pat) or fnmatch.fnmatchcase(x, plain)
                   for x in (r.name, term)) and r.name != "_cons" or (
                    pat == "_cons" and r.name == "_cons"):
                hits.append(r.name)
        if not hits:
            raise OptionError(f"testparm: {it} not found in the estimated fixed effects")
        chosen += [h for h in hits if h not in chosen]
    return wald_test(res, [({nm: 1.0}, 0.0) for nm in chosen], small)


# -------------------------------------------------------------------- lincom
@dataclass
class Combination:
    """An estimate with its SE; z inference, or t(df) when ``df`` is set (lincom, small)."""

    expression: str
    estimate: float
    se: float
    level: float = 95.0
    df: float | None = None

    @property
    def z(self) -> float:
        return self.estimate / self.se if self.se > 0 else np.nan

    @property
    def p(self) -> float:
        if not self.se > 0:
            return np.nan
        if self.df is not None:
            return float(2 * stats.t.sf(abs(self.z), self.df))
        return float(2 * stats.norm.sf(abs(self.z)))

    @property
    def ci(self) -> tuple[float, float]:
        q = 0.5 + self.level / 200
        c = stats.t.ppf(q, self.df) if self.df is not None else stats.norm.ppf(q)
        return (self.estimate - c * self.se, self.estimate + c * self.se)

    def __str__(self) -> str:
        lo, hi = self.ci
        stat = "t    P>|t|" if self.df is not None else "z    P>|z|"
        return "\n".join([
            f" ( 1)  {self.expression}", "",
            "-" * 78,
            f"{'':>12} |      Coef.   Std. Err.      {stat}     [{self.level:g}% Conf. "
            "Interval]",
            "-" * 13 + "+" + "-" * 64,
            f"{'(1)':>12} | {fmt(self.estimate)} {fmt(self.se)} {self.z:>8.2f}   "
            f"{self.p:>6.3f}    {fmt(lo)} {fmt(hi)}",
            "-" * 78])


def lincom(res, expression: str, level: float | None = None,
           small: bool = False) -> Combination:
    """Stata's ``lincom``; ``small=True`` after ``mixed, dfmethod()`` gives the t test with
    the method's DF for the combination (and, for Kenward-Roger, its adjusted SE)."""
    coefs = Coefficients(res)
    coef, const = linear_form(coefs, expression)
    space = coefs.space(list(coef))
    c = np.zeros(len(space.names))
    for k, v in coef.items():
        c[space.index(k)] += v
    est = float(c @ space.b + const)
    se = float(np.sqrt(max(c @ space.V @ c, 0.0)))
    text = _constraint_text(coef, 0.0, coefs.display).rsplit(" = ", 1)[0]
    if const:
        text += f" + {const:g}" if const > 0 else f" - {-const:g}"
    lev = float(res.level if level is None else level)
    if small:
        # the posted VCE is already Kenward-Roger's adjusted one when that method is used
        _, ddf = _small_f(res, space.names, c[None, :], np.array([-const]))
        if ddf is not None:
            return Combination(text + " = 0", est, se, lev, ddf)
    return Combination(text + " = 0", est, se, lev)


def as_frame(result: Combination) -> pd.DataFrame:
    lo, hi = result.ci
    return pd.DataFrame([{"estimate": result.estimate, "se": result.se, "z": result.z,
                          "p": result.p, "lower": lo, "upper": hi}],
                        index=[result.expression])
