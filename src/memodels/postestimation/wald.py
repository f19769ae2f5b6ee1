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

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import MemodelsError, OptionError
from ..results.survey_stats import adjusted_wald_f
from ..syntax.expr_ast import Binary, Call, Node, Num, Unary, Var, children, postorder
from ..syntax.expressions import parse_expression
from .coefnames import Coefficients, closing_bracket, placeholder
from .wald_results import EFORM, Combination, WaldTest, adjust, mtest_method

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
              names: Coefficients | None = None, mtest: str | None = None) -> WaldTest:
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
    keep, dropped = independent_rows(R)
    Rk, rk = R[keep], r[keep]
    d = Rk @ b - rk
    M = Rk @ V @ Rk.T
    try:
        stat = float(d @ np.linalg.solve(M, d))
    except np.linalg.LinAlgError:
        stat = float(d @ np.linalg.pinv(M) @ d)
    texts = [_constraint_text(c, k, names.display) for c, k in coefs]
    out = WaldTest(texts, stat, len(keep), dropped, linear=list(coefs))
    design_df = survey_df(res)
    if design_df is not None:  # svy: the adjusted Wald F ([SVY] svy postestimation)
        if mtest is not None:
            raise OptionError("test, mtest after svy estimation is not supported "
                              "(the adjusted F of each constraint); test them one at a "
                              "time")
        f, _, df2 = adjusted_wald_f(stat, len(keep), design_df)
        out.F, out.ddf = f, df2
        return out
    jk_df = jackknife_df(res)
    if jk_df is not None and mtest is None:  # [R] jackknife: F = W/k on (k, df_r)
        out.F, out.ddf = stat / len(keep) if len(keep) else np.nan, jk_df
        return out
    if small:
        out.F, out.ddf = _small_f(res, space.names, Rk, rk, names.display)
    if mtest is not None:
        if out.F is not None:
            raise OptionError("options mtest and small may not be combined")
        dev = R @ b - r
        var = np.einsum("ij,jk,ik->i", R, V, R)
        rows = [(float(dev[j] ** 2 / var[j]) if var[j] > 0 else np.nan, 1)
                for j in range(R.shape[0])]
        p = adjust(np.array([float(stats.chi2.sf(c, 1)) for c, _ in rows]), mtest)
        out.mtest = [(c, df, float(pj)) for (c, df), pj in zip(rows, p, strict=True)]
        out.mtest_method = mtest
    return out


def survey_df(res) -> float | None:
    """The design df of ``svy:`` results (None otherwise)."""
    extra = getattr(res, "extra", None) or {}
    return float(extra["df_r"]) if extra.get("svy") else None


def jackknife_df(res) -> float | None:
    """e(df_r) of jackknife results (None otherwise)."""
    extra = getattr(res, "extra", None) or {}
    if extra.get("vce") == "jackknife" and extra.get("df_r") is not None:
        return float(extra["df_r"])
    return None


def _small_ddf(res):
    ddf = (getattr(res, "extra", None) or {}).get("ddf")
    if ddf is None or ddf.contrast is None:
        raise OptionError("option small requires that dfmethod() be specified with mixed "
                          "(or posted by estat df, post)")
    return ddf


def _small_f(res, names: list[str], R: np.ndarray, r: np.ndarray,
             display: dict[str, str] | None = None):
    """F and DDF of H0: R b = r under the posted DDF method; the fixed effects only."""
    ddf = _small_ddf(res)
    fixed = list(res.design.kept_names)
    lmat = np.zeros((R.shape[0], len(fixed)))
    for j, nm in enumerate(names):
        if np.any(R[:, j] != 0):
            if nm not in fixed:
                shown = (display or {}).get(nm, nm)
                raise OptionError(f"option small: {shown} is not a fixed effect")
            lmat[:, fixed.index(nm)] = R[:, j]
    f, _, den = ddf.contrast(lmat, r)
    if den is None:
        return None, None  # DFs differ: the large-sample chi2 test (Stata's rule)
    return float(f), float(den)


