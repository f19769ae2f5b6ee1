"""Stata 14 text output of the GLMM commands ([ME] meglm, melogit, mepoisson, menbreg...).

Unlike ``mixed``, the me commands print one table: fixed effects, the offset/exposure
line, ancillary parameters, then the random-effects parameters by level path
(``district``, ``school>class`` wrapped at ``>`` when long), covariances in a block of
their own with z and p, and the Gaussian residual variance ``var(e.depvar)``.  The
header adds ``Family:``/``Link:`` (meglm), ``Overdispersion:`` (negative binomial) and
the integration method and points.  ``or``/``irr``/``eform`` display exp(b).  With a
robust VCE the table is headed by Stata's "(Std. Err. adjusted for # clusters in var)"
note and the "Robust" label over the standard errors ([ME] meglm, example 5).
"""

from __future__ import annotations

import math

from ..results.glmm import FAMILY_LABELS, eform_values
from . import numfmt
from .stata_text import RULE, _header_pair, _lr_line, shown_fixed_rows

SEP = "-" * 13 + "+" + "-" * 64


def abbrev(text: str, width: int) -> str:
    """Stata's abbrev(): keep the start and the last character around a ``~``."""
    if len(text) <= width:
        return text
    return text[: width - 2] + "~" + text[-1]


def abbrev_label(label: str, width: int) -> str:
    """``cov(urban,_cons)`` -> ``cov(urban,~s)``: abbreviate inside the parentheses."""
    if len(label) <= width:
        return label
    if label.endswith(")") and "(" in label:
        head, inner = label[:-1].split("(", 1)
        room = width - len(head) - 2
        if room >= 3:
            return f"{head}({abbrev(inner, room)})"
    return abbrev(label, width)


def _left(label: str, value: str) -> str:
    """``Group variable:        district``: value right-aligned to column 31."""
    return f"{label}{value:>{max(31 - len(label), len(value) + 1)}}"


def _group_lines(res) -> list[str]:
    out = []
    levels = res.levels
    nogroup = res.options.get("nogroup")
    if len(levels) == 1:
        lv = levels[0]
        out.append(_header_pair(_left("Group variable:", lv.level), "Number of groups",
                                numfmt.comma_int(lv.n_groups)))
        if not nogroup:
            out.append("")
            out.append(f"{'':<48}Obs per group:")
            out.append(f"{'':<62}min = {lv.min:>10}")
            out.append(f"{'':<62}avg = {lv.avg:>10.1f}")
            out.append(f"{'':<62}max = {lv.max:>10}")
    elif levels and not nogroup:
        out.append("")
        out.append("-" * 61)
        out.append("                |     No. of       Observations per Group")
        out.append(" Group Variable |     Groups    Minimum    Average    Maximum")
        out.append("----------------+--------------------------------------------")
        for lv in levels:
            out.append(
                f"{lv.path[-15:]:>15} | {lv.n_groups:>10} {lv.min:>10} {lv.avg:>10.1f} "
                f"{lv.max:>10}"
            )
        out.append("-" * 61)
    return out


def header_lines(res) -> list[str]:
    out = [_header_pair(res.title, "Number of obs", numfmt.comma_int(res.nobs))]
    if res.command == "meglm":
        out.append(_left("Family:", FAMILY_LABELS.get(res.family, res.family)))
        out.append(_left("Link:", res.link))
    if res.binomial_var:
        out.append(_left("Binomial variable:", res.binomial_var))
    if res.family == "nbinomial" and res.dispersion:
        out.append(_left("Overdispersion:", res.dispersion))
    out += _group_lines(res)
    out.append("")
    fit = getattr(res, "fit", None)
    if fit is None or not fit.extra.get("fixed_only"):  # no random effects: no integral
        method = _left("Integration method:", res.intmethod)
        if res.intmethod == "laplace":
            out.append(method)
        else:
            out.append(_header_pair(method, "Integration pts.", str(res.intpoints)))
        out.append("")
    chi2, df = res.wald if res.wald is not None else (math.nan, 0)
    val = "." if df == 0 or math.isnan(chi2) else f"{chi2:.2f}"
    out.append(_header_pair("", f"Wald chi2({df})", val))
    p = "." if df == 0 or math.isnan(chi2) else f"{res.wald_p:.4f}"
    out.append(_header_pair(f"{res.ll_label} = {numfmt.g_ll(res.llf)}", "Prob > chi2", p))
    constraints = getattr(res, "constraints", None)
    if constraints and not res.options.get("nocnsreport"):
        out.append("")
        for i, text in enumerate(constraints):
            out += constraint_lines(i + 1, text)
    return out


def constraint_lines(number: int, text: str, width: int = 79) -> list[str]:
    """`` ( 1)  [var(std[trial])]_cons = 1``, long constraints wrapped before a ``+``/``-``
    with the continuation indented under the text, as Stata reports constraints."""
    lead = f" ({number:>2})  "
    words = text.split(" ")
    lines, cur = [], lead
    for w in words:
        if len(cur) + len(w) + 1 > width and cur.strip() and w in ("+", "-", "="):
            lines.append(cur.rstrip())
            cur = " " * len(lead)
        cur += ("" if cur.endswith(" ") else " ") + w
    lines.append(cur.rstrip())
    return lines


