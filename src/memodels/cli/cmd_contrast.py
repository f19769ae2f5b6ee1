"""``contrast`` and ``pwcompare`` in a session ([R] contrast, [R] pwcompare), computed by
:mod:`memodels.postestimation.contrast` and printed as Stata prints them.

    contrast termlist [, effects mcompare(method) level(#) nowald]
    pwcompare marginlist [, effects mcompare(method) level(#)]

A term is a factor variable with an optional operator (``thatch``, ``r.thatch``,
``a.thatch``, ``ar.thatch``, ``g.thatch``, ``i.thatch``) or an interaction of such
(``r.thatch#a.nitrogen``); ``pwcompare`` takes factor variables and their interactions.
The joint tests and the contrasts are kept in ``session.last`` and in ``r()``
(``r(chi2)``, ``r(df)``, ``r(p)`` of the first term; ``r(b)``, ``r(V)`` are not kept).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..errors import OptionError
from ..output import numfmt
from ..postestimation.contrast import ContrastResult, contrast, pwcompare
from ..syntax.options import OptionTable
from ..syntax.varlist import resolve_name
from .parsing import LEVEL, arg, flag, parse_opts, split_qualifiers

if TYPE_CHECKING:
    from ..session import Session

OPTIONS = OptionTable([flag("effects", 3), arg("mcompare", 3), LEVEL, flag("nowald"),
                       flag("noeffects"), flag("cieffects"), flag("pveffects")])
PW_OPTIONS = OptionTable([flag("effects", 3), arg("mcompare", 3), LEVEL, flag("cieffects"),
                          flag("pveffects")])
_OP = re.compile(r"^(?:(r|a|ar|g|i)\.)?([A-Za-z_]\w*)$")
_METHODS = {"noadjust": "noadjust", "bonferroni": "bonferroni", "bon": "bonferroni",
            "sidak": "sidak", "sid": "sidak", "scheffe": "scheffe", "sch": "scheffe"}


def _method(text: str | None) -> str:
    if text is None:
        return "noadjust"
    key = text.strip().lower()
    for k, v in _METHODS.items():
        if key == k or (len(key) >= 3 and k.startswith(key)):
            return v
    raise OptionError(f"mcompare({text}) not allowed (noadjust, bonferroni, sidak, scheffe "
                      "are; snk, duncan, dunnett and tukey apply to anova only)")


def _terms(body: str, columns: list[str], command: str) -> list[list[tuple[str, str]]]:
    if not body.strip():
        raise OptionError(f"{command}: a factor variable is required ({command} "
                          "thatch, contrast r.thatch#nitrogen)")
    out = []
    for word in body.split():
        term = []
        for part in word.split("#"):
            m = _OP.match(part)
            if m is None:
                raise OptionError(f"{command}: invalid term {word!r} (operators r., a., "
                                  "ar., g. on factor variables)")
            found = resolve_name(m.group(2), columns)
            if len(found) != 1:
                raise OptionError(f"{command}: variable {m.group(2)} not found")
            op = m.group(1) or ""
            term.append(("" if op == "i" else op, found[0]))
        out.append(term)
    return out


def _pvalue(p: float) -> str:
    return numfmt.pvalue(p)


def _row(label: str, cells: list[str], width: int = 12) -> str:
    return f"{label[-width:]:>{width}} |" + "".join(cells)


def render(result: ContrastResult, effects: bool, wald: bool = True) -> str:
    """Stata's contrast / pwcompare output."""
    pw = result.kind == "pwcompare"
    title = ("Pairwise comparisons of marginal linear predictions" if pw
             else "Contrasts of marginal linear predictions")
    lines = [title, "", "Margins      : asbalanced"]
    if result.mcompare != "noadjust" or pw:
        lines += ["", "-" * 27, f"{'':>12} |    Number of", f"{'':>12} |  Comparisons",
                  "-" * 13 + "+" + "-" * 13]
        lines += [_row(t.term, [f"{t.k_comparisons:>13}"]) for t in result.terms]
        lines.append("-" * 27)
    if wald and not pw:
        lines += ["", "-" * 48, f"{'':>12} |         df        chi2     P>chi2",
                  "-" * 13 + "+" + "-" * 34]
        for k, t in enumerate(result.terms):
            if k:
                lines.append(f"{'':>12} |")
            lines.append(_row(t.term, [f"{t.df:>11}", f"{t.chi2:>12.2f}",
                                       f"{t.p:>11.4f}"]))
        lines.append("-" * 48)
    adj = {"noadjust": "Unadjusted", "bonferroni": "Bonferroni", "sidak": "Sidak",
           "scheffe": "Scheffe"}[result.mcompare]
    lev = f"{result.level:g}"
    rule = "-" * 78 if effects else "-" * 62
    lines += ["", rule]
    if effects:
        lines += [f"{'':>12} |{'':>40}{adj:>12}" if result.mcompare != "noadjust" or pw
                  else f"{'':>12} |",
                  f"{'':>12} |   Contrast   Std. Err.      z    P>|z|     [{lev}% Conf. "
                  "Interval]", "-" * 13 + "+" + "-" * 64]
    else:
        lines += [f"{'':>12} |{'':>26}{adj:>12}" if result.mcompare != "noadjust" or pw
                  else f"{'':>12} |",
                  f"{'':>12} |   Contrast   Std. Err.     [{lev}% Conf. Interval]",
                  "-" * 13 + "+" + "-" * 48]
    # long interaction labels ("(2 vs 1) (3 vs 1)") widen the first column
    width = max([12] + [len(lab) + 1 for t in result.terms for lab in t.table["label"]])
    for k, t in enumerate(result.terms):
        if k:
            lines.append(f"{'':>{width}} |")
        lines.append(f"{t.term[-width:]:>{width}} |")
        for r in t.table.to_dict("records"):
            cells = [f"{numfmt.g9(r['contrast']):>11}", f"{numfmt.g9(r['se']):>11}"]
            if effects:
                cells += [f"{r['z']:>9.2f}", f"{_pvalue(r['p']):>8}"]
                cells += [f"{numfmt.g9(r['ci_lower']):>13}", f"{numfmt.g9(r['ci_upper']):>12}"]
            else:
                cells += [f"{numfmt.g9(r['ci_lower']):>14}", f"{numfmt.g9(r['ci_upper']):>12}"]
            lines.append(_row(r["label"] + " ", cells, width))
    lines.append(rule)
    return "\n".join(lines)


