"""Wald tests and combinations of the estimates: ``test``, ``testparm``, ``lincom``,
``nlcom`` ([R] test, [R] testparm, [R] lincom, [R] nlcom).

The coefficient vector is ``res.params`` with ``res.vcov`` (fixed effects as Stata's
e(b); variance components in the reported metric, named ``var(_cons[id])``...).
Names may be written as in Stata: ``week``, ``_b[week]``, ``[weight]week``,
``0.girl#c.age``, ``2.drug``.

* ``test``: H0 R b = r; W = (Rb - r)'(R V R')^{-1}(Rb - r) ~ chi2(rank), constraints
  that are linearly dependent on earlier ones are dropped (Stata's "constraint #
  dropped").  ``"a = b = 0"`` means a - b = 0 and a = 0 (as Stata writes it).
* ``lincom``: c'b, se = sqrt(c'Vc), z, p and the normal CI.
* ``nlcom``: g(b) with the delta method, gradient by central differences.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import OptionError
from .tables import fmt

_NUM = re.compile(r"\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?")


# ------------------------------------------------------------------ tokenizer
def _names(res) -> list[str]:
    return list(res.params.index)


def _aliases(names: list[str]) -> dict[str, str]:
    """Accepted spellings -> parameter name (``0b.girl#c.age`` for ``0.girl#c.age`` ...)."""
    out = {}
    for nm in names:
        out[nm] = nm
        alt = re.sub(r"(\d+)[bno]+\.", r"\1.", nm)
        out.setdefault(alt, nm)
    return out


def _tokenize(text: str, names: list[str]) -> list[tuple[str, object]]:
    alias = _aliases(names)
    keys = sorted(alias, key=len, reverse=True)
    toks: list[tuple[str, object]] = []
    i, s = 0, text
    while i < len(s):
        ch = s[i]
        if ch.isspace():
            i += 1
            continue
        if s.startswith("_b[", i):
            j = s.index("]", i)
            nm = s[i + 3:j].strip()
            nm = re.sub(r"(\d+)[bno]+\.", r"\1.", nm)
            if nm not in alias:
                raise OptionError(f"{nm} not found in the estimates")
            toks.append(("name", alias[nm]))
            i = j + 1
            continue
        if ch == "[":  # [eq]name
            j = s.index("]", i)
            i = j + 1
            continue
        hit = None
        for k in keys:
            if s.startswith(k, i):
                end = i + len(k)
                if end < len(s) and (s[end].isalnum() or s[end] in "_."):
                    continue
                hit = k
                break
        if hit is None:
            # a spelling with base markers, e.g. 0b.girl#c.age
            m = re.match(r"[A-Za-z0-9_.#]+", s[i:])
            if m and not _NUM.fullmatch(m.group(0)):
                cand = re.sub(r"(\d+)[bno]+\.", r"\1.", m.group(0))
                if cand in alias:
                    toks.append(("name", alias[cand]))
                    i += len(m.group(0))
                    continue
                if re.match(r"[A-Za-z_]", m.group(0)) and s[i + len(m.group(0)):].lstrip()[:1] \
                        != "(":
                    raise OptionError(f"{m.group(0)} not found in the estimates")
        if hit is not None:
            toks.append(("name", alias[hit]))
            i += len(hit)
            continue
        m = _NUM.match(s, i)
        if m:
            toks.append(("num", float(m.group(0))))
            i = m.end()
            continue
        if ch in "+-*/()=^,":
            toks.append(("op", ch))
            i += 1
            continue
        m = re.match(r"[A-Za-z_][A-Za-z_0-9]*", s[i:])
        if m:
            toks.append(("func", m.group(0)))
            i += len(m.group(0))
            continue
        raise OptionError(f"invalid expression: {text!r}")
    return toks


# ------------------------------------------------------------- linear parser
class _Linear:
    def __init__(self, toks):
        self.toks, self.pos = toks, 0

    def peek(self):
        return self.toks[self.pos] if self.pos < len(self.toks) else ("end", None)

    def take(self):
        t = self.peek()
        self.pos += 1
        return t

    def expr(self):
        coef, const = self.term()
        while self.peek() in (("op", "+"), ("op", "-")):
            sign = 1.0 if self.take()[1] == "+" else -1.0
            c2, k2 = self.term()
            coef = _add(coef, c2, sign)
            const += sign * k2
        return coef, const

    def term(self):
        coef, const = self.factor()
        while self.peek() in (("op", "*"), ("op", "/")):
            op = self.take()[1]
            c2, k2 = self.factor()
            if op == "*":
                if coef and c2:
                    raise OptionError("not a linear expression (product of coefficients)")
                if c2:
                    coef, const = _scale(c2, const), const * k2
                else:
                    coef, const = _scale(coef, k2), const * k2
            else:
                if c2:
                    raise OptionError("not a linear expression (division by a coefficient)")
                coef, const = _scale(coef, 1 / k2), const / k2
        return coef, const

    def factor(self):
        kind, val = self.take()
        if kind == "op" and val == "-":
            c, k = self.factor()
            return _scale(c, -1.0), -k
        if kind == "op" and val == "+":
            return self.factor()
        if kind == "num":
            return {}, float(val)
        if kind == "name":
            return {val: 1.0}, 0.0
        if kind == "op" and val == "(":
            out = self.expr()
            if self.take() != ("op", ")"):
                raise OptionError("unbalanced parentheses")
            return out
        raise OptionError(f"invalid linear expression near {val!r}")


def _add(a: dict, b: dict, sign: float) -> dict:
    out = dict(a)
    for k, v in b.items():
        out[k] = out.get(k, 0.0) + sign * v
    return out


def _scale(a: dict, s: float) -> dict:
    return {k: v * s for k, v in a.items()}


def _linear(text: str, names: list[str]) -> tuple[dict, float]:
    p = _Linear(_tokenize(text, names))
    out = p.expr()
    if p.peek()[0] != "end":
        raise OptionError(f"invalid expression: {text!r}")
    return out


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


def _constraint_text(coef: dict, rhs: float, depvar: str) -> str:
    parts = []
    for nm, c in coef.items():
        if c == 0:
            continue
        sign = "-" if c < 0 else "+"
        mag = abs(c)
        body = f"[{depvar}]{nm}" if mag == 1 else f"{mag:g}*[{depvar}]{nm}"
        parts.append((sign, body))
    if not parts:
        return f"0 = {rhs:g}"
    text = ("- " if parts[0][0] == "-" else "") + parts[0][1]
    for sign, body in parts[1:]:
        text += f" {sign} {body}"
    return f"{text} = {rhs:g}"


def _parse_constraints(res, hyp) -> list[tuple[dict, float]]:
    names = _names(res)
    items = [hyp] if isinstance(hyp, str) else list(hyp)
    out = []
    for item in items:
        item = str(item).strip()
        if item.startswith("(") and item.endswith(")") and "=" in item:
            item = item[1:-1]
        if "=" not in item:
            toks = _tokenize(item, names)
            if all(t[0] == "name" for t in toks) and toks:
                out += [({t[1]: 1.0}, 0.0) for t in toks]  # test x1 x2
                continue
            out.append(_linear(item, names))
            out[-1] = (out[-1][0], -out[-1][1])
            continue
        sides = [_linear(s, names) for s in item.split("=")]
        first_c, first_k = sides[0]
        for c, k in sides[1:]:
            coef = _add(first_c, c, -1.0)
            out.append((coef, k - first_k))
    return out


def wald_test(res, coefs: list[tuple[dict, float]], small: bool = False) -> WaldTest:
    names = _names(res)
    b = res.params.to_numpy(float)
    V = res.vcov.loc[names, names].to_numpy(float)
    R = np.zeros((len(coefs), len(names)))
    r = np.zeros(len(coefs))
    for i, (c, k) in enumerate(coefs):
        for nm, v in c.items():
            R[i, names.index(nm)] += v
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
    texts = [_constraint_text(c, k, res.depvar) for c, k in coefs]
    out = WaldTest(texts, stat, len(keep), dropped)
    if small:
        out.F, out.ddf = _small_f(res, names, Rk, rk)
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
    ``res.test("a = b = 0")``, ``res.test(["(a = b)", "(c = 0)"])``; ``small=True`` for the
    small-sample F test after ``mixed, dfmethod()``."""
    return wald_test(res, _parse_constraints(res, hypothesis), small)


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
    names = _names(res)
    coef, const = _linear(expression, names)
    c = np.array([coef.get(nm, 0.0) for nm in names])
    b = res.params.to_numpy(float)
    V = res.vcov.loc[names, names].to_numpy(float)
    est = float(c @ b + const)
    se = float(np.sqrt(max(c @ V @ c, 0.0)))
    text = _constraint_text(coef, 0.0, res.depvar).rsplit(" = ", 1)[0]
    if const:
        text += f" + {const:g}" if const > 0 else f" - {-const:g}"
    lev = float(res.level if level is None else level)
    if small:
        _, ddf = _small_f(res, names, c[None, :], np.array([-const]))
        if ddf is not None:
            # the SE from e(V_df): Kenward-Roger's adjusted VCE of the fixed effects
            fixed = list(res.design.kept_names)
            cf = np.array([coef.get(nm, 0.0) for nm in fixed])
            vdf = _small_ddf(res).vcov
            se = float(np.sqrt(max(cf @ vdf @ cf, 0.0)))
            return Combination(text + " = 0", est, se, lev, ddf)
    return Combination(text + " = 0", est, se, lev)


# --------------------------------------------------------------------- nlcom
_FUNCS = {
    "exp": np.exp, "log": np.log, "ln": np.log, "sqrt": np.sqrt, "abs": np.abs,
    "invlogit": lambda x: 1 / (1 + np.exp(-x)), "logit": lambda x: np.log(x / (1 - x)),
    "normal": stats.norm.cdf, "tanh": np.tanh, "atanh": np.arctanh, "sin": np.sin,
    "cos": np.cos, "log10": np.log10,
}


def _compile(expression: str, names: list[str]):
    toks = _tokenize(expression, names)
    pieces = []
    for kind, val in toks:
        if kind == "name":
            pieces.append(f"_p[{names.index(val)}]")
        elif kind == "num":
            pieces.append(repr(val))
        elif kind == "func":
            if val not in _FUNCS:
                raise OptionError(f"nlcom: unknown function or name {val}")
            pieces.append(f"_f[{val!r}]")
        elif kind == "op":
            pieces.append("**" if val == "^" else val)
    code = " ".join(pieces)
    compiled = compile(code, "<nlcom>", "eval")

    def g(p: np.ndarray) -> float:
        return float(eval(compiled, {"__builtins__": {}}, {"_p": p, "_f": _FUNCS}))

    return g


def nlcom(res, expression: str, level: float | None = None) -> Combination:
    """Delta method: se = sqrt(g' V g), g = dG/db by central differences."""
    if ":" in expression:
        expression = expression.split(":", 1)[1]
    names = _names(res)
    g = _compile(expression, names)
    b = res.params.to_numpy(float)
    V = res.vcov.loc[names, names].to_numpy(float)
    est = g(b)
    grad = np.zeros(b.size)
    used = [i for i in range(b.size) if f"_p[{i}]" in _compile_text(expression, names)]
    for i in used:
        h = 1e-5 * max(abs(b[i]), 1e-2)
        bp, bm = b.copy(), b.copy()
        bp[i] += h
        bm[i] -= h
        grad[i] = (g(bp) - g(bm)) / (2 * h)
    se = float(np.sqrt(max(grad @ V @ grad, 0.0)))
    return Combination(expression.strip(), est, se, float(res.level if level is None else level))


def _compile_text(expression: str, names: list[str]) -> str:
    toks = _tokenize(expression, names)
    return " ".join(f"_p[{names.index(v)}]" for k, v in toks if k == "name")


def as_frame(result: Combination) -> pd.DataFrame:
    lo, hi = result.ci
    return pd.DataFrame([{"estimate": result.estimate, "se": result.se, "z": result.z,
                          "p": result.p, "lower": lo, "upper": hi}],
                        index=[result.expression])