def _constrained_line(label: str, est: float, *, sep: str = " |", width: int = 12) -> str:
    return f"{label:>{width}}{sep}{numfmt.g9(est):>11}  (constrained)"


def _num_line(label: str, est: float, se: float, z: float, p: float, lo: float, hi: float,
              *, sep: str = " |", width: int = 12, nostderr: bool = False) -> str:
    se_txt = "" if nostderr else numfmt.g9(se)
    z_txt = "" if math.isnan(z) else numfmt.fixed(z, 2)
    p_txt = "" if math.isnan(p) else numfmt.pvalue(p)
    return (f"{label:>{width}}{sep}{numfmt.g9(est):>11}{se_txt:>11}{z_txt:>9}{p_txt:>8}"
            f"{numfmt.g9(lo):>13}{numfmt.g9(hi):>12}")


def _fixed_lines(res) -> list[str]:
    lev = res.level
    eform = res.eform is not None
    out: list[str] = []
    block = None
    for r in shown_fixed_rows(res):
        if r.block and r.block != block:
            if block is not None:
                out.append(f"{'':>12} |")
            out.append(f"{abbrev(r.block, 12):>12} |")
        block = r.block or None
        # factor levels: "          2  |" (Stata indents them one column less)
        label = f"{abbrev(r.label, 10):>11} " if r.block else abbrev(r.label, 12)
        if r.status in ("base", "omitted"):
            shown = "1" if eform else "0"
            out.append(f"{label:>12} |{shown:>11}  ({r.status})")
            continue
        if r.constrained:
            out.append(_constrained_line(label, eform_values(r, lev)[0] if eform
                                         else r.estimate))
            continue
        if eform:
            est, se, lo, hi = eform_values(r, lev)
        else:
            est, se = r.estimate, r.se
            lo, hi = r.ci(lev)
        out.append(_num_line(label, est, se, r.z, r.p, lo, hi))
    for r in res.rows:
        if r.section == "offset":
            out.append(f"{abbrev(r.label, 12):>12} |{'1':>11}  ({r.status})")
    return out


def _aux_lines(res) -> list[str]:
    rows = [r for r in res.rows if r.section == "aux"]
    if not rows:
        return []
    out = [SEP]
    for r in rows:
        if r.constrained:
            out.append(_constrained_line(abbrev(r.label, 12), r.estimate))
            continue
        lo, hi = r.ci(res.level)
        out.append(_num_line(abbrev(r.label, 12), r.estimate, r.se, r.z, r.p, lo, hi))
    return out


def _block_header(path: str) -> list[str]:
    """``district     |``; long paths wrap after ``>`` (``family>`` / ``subject``)."""
    if len(path) <= 12:
        return [f"{path:<13}|"]
    parts = path.split(">")
    lines, cur = [], ""
    for i, part in enumerate(parts):
        piece = part + (">" if i < len(parts) - 1 else "")
        if cur and len(cur) + len(piece) > 12:
            lines.append(cur)
            cur = ""
        cur += piece
    lines.append(cur)
    return [f"{abbrev(line, 12):<13}|" for line in lines]


def _random_lines(res) -> list[str]:
    out: list[str] = []
    key = None
    nostderr = res.options.get("nostderr")
    for r in res.rows:
        if r.section not in ("random", "residual"):
            continue
        this = (r.block, getattr(r, "part", "")) if r.section == "random" else ("", "e")
        if this != key:
            out.append(SEP)
            if r.section == "random":
                out += _block_header(r.block)
            key = this
        if r.constrained:
            out.append(_constrained_line(abbrev_label(r.label, 13), r.estimate, sep="|",
                                         width=13))
            continue
        lo, hi = r.ci(res.level)
        out.append(_num_line(abbrev_label(r.label, 13), r.estimate, r.se, r.z, r.p, lo, hi,
                             sep="|", width=13, nostderr=nostderr))
    return out


def table_lines(res) -> list[str]:
    lev = res.level
    out = []
    extra = getattr(res, "extra", {})
    if extra.get("vce_note"):  # "(Std. Err. adjusted for 148 clusters in id_school)"
        out.append(f"{extra['vce_note']:>78}")
    out.append(RULE)
    if extra.get("se_label"):  # "Robust" over "Std. Err."
        out.append(f"{'':>13}|{extra['se_label']:>21}")
    out.append(
        f"{abbrev(res.depvar, 12):>12} |{res.coef_label:>11}   Std. Err.      z    P>|z|     "
        f"[{lev:g}% Conf. Interval]"
    )
    out.append(SEP)
    out += _fixed_lines(res)
    out += _aux_lines(res)
    out += _random_lines(res)
    out.append(RULE)
    return out


def render_glmm(res) -> str:
    opts = res.options
    lines: list[str] = list(res.notes)
    if res.n_dropped:
        lines.append(f"({res.n_dropped} observations with missing values excluded)")
    if lines:
        lines.append("")
    if not opts.get("noheader"):
        lines += header_lines(res)
    if not opts.get("notable"):
        lines += table_lines(res)
        lines += _lr_line(res)
    for w in res.warnings:
        lines.append(f"Warning: {w}")
    return "\n".join(lines)