def _store(session: Session, result: ContrastResult) -> None:
    session.last = result
    if result.terms:
        t = result.terms[0]
        session.r = {"chi2": t.chi2, "df": float(t.df), "p": t.p, "level": result.level}


def contrast_(session: Session, rest: str) -> str:
    """``contrast termlist [, effects mcompare() level() nowald]``."""
    res = session.require_e()
    data = session.require_data()
    parts = split_qualifiers(rest)
    if parts.if_expr is not None or parts.in_range is not None:
        raise OptionError("contrast: if and in are not allowed (the contrasts are of the "
                          "fitted model's margins)")
    opts = parse_opts(parts.options, OPTIONS, "contrast")
    terms = _terms(parts.body, [str(c) for c in data.columns], "contrast")
    result = contrast(res, data, terms, level=opts.get("level"),
                      mcompare=_method(opts.get("mcompare")))
    _store(session, result)
    effects = bool(opts.get("effects")) and not opts.get("noeffects")
    return render(result, effects, wald=not opts.get("nowald"))


def pwcompare_(session: Session, rest: str) -> str:
    """``pwcompare marginlist [, effects mcompare() level()]``."""
    res = session.require_e()
    data = session.require_data()
    parts = split_qualifiers(rest)
    if parts.if_expr is not None or parts.in_range is not None:
        raise OptionError("pwcompare: if and in are not allowed")
    opts = parse_opts(parts.options, PW_OPTIONS, "pwcompare")
    terms = _terms(parts.body, [str(c) for c in data.columns], "pwcompare")
    for term in terms:
        if any(op for op, _ in term):
            raise OptionError("pwcompare: contrast operators are not allowed; give factor "
                              "variables (pwcompare thatch#nitrogen)")
    result = pwcompare(res, data, [[v for _, v in term] for term in terms],
                       level=opts.get("level"), mcompare=_method(opts.get("mcompare")))
    _store(session, result)
    return render(result, bool(opts.get("effects")))


__all__ = ["contrast_", "pwcompare_", "render"]
