"""``margins`` in a session: Stata's syntax mapped to the results' ``margins`` method
(:mod:`memodels.postestimation.margins`) and its table printed as Stata prints it.

    margins [fvarlist] [if] [in] [, at(var=# var=(numlist) (stat) varlist ...) [at(...)
             ...] atmeans over(var) dydx(varlist) predict(xb | mu | ...) level(#)
             pwcompare[(effects)]]

``margins f`` gives the predictive margins at each level of ``f`` (as ``at(f=(levels))``,
labelled by the level) and ``margins a#b`` at each cell of the interaction; each ``at()``
option is a separate set of margins; ``dydx()`` with several variables gives one block
per variable (``*`` or ``_all``: every covariate of the fixed effects).  In ``at()``,
``(mean) x z``, ``(median) x``, ``(p#) x``, ``(min) x``, ``(max) x`` set continuous
covariates to that statistic of the estimation sample (of the if/in subsample);
``atmeans`` sets every continuous covariate not named in ``at()`` to its mean.  With a
factor covariate not in ``at()``, ``atmeans`` is exact for the linear prediction (the
mean of the indicators gives the average prediction) and refused for a nonlinear one.
``if``/``in`` restrict the observations averaged.  ``pwcompare`` adds the pairwise
differences of the margins with their delta-method standard errors.  ``eyex()``,
``dyex()`` and ``eydx()`` give average elasticities of the linear prediction.  ``post``
makes the margins the active estimation results
(:mod:`memodels.postestimation.margins_post`); ``vce(unconditional)`` is refused with a
message.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import OptionError
from ..output import numfmt
from ..postestimation.margins_post import PostedMargins
from ..syntax.options import OptionTable, apply_def, iter_option_items
from ..syntax.varlist import resolve_name
from .common import RULE, SEP, coef_line, header_pair
from .parsing import (
    LEVEL,
    arg,
    flag,
    optional_arg,
    parse_assignments,
    qualifier_mask,
    split_qualifiers,
    typed_values,
)

if TYPE_CHECKING:
    from ..session import Session

OPTIONS = OptionTable([arg("at"), arg("over"), arg("dydx", 4), arg("predict", 4), LEVEL,
                       flag("atmeans"), optional_arg("pwcompare", 4), flag("post"),
                       arg("vce"), arg("eyex"), arg("dyex"), arg("eydx")])
_REFUSED: dict[str, str] = {}
_STAT = re.compile(r"\(\s*(mean|median|p\d{1,2}|min|max)\s*\)\s*([^()=]*?)"
                   r"(?=\s*(?:\(|[A-Za-z_]\w*\s*=|$))")
_STATS = ("margin", "se", "z", "p", "ci_lower", "ci_upper", "term", "_set")


@dataclass
class Spec:
    """What ``margins`` was asked for."""

    ats: list[dict[str, list[Any]]] = field(default_factory=list)
    factors: list[str] = field(default_factory=list)
    over: str | None = None
    dydx: list[str] = field(default_factory=list)
    predict: str | None = None
    level: float | None = None
    atmeans: bool = False
    elasticity: str | None = None  # eyex, dyex or eydx (with dydx holding the variables)
    pwcompare: str | None = None  # "" or "effects"
    subset: Any = None
    post: bool = False  # the margins become the active estimation results


def _resolve(name: str, columns: list[str], what: str) -> str:
    found = resolve_name(name, columns)
    if len(found) != 1:
        raise OptionError(f"{what}: {name} must name one variable")
    return found[0]


def _covariates(res: Any) -> list[str]:
    """Every variable of the fixed effects (``dydx(*)``), factor ones as ``i.var``."""
    out: list[str] = []
    for name in res.fe_params.index:
        for part in str(name).split("#"):
            if part == "_cons":
                continue
            if part.startswith("c."):
                var = part[2:]
            elif "." in part:
                var = "i." + part.rsplit(".", 1)[1]
            else:
                var = part
            if var not in out:
                out.append(var)
    return out


def _statistic(stat: str, values: pd.Series) -> float:
    x = pd.to_numeric(values, errors="coerce").dropna()
    if stat == "mean":
        return float(x.mean())
    if stat == "min":
        return float(x.min())
    if stat == "max":
        return float(x.max())
    q = 50 if stat == "median" else int(stat[1:])
    return float(np.percentile(x.to_numpy(float), q, method="inverted_cdf")) if q != 50 \
        else float(x.median())


def _at_statistics(text: str, sample: pd.DataFrame, columns: list[str]) -> str:
    """``(mean) x z y=1`` -> ``x=<mean> z=<mean> y=1`` (the estimation sample's values)."""

    def repl(m: re.Match[str]) -> str:
        names = m.group(2).split()
        if not names:
            raise OptionError(f"at(({m.group(1)})): a varlist must follow the statistic")
        out = []
        for nm in names:
            var = _resolve(nm, columns, "at()")
            col = sample[var]
            if not pd.api.types.is_numeric_dtype(col) or isinstance(col.dtype,
                                                                  pd.CategoricalDtype):
                raise OptionError(f"at(({m.group(1)}) {var}): {var} is not numeric")
            out.append(f"{var}={_statistic(m.group(1), col)!r}")
        return " ".join(out) + " "

    return _STAT.sub(repl, text)


def parse(res: Any, data: pd.DataFrame, rest: str) -> Spec:
    parts = split_qualifiers(rest)
    columns = [str(c) for c in data.columns]
    spec = Spec()
    sample = data.loc[res.design.index] if getattr(res, "design", None) is not None else data
    if parts.if_expr is not None or parts.in_range is not None:
        spec.subset = qualifier_mask(data, parts)
        sample = sample.loc[spec.subset[data.index.get_indexer(sample.index)]]
    for word in parts.body.split():
        for piece in word.split("#"):
            name = piece[2:] if piece.startswith(("i.", "c.")) else piece
            spec.factors.append(_resolve(name, columns, "margins"))
    for name, value in iter_option_items(parts.options):
        d = OPTIONS.find(name)
        if d is None:
            raise OptionError(f"margins: option {name} not allowed")
        key, text = apply_def(d, value, name)
        if key in _REFUSED:
            raise OptionError(_REFUSED[key])
        if key == "vce":
            if str(text).strip().lower().startswith("unc"):
                raise OptionError("margins, vce(unconditional) is not supported (it needs "
                                  "the observation-level scores of a survey or clustered "
                                  "fit); the default vce(delta) is")
            if str(text).strip().lower() != "delta":
                raise OptionError(f"margins: vce({text}) not allowed (delta is)")
            continue
        if key == "atmeans":
            spec.atmeans = True
            continue
        if key == "post":
            spec.post = True
            continue
        if key == "pwcompare":
            value_text = (text or "").strip()
            if value_text not in ("", "effects", "eff", "effe", "effec", "effect"):
                raise OptionError(f"margins, pwcompare({value_text}): only effects is "
                                  "supported")
            spec.pwcompare = "effects" if value_text else ""
            continue
        if key == "at":
            text = _at_statistics(text, sample, columns)
            spec.ats.append(typed_values(parse_assignments(text, columns, "at"), data))
        elif key == "over":
            spec.over = _resolve(text.strip(), columns, "over()")
        elif key in ("dydx", "eyex", "dyex", "eydx"):
            if spec.dydx:
                raise OptionError("margins: only one of dydx(), eyex(), dyex() and eydx() "
                                  "may be given")
            spec.elasticity = None if key == "dydx" else key
            words = text.split()
            if words in (["*"], ["_all"]):
                words = _covariates(res)
            spec.dydx = [w if w.startswith("i.") else _resolve(w, columns, "dydx()")
                         for w in words]
        elif key == "predict":
            spec.predict = text.strip() or None  # checked by the results' margins
        else:
            spec.level = text
    return spec


def margins(session: Session, rest: str) -> str:
    """Compute and print the margins; the table is kept in ``session.last``."""
    res = session.require_e()
    if isinstance(res, PostedMargins):  # margins, post earlier: replay only
        if rest.strip():
            raise OptionError("margins: the active estimation results are posted margins "
                              "(margins, post); type margins alone to replay them, or "
                              "refit the model for new margins")
        return res.summary()
    data = session.require_data()
    spec = parse(res, data, rest)
    sample = data.loc[res.design.index] if getattr(res, "design", None) is not None else data
    if spec.subset is not None:
        sample = sample.loc[spec.subset[data.index.get_indexer(sample.index)]]
    from ..postestimation.contrast import level_order

    base = {f: level_order(sample[f]) for f in spec.factors}
    if spec.atmeans:
        spec.ats = [{**_means(res, sample, spec, at), **at} for at in spec.ats or [{}]]
    tables = []
    extra = {"subset": spec.subset} if spec.subset is not None else {}
    for k, at in enumerate(spec.ats or [{}]):
        values = {**base, **at}
        for dv in spec.dydx or [None]:
            if spec.elasticity:
                extra["elasticity"] = spec.elasticity
            t = res.margins(data, at=values or None, over=spec.over, dydx=dv,
                            predict=spec.predict, level=spec.level, **extra)
            t["_set"] = k
            tables.append(t)
    attrs = dict(tables[0].attrs)
    if len(tables) > 1:  # separate margins calls: no joint VCE
        attrs.pop("vcov", None)
        for t in tables:
            t.attrs = {}
    table = pd.concat(tables, ignore_index=True)
    table.attrs = attrs
    session.last = table
    text = render(res, table, spec)
    if spec.pwcompare is not None:
        text += "\n\n" + _pairwise(table, spec)
    if spec.post:
        session.e = _posted(res, table, spec, text)
    return text


def _posted(res: Any, table: pd.DataFrame, spec: Spec, text: str) -> PostedMargins:
    """``margins, post``: e(b) named as Stata names the margins, e(V) their joint VCE."""
    vce = table.attrs.get("vcov")
    if vce is None:
        raise OptionError("margins, post: the margins come from separate at() or dydx() "
                          "sets without a joint VCE; post one at() or one dydx() set")
    at_vars, patterns = _patterns(table, spec)
    position = {pat: k for k, pat in enumerate(patterns)}
    outcomes = _outcomes(table)
    dims = (["_predict"] if outcomes else []) + (["_at"] if len(patterns) > 1 else []) + \
        spec.factors + ([spec.over] if spec.over else [])
    terms = list(dict.fromkeys(table["term"])) if "term" in table.columns else [None]
    if dims and len(terms) > 1:
        raise OptionError("margins, post: marginal effects of several variables over "
                          "factor levels or at() settings are not supported; post one "
                          "dydx() variable at a time")
    names = []
    for row in table.to_dict("records"):
        if not dims:
            names.append(_term(row["term"]) if row.get("term") is not None else "_cons")
            continue
        parts = _label(row, dims, at_vars, position, spec, None).strip().split("#")
        for p in parts:
            if not re.fullmatch(r"\d+", p):
                raise OptionError(f"margins, post: the level {p} is not a nonnegative "
                                  "integer, which Stata's factor-variable names need")
        names.append("#".join(f"{p}.{d}" for p, d in zip(parts, dims, strict=True)))
    return PostedMargins(names, table["margin"].to_numpy(float), np.asarray(vce, float),
                         depvar=str(res.depvar), nobs=int(res.nobs),
                         level=float(table.attrs.get("level", res.level)),
                         table_text=text, model_command=str(res.command))


def _means(res: Any, sample: pd.DataFrame, spec: Spec, at: dict) -> dict[str, list]:
    """``atmeans``: every continuous covariate not in ``at()``, the factors or
    ``dydx()`` at its mean; a factor covariate left free is exact only for a linear
    prediction."""
    from ..postestimation.contrast import factors
    from ..postestimation.margins import fixed_variables

    fac = factors(res, sample)
    fixed = [v for v in fixed_variables(res.design) if v in sample.columns]
    chosen = set(at) | set(spec.factors) | {d.removeprefix("i.") for d in spec.dydx}
    if spec.over:
        chosen.add(spec.over)
    free_factors = [v for v in fixed if v in fac and v not in chosen]
    linear = (spec.predict or "xb").strip().lower().startswith("xb") and (
        getattr(res, "margins_prediction", None) is None
        or res.margins_prediction(spec.predict) is None)
    if free_factors and not linear:
        raise OptionError(f"margins, atmeans: the factor covariate {free_factors[0]} would "
                          "be held at the means of its indicators, which is supported for "
                          "the linear prediction only; put it in at() or in the margins "
                          "varlist")
    return {v: [float(pd.to_numeric(sample[v], errors="coerce").mean())] for v in fixed
            if v not in fac and v not in chosen}


def _pairwise(table: pd.DataFrame, spec: Spec) -> str:
    """``margins, pwcompare``: every difference of two margins, with the delta-method
    standard error from the margins' joint VCE ([R] margins, pwcompare)."""
    from scipy import stats

    vce = table.attrs.get("vcov")
    if vce is None:
        raise OptionError("margins, pwcompare: the margins come from separate at() or "
                          "dydx() sets without a joint VCE; use one at() or one dydx()")
    v = np.asarray(vce, dtype=float)
    est = table["margin"].to_numpy(float)
    labels = [str(k + 1) for k in range(len(est))]
    if spec.factors:
        labels = ["#".join(_show(r[f]) for f in spec.factors)
                  for r in table.to_dict("records")]
    lev = table.attrs.get("level", 95.0)
    crit = float(stats.norm.isf((1 - lev / 100) / 2))
    effects = spec.pwcompare == "effects"
    head = "   Contrast   Std. Err.      z    P>|z|     [" if effects else \
        "   Contrast   Std. Err.     ["
    lines = ["Pairwise comparisons of " + ("average marginal effects" if spec.dydx
                                           else "predictive margins"), "", RULE,
             f"{'':>12} |" + (" " * 40 if effects else " " * 26) + "Unadjusted",
             f"{'':>12} |{head}{lev:g}% Conf. Interval]", SEP]
    dims = "#".join(spec.factors) if spec.factors else "_at"
    lines.append(f"{dims[-12:]:>12} |")
    for i in range(len(est)):
        for j in range(i + 1, len(est)):
            d = est[j] - est[i]
            se = math.sqrt(max(v[i, i] + v[j, j] - 2 * v[i, j], 0.0))
            z = d / se if se > 0 else float("nan")
            p = 2 * stats.norm.sf(abs(z)) if se > 0 else float("nan")
            label = f"{labels[j]} vs {labels[i]}  "
            if effects:
                lines.append(coef_line(label, d, se, z, p, d - crit * se, d + crit * se))
            else:
                lines.append(f"{label[-12:]:>12} |{numfmt.g9(d):>11}{numfmt.g9(se):>11}"
                             f"{numfmt.g9(d - crit * se):>14}{numfmt.g9(d + crit * se):>12}")
    lines.append(RULE)
    return "\n".join(lines)


# ---------------------------------------------------------------------- display
def _term(term: Any) -> str:
    """``1.0.late`` (a level stored as a float) -> ``1.late``."""
    return re.sub(r"^(-?\d+)\.0\.", r"\1.", str(term))


def _show(v: Any) -> str:
    if isinstance(v, float) and not math.isnan(v):
        return numfmt.g9(v)
    return str(v)


def _patterns(table: pd.DataFrame, spec: Spec) -> tuple[list[str], list[tuple]]:
    """The at() variables and the distinct at() settings, in order of appearance."""
    at_vars = list(dict.fromkeys(v for at in spec.ats for v in at))
    keys = [_at_key(row, at_vars, spec) for row in table.to_dict("records")]
    return at_vars, list(dict.fromkeys(keys))


def _at_key(row: dict, at_vars: list[str], spec: Spec) -> tuple:
    return tuple((v, row[v]) for v in at_vars if v in spec.ats[int(row["_set"])])


def _legend(patterns: list[tuple]) -> list[str]:
    lines = []
    for k, pat in enumerate(patterns):
        prefix = f"{k + 1}._at" if len(patterns) > 1 else "at"
        for j, (var, val) in enumerate(pat):
            lead = f"{prefix:<13}: " if j == 0 else " " * 15
            lines.append(f"{lead}{var[:15]:<16}= {_show(val):>11}")
        if len(patterns) > 1 and k + 1 < len(patterns):
            lines.append("")
    return lines


def render(res: Any, table: pd.DataFrame, spec: Spec) -> str:
    """Stata's margins output: header, legend and the delta-method table."""
    at_vars, patterns = _patterns(table, spec)
    title = "Average marginal effects" if spec.dydx else "Predictive margins"
    lines = [header_pair(title, "Number of obs", f"{res.nobs:,}"), ""]
    lines.append(f"Expression   : {table.attrs.get('expression', '')}")
    if spec.dydx:
        what = {"eyex": "ey/ex", "dyex": "dy/ex", "eydx": "ey/dx"}.get(
            spec.elasticity or "", "dy/dx")
        lines.append(f"{what} w.r.t. : {' '.join(spec.dydx)}")
    outcomes = _outcomes(table)
    if outcomes:  # meologit/meoprobit: one prediction per outcome ([R] margins, _predict)
        lines.append("")
        cats = getattr(getattr(res, "family_obj", None), "categories", None)
        for k in outcomes:
            value = _show(float(cats[k - 1])) if cats is not None else str(k)
            lines.append(f"{f'{k}._predict':<13}: Pr({res.depvar}=={value}), "
                         f"predict(pr outcome({value}))")
    if patterns and patterns != [()]:
        lines += [""] + _legend(patterns)
    lev = table.attrs.get("level", res.level)
    stat = ({"eyex": "ey/ex", "dyex": "dy/ex", "eydx": "ey/dx"}.get(spec.elasticity or "",
                                                                   "dy/dx")
            if spec.dydx else "Margin")
    lines += ["", RULE, f"{'':>12} |            Delta-method",
              f"{'':>12} |{stat:>11}   Std. Err.      z    P>|z|     [{lev:g}% Conf. Interval]",
              SEP]
    dims = (["_predict"] if outcomes else []) + (["_at"] if len(patterns) > 1 else []) + \
        spec.factors + (
        [spec.over] if spec.over else [])
    terms = list(dict.fromkeys(table["term"])) if "term" in table.columns else [None]
    position = {pat: k for k, pat in enumerate(patterns)}
    records = table.to_dict("records")  # plain dicts: row access stays O(1) per row
    for t_idx, term in enumerate(terms):
        rows = records if term is None else [r for r in records if r["term"] == term]
        if term is not None and dims:
            if t_idx:
                lines.append(f"{'':>12} |")
            lines.append(f"{_term(term)[-12:]:>12} |")
        if dims:
            lines.append(f"{'#'.join(dims)[-12:]:>12} |")
        for row in rows:
            label = _label(row, dims, at_vars, position, spec, term)
            lines.append(coef_line(label, row["margin"], row["se"], row["z"], row["p"],
                                   row["ci_lower"], row["ci_upper"]))
    lines.append(RULE)
    return "\n".join(lines)


def _outcomes(table: pd.DataFrame) -> list[int]:
    if "outcome" not in table.columns:
        return []
    return [int(k) for k in dict.fromkeys(table["outcome"].dropna())]


def _label(row: dict, dims: list[str], at_vars: list[str], position: dict[tuple, int],
           spec: Spec, term: Any) -> str:
    if not dims:
        return _term(term) if term is not None else "_cons"
    parts = []
    if "_predict" in dims:
        parts.append(str(int(row["outcome"])))
    if "_at" in dims:
        parts.append(str(position[_at_key(row, at_vars, spec)] + 1))
    parts += [_show(row[f]) for f in spec.factors]
    if spec.over:
        parts.append(_show(row[spec.over]))
    return "#".join(parts) + "  "


__all__ = ["OPTIONS", "Spec", "margins", "parse", "render"]
