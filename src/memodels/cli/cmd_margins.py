"""``margins`` in a session: Stata's syntax mapped to the results' ``margins`` method
(:mod:`memodels.postestimation.margins`) and its table printed as Stata prints it.

    margins [fvarlist] [, at(var=# var=(numlist) ...) [at(...) ...] over(var)
             dydx(varlist) predict(xb | mu | ...) level(#)]

``margins f`` gives the predictive margins at each level of ``f`` (as ``at(f=(levels))``,
labelled by the level); each ``at()`` option is a separate set of margins; ``dydx()``
with several variables gives one block per variable (``*`` or ``_all``: every
covariate of the fixed effects).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import OptionError
from ..output import numfmt
from ..syntax.options import OptionTable, apply_def, iter_option_items
from ..syntax.varlist import resolve_name
from .common import RULE, SEP, coef_line, header_pair
from .parsing import LEVEL, arg, parse_assignments, split_qualifiers, typed_values

if TYPE_CHECKING:
    from ..session import Session

OPTIONS = OptionTable([arg("at"), arg("over"), arg("dydx", 4), arg("predict", 4), LEVEL])
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


def parse(res: Any, data: pd.DataFrame, rest: str) -> Spec:
    parts = split_qualifiers(rest)
    if parts.if_expr is not None or parts.in_range is not None:
        raise OptionError("margins: if and in are not supported; use over()")
    columns = [str(c) for c in data.columns]
    spec = Spec()
    for word in parts.body.split():
        spec.factors.append(_resolve(word[2:] if word.startswith("i.") else word, columns,
                                     "margins"))
    for name, value in iter_option_items(parts.options):
        d = OPTIONS.find(name)
        if d is None:
            raise OptionError(f"margins: option {name} not allowed")
        key, text = apply_def(d, value, name)
        if key == "at":
            spec.ats.append(typed_values(parse_assignments(text, columns, "at"), data))
        elif key == "over":
            spec.over = _resolve(text.strip(), columns, "over()")
        elif key == "dydx":
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
    data = session.require_data()
    spec = parse(res, data, rest)
    sample = data.loc[res.design.index] if getattr(res, "design", None) is not None else data
    base = {f: sorted(sample[f].dropna().unique().tolist()) for f in spec.factors}
    tables = []
    for k, at in enumerate(spec.ats or [{}]):
        values = {**base, **at}
        for dv in spec.dydx or [None]:
            t = res.margins(data, at=values or None, over=spec.over, dydx=dv,
                            predict=spec.predict, level=spec.level)
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
    return render(res, table, spec)


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
        lines.append(f"dy/dx w.r.t. : {' '.join(spec.dydx)}")
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
    stat = "dy/dx" if spec.dydx else "Margin"
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
