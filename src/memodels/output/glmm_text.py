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
from dataclasses import replace

from ..results.glmm import FAMILY_LABELS, eform_values
from . import numfmt
from .coef_layout import (
    LABEL_WIDTH,
    Columns,
    abbrev,
    abbrev_label,
    fixed_lines,
    label_width,
    legend_name,
    shown_rows,
    stretch_width,
    stretched,
)
from .display_opts import display_spec
from .stata_text import header_pair, lr_line, model_f_lines

__all__ = ["abbrev", "abbrev_label", "constraint_lines", "header_lines", "render_glmm",
           "svy_header_lines", "table_lines"]


def _left(label: str, value: str) -> str:
    """``Group variable:        district``: value right-aligned to column 31."""
    return f"{label}{value:>{max(31 - len(label), len(value) + 1)}}"


def _group_lines(res) -> list[str]:
    out = []
    levels = res.levels
    nogroup = res.options.get("nogroup")
    if len(levels) == 1 and not nogroup:
        # nogroup: no group summary at all (number of groups and group sizes)
        lv = levels[0]
        out.append(header_pair(_left("Group variable:", lv.level), "Number of groups",
                                numfmt.comma_int(lv.n_groups)))
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


def svy_header_lines(res) -> list[str]:
    """The header of ``svy:`` results ([ME] meglm, example 6; [SVY] svy estimation): the
    design's strata, PSUs, population size and design df, and the adjusted Wald F."""
    from ..results.survey_stats import f_pvalue

    ex = res.extra
    pop = ex.get("population_size")
    # integral sizes (unweighted designs) without decimals, others as the manual's
    # "346,373.74"
    pop_txt = ("." if pop is None else f"{pop:,.0f}" if float(pop).is_integer()
               else f"{pop:,.2f}")
    f, k, df2 = ex.get("F", math.nan), int(ex.get("df_m", 0)), ex.get("F_df2", math.nan)
    p = f_pvalue(f, k, df2)
    df2_txt = "." if not math.isfinite(df2) or df2 < 1 else f"{df2:g}"
    out = [f"Survey: {res.title}", ""]
    # subpop(): the counts are those of the subpopulation (the sample the model is fit
    # to), labelled as such
    sub = bool(ex.get("subpop"))
    out.append(header_pair(f"{'Number of strata':<19}= {ex['N_strata']:>10,}",
                            "Subpop. no. obs" if sub else "Number of obs",
                            numfmt.comma_int(res.nobs)))
    out.append(header_pair(f"{'Number of PSUs':<19}= {ex['N_psu']:>10,}",
                            "Subpop. size" if sub else "Population size", pop_txt))
    out.append(header_pair("", "Design df", f"{ex['df_r']:,}"))
    out.append(header_pair("", f"F({k:>2}, {df2_txt})", "." if math.isnan(f) else
                            f"{f:.2f}"))
    out.append(header_pair("", "Prob > F", "." if math.isnan(p) else f"{p:.4f}"))
    return out


def header_lines(res) -> list[str]:
    if res.extra.get("svy"):
        return svy_header_lines(res)
    out = [header_pair(res.title, "Number of obs", numfmt.comma_int(res.nobs))]
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
            out.append(header_pair(method, "Integration pts.", str(res.intpoints)))
        out.append("")
    if res.extra.get("model_F") is not None:  # jackknife: F(k, df_r) = W/k
        out += model_f_lines(res.extra["model_F"],
                             f"{res.ll_label} = {numfmt.g_ll(res.llf)}")
        return out + _constraint_report(res)
    chi2, df = res.wald if res.wald is not None else (math.nan, 0)
    val = "." if df == 0 or math.isnan(chi2) else f"{chi2:.2f}"
    out.append(header_pair("", f"Wald chi2({df})", val))
    p = "." if df == 0 or math.isnan(chi2) else f"{res.wald_p:.4f}"
    out.append(header_pair(f"{res.ll_label} = {numfmt.g_ll(res.llf)}", "Prob > chi2", p))
    return out + _constraint_report(res)


def _constraint_report(res) -> list[str]:
    out: list[str] = []
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


def _constrained_line(label: str, est: float, cols: Columns, *, sep: str = " |",
                     width: int = 12, legend: str = "") -> str:
    if cols.spec.coeflegend:
        return f"{label:>{width}}{sep}{cols.cells(est, None, legend=legend)}"
    return f"{label:>{width}}{sep}{cols.spec.coef(est):>11}  (constrained)"