def test(res, hypothesis, small: bool = False, accumulate: WaldTest | None = None,
         mtest: str | bool | None = None) -> WaldTest:
    """``test``: ``res.test("week = 0")``, ``res.test(["x1", "x2"])``,
    ``res.test("a = b = 0")``, ``res.test(["(a = b)", "(c = 0)"])``,
    ``res.test("[lns1_1_1]_cons = [lns1_1_2]_cons")``, ``res.test("[weight]")``;
    ``small=True`` for the small-sample F test after ``mixed, dfmethod()``;
    ``accumulate=previous`` tests jointly with a previous test's constraints;
    ``mtest=True`` (or "bonferroni", "holm", "sidak") also tests each constraint."""
    coefs = Coefficients(res)
    linear = _parse_constraints(coefs, hypothesis)
    if accumulate is not None:
        linear = list(accumulate.linear) + linear
    return wald_test(res, linear, small, coefs, mtest_method(mtest))


def testparm(res, varlist: str | list[str], small: bool = False,
             equal: bool = False) -> WaldTest:
    """``testparm``: every kept coefficient of the named terms is 0 (``equal=True``: all
    are equal to each other).  Terms are written as in Stata: ``i.drug``, ``drug`` (its
    indicators), ``c.age#c.age``, ``x*``."""
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
    if equal:  # [R] test: - b1 + b2 = 0, - b1 + b3 = 0, ...
        if len(chosen) < 2:
            raise OptionError("testparm, equal: at least two coefficients are required")
        return wald_test(res, [({chosen[0]: -1.0, nm: 1.0}, 0.0) for nm in chosen[1:]],
                         small)
    return wald_test(res, [({nm: 1.0}, 0.0) for nm in chosen], small)


# -------------------------------------------------------------------- lincom
def lincom(res, expression: str, level: float | None = None,
           small: bool = False, eform: str | bool | None = None) -> Combination:
    """Stata's ``lincom``; ``small=True`` after ``mixed, dfmethod()`` gives the t test with
    the method's DF for the combination (and, for Kenward-Roger, its adjusted SE);
    ``eform=True`` (or "or", "irr", "hr", "rrr") shows exp(b)."""
    form = None if not eform else ("eform" if eform is True else str(eform).lower())
    if form is not None and form not in EFORM:
        raise OptionError(f"lincom: eform={eform!r}; use eform, or, irr, hr or rrr")
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
    design_df = survey_df(res)
    if design_df is None:
        design_df = jackknife_df(res)
    if design_df is not None:  # svy or jackknife: t with e(df_r)
        return Combination(text + " = 0", est, se, lev, design_df, form)
    if small:
        _, ddf = _small_f(res, space.names, c[None, :], np.array([-const]),
                          coefs.display)
        if ddf is not None:
            # the SE from e(V_df): Kenward-Roger's adjusted VCE of the fixed effects
            fixed = list(res.design.kept_names)
            cf = np.array([coef.get(nm, 0.0) for nm in fixed])
            se = float(np.sqrt(max(cf @ _small_ddf(res).vcov @ cf, 0.0)))
            return Combination(text + " = 0", est, se, lev, ddf, form)
    return Combination(text + " = 0", est, se, lev, None, form)


def as_frame(result: Combination) -> pd.DataFrame:
    lo, hi = result.ci
    return pd.DataFrame([{"estimate": result.estimate, "se": result.se, "z": result.z,
                          "p": result.p, "lower": lo, "upper": hi}],
                        index=[result.expression])


def independent_rows(R: np.ndarray) -> tuple[list[int], list[int]]:
    """Rows of R kept in order while they add to its rank, and the dependent ones that
    Stata drops with a note ([R] test: "constraint # dropped")."""
    keep: list[int] = []
    dropped: list[int] = []
    for i in range(R.shape[0]):
        trial = keep + [i]
        if np.linalg.matrix_rank(R[trial], tol=1e-10) == len(trial):
            keep.append(i)
        else:
            dropped.append(i)
    return keep, dropped