def _fixed_lines(res, cols: Columns) -> list[str]:
    lev = res.level
    eform = res.eform is not None
    spec = cols.spec

    def body(r) -> str:
        legend = legend_name(r.name, r.status)
        if r.status in ("base", "omitted", "empty"):
            return cols.marker("1" if eform else "0", r.status, legend)
        if r.constrained:
            est = eform_values(r, lev)[0] if eform else r.estimate
            return _constrained_line("", est, cols, sep="", width=0, legend=legend)
        if eform:
            est, se, lo, hi = eform_values(r, lev)
        else:
            est, se = r.estimate, r.se
            lo, hi = r.ci(lev)
        return cols.cells(est, se, r.z, r.p, lo, hi, legend=legend)

    trailing = [(r.label, cols.marker("1", r.status)) for r in res.rows
                if r.section == "offset"]
    return fixed_lines(shown_rows(res.rows, spec), spec, getattr(res, "value_labels", {}),
                       body, trailing=trailing)


def _aux_lines(res, cols: Columns, sep: str) -> list[str]:
    rows = [r for r in res.rows if r.section == "aux"]
    if not rows:
        return []
    out = [sep]
    for r in rows:
        legend = f"_b[{r.name}]"
        lw = label_width()
        if r.constrained:
            out.append(_constrained_line(abbrev(r.label, lw), r.estimate, cols, width=lw,
                                         legend=legend))
            continue
        lo, hi = r.ci(res.level)
        out.append(f"{abbrev(r.label, lw):>{lw}} |"
                   + cols.cells(r.estimate, r.se, r.z, r.p, lo, hi, legend=legend))
    return out


def _block_header(path: str) -> list[str]:
    """``district     |``; long paths wrap after ``>`` (``family>`` / ``subject``)."""
    lw = label_width()
    if len(path) <= lw:
        return [f"{path:<{lw + 1}}|"]
    parts = path.split(">")
    lines, cur = [], ""
    for i, part in enumerate(parts):
        piece = part + (">" if i < len(parts) - 1 else "")
        if cur and len(cur) + len(piece) > lw:
            lines.append(cur)
            cur = ""
        cur += piece
    lines.append(cur)
    return [f"{abbrev(line, lw):<{lw + 1}}|" for line in lines]


def _random_lines(res, cols: Columns, sep: str) -> list[str]:
    out: list[str] = []
    key = None
    nostderr = bool(res.options.get("nostderr"))
    for r in res.rows:
        if r.section not in ("random", "residual"):
            continue
        this = (r.block, getattr(r, "part", "")) if r.section == "random" else ("", "e")
        if this != key:
            out.append(sep)
            if r.section == "random":
                out += _block_header(r.block)
            key = this
        rw = label_width() + 1
        label = abbrev_label(r.label, rw)
        legend = f"_b[{r.name}]"
        if r.constrained:
            out.append(_constrained_line(label, r.estimate, cols, sep="|", width=rw,
                                         legend=legend))
            continue
        lo, hi = r.ci(res.level)
        out.append(f"{label:>{rw}}|" + cols.cells(r.estimate, r.se, r.z, r.p, lo, hi,
                                                se_blank=nostderr, legend=legend))
    return out


def table_lines(res) -> list[str]:
    spec = display_spec(res.options)
    fit_extra = getattr(getattr(res, "fit", None), "extra", None) or {}
    if fit_extra.get("noestimate"):
        # noestimate: the starting values "shown using the coeflegend style of output"
        # ([ME] meglm, Options, L2714)
        spec = replace(spec, coeflegend=True)
    if any(r.df is not None for r in res.rows):  # svy: t with the design df
        cols = Columns(spec, res.level, res.coef_label, "t", "P>|t|")
    else:
        cols = Columns(spec, res.level, res.coef_label)
    # lstretch: one first column for the fixed, ancillary and random-effects rows (the
    # random-effects labels have one more character, up to the "|")
    labels = [res.depvar] + [r.label for r in res.rows if r.section in ("fixed", "offset",
                                                                          "aux")]
    labels += [r.label[:-1] for r in res.rows if r.section in ("random", "residual")]
    lw = stretch_width(spec, labels)
    rule = "-" * (lw + 2 + cols.width)
    sep = "-" * (lw + 1) + "+" + "-" * cols.width
    out = []
    extra = getattr(res, "extra", {})
    if extra.get("vce_note"):  # "(Std. Err. adjusted for 148 clusters in id_school)"
        out.append(f"{extra['vce_note']:>{78 + lw - LABEL_WIDTH}}")
    out.append(rule)
    if extra.get("se_label") and not spec.coeflegend:  # "Robust" over "Std. Err."
        out.append(f"{'':>{lw + 1}}|{extra['se_label']:>21}")
    out.append(f"{abbrev(res.depvar, lw):>{lw}} |{cols.header()}")
    out.append(sep)
    with stretched(lw):
        out += _fixed_lines(res, cols)
        out += _aux_lines(res, cols, sep)
        out += _random_lines(res, cols, sep)
    out.append(rule)
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
        lines += lr_line(res)
    for w in res.warnings:
        lines.append(f"Warning: {w}")
    return "\n".join(lines)
