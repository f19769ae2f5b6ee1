"""Render estimation results as Stata's text output: header, group table, coefficient
table, random-effects table and the LR test line ([ME] mixed, Remarks, example 1)."""

from __future__ import annotations

import math
import re
from dataclasses import replace

import numpy as np

from ..results.glmm import eform_values
from . import numfmt
from .coef_layout import (
    LABEL_WIDTH,
    Columns,
    abbrev,
    abbrev_label,
    fixed_lines,
    legend_name,
    shown_rows,
    stretch_width,
    stretched,
)
from .display_opts import display_spec

RULE = "-" * 78


def header_pair(left: str, label: str, value: str) -> str:
    """One line of the estimation header: text on the left, ``label = value`` on the right
    in Stata's columns."""
    return f"{left:<48}{label:<18}= {value:>10}"


def _header(res) -> list[str]:
    out = []
    levels = res.levels
    nobs = numfmt.comma_int(res.nobs)
    out.append(header_pair(res.title, "Number of obs", nobs))
    if len(levels) == 1 and not res.options.get("nogroup"):
        # nogroup: no group summary at all (number of groups and group sizes)
        lv = levels[0]
        out.append(header_pair(f"Group variable: {lv.level}", "Number of groups",
                                numfmt.comma_int(lv.n_groups)))
        out.append("")
        out.append(f"{'':<48}Obs per group:")
        out.append(f"{'':<62}min = {lv.min:>10}")
        out.append(f"{'':<62}avg = {lv.avg:>10.1f}")
        out.append(f"{'':<62}max = {lv.max:>10}")
    elif levels and not res.options.get("nogroup"):
        out.append("")
        out.append("-" * 61)
        out.append("                |     No. of       Observations per Group")
        out.append(" Group Variable |     Groups    Minimum    Average    Maximum")
        out.append("----------------+--------------------------------------------")
        for lv in levels:
            out.append(
                f"{lv.level[:15]:>15} | {lv.n_groups:>10} {lv.min:>10} {lv.avg:>10.1f} {lv.max:>10}"
            )
        out.append("-" * 61)
    out.append("")
    left = getattr(res, "extra", {}).get("integration_line") or ""  # meqr commands
    ddf = getattr(res, "extra", {}).get("ddf")
    if ddf is not None:
        out.append(f"DF method: {ddf.title}")
        out.append(f"{'':<48}DF:{'min':>15} = {ddf.df.min():>10.2f}")
        out.append(f"{'':<51}{'avg':>15} = {ddf.df.mean():>10.2f}")
        out.append(f"{'':<51}{'max':>15} = {ddf.df.max():>10.2f}")
        out.append("")
        ll = f"{res.ll_label} = {numfmt.g_ll(res.llf)}"
        if ddf.model_f is not None:
            f, d1, d2 = ddf.model_f
            from scipy import stats

            out.append(header_pair("", f"F({d1}, {d2:.2f})", f"{f:.2f}"))
            out.append(header_pair(ll, "Prob > F", f"{float(stats.f.sf(f, d1, d2)):.4f}"))
        elif res.wald is not None:
            # the coefficients' DDFs differ: "the large-sample chi2 test is reported
            # instead of the F test" ([ME] mixed, Methods and formulas)
            out.extend(_wald_lines(res, ll))
        else:
            out.append(ll)
        return out
    if res.wald is not None:
        out.extend(_wald_lines(res, f"{res.ll_label} = {numfmt.g_ll(res.llf)}", left))
    else:
        out.append(f"{res.ll_label} = {numfmt.g_ll(res.llf)}")
    return out


def _wald_lines(res, ll: str, left: str = "") -> list[str]:
    model_f = (getattr(res, "extra", None) or {}).get("model_F")
    if model_f is not None:  # jackknife: F(k, df_r) = W/k ([R] jackknife)
        return model_f_lines(model_f, ll, left)
    chi2, df = res.wald
    val = "." if df == 0 or math.isnan(chi2) else f"{chi2:.2f}"
    p = "." if df == 0 else f"{res.wald_p:.4f}"
    return [header_pair(left, f"Wald chi2({df})", val), header_pair(ll, "Prob > chi2", p)]


def model_f_lines(model_f: tuple[float, int, float], ll: str, left: str = "") -> list[str]:
    """``F(  1,     11) = ...`` and ``Prob > F`` in place of the Wald chi2 lines."""
    from scipy import stats

    f, k, df2 = model_f
    ok = k > 0 and math.isfinite(f)
    p = f"{float(stats.f.sf(f, k, df2)):.4f}" if ok else "."
    return [header_pair(left, f"F({k:>3},{df2:>7.0f})", f"{f:.2f}" if ok else "."),
            header_pair(ll, "Prob > F", p)]


def _coef_line(label: str, est: str, se: str, z: str, p: str, lo: str, hi: str) -> str:
    return f"{label[-12:]:>12} |{est:>11}{se:>11}{z:>9}{p:>8}{lo:>13}{hi:>12}"


def shown_fixed_rows(res):
    """The fixed-effects rows Stata displays under the results' display options (see
    :func:`memodels.output.coef_layout.shown_rows`)."""
    return shown_rows(res.rows, display_spec(res.options))


def fixed_table(res) -> list[str]:
    """The coefficient table of the fixed part (z or t statistics by the model's
    degrees of freedom), as lines of text ([ME] mixed, output)."""
    spec = display_spec(res.options)
    small = any(r.df is not None for r in res.rows if r.section == "fixed")
    stat, pcol = ("t", "P>|t|") if small else ("z", "P>|z|")
    dftable = str(res.options.get("dftable") or "default") if small else "default"
    if dftable == "pvalue":  # DF, t and P>|t| ([ME] mixed, example 13)
        spec = replace(spec, ci=False)
    elif dftable == "ci":  # DF and the confidence interval
        spec = replace(spec, pvalues=False)
    eform = getattr(res, "eform", None) is not None  # meqrlogit, or / meqrpoisson, irr
    coef_label = getattr(res, "coef_label", "Coef.") if eform else "Coef."
    cols = Columns(spec, res.level, coef_label, stat, pcol, dfcol=dftable != "default")
    shown = shown_rows(res.rows, spec)
    # lstretch: a first column wide enough for the longest name, as the line size allows
    lw = stretch_width(spec, [res.depvar] + [r.label for r in shown])
    rule = "-" * (lw + 2 + cols.width)
    out = [rule]
    note = getattr(res, "extra", {}).get("vce_note")
    if note:
        out.insert(0, f"{note:>{78 + lw - LABEL_WIDTH}}")
    out.append(f"{abbrev(res.depvar, lw):>{lw}} |{cols.header()}")
    out.append("-" * (lw + 1) + "+" + "-" * cols.width)

    def body(r) -> str:
        legend = legend_name(r.name, r.status)
        if r.status in ("base", "omitted", "empty"):
            return cols.marker("1" if eform else "0", r.status, legend)
        if eform:  # exp(b), exp(b) se, exp(CI limits); z and p from b
            est, se, lo, hi = eform_values(r, res.level)
        else:
            est, se = r.estimate, r.se
            lo, hi = r.ci(res.level)
        return cols.cells(est, se, r.z, r.p, lo, hi, legend=legend, df=r.df)

    with stretched(lw):
        out += fixed_lines(shown, spec, getattr(res, "value_labels", {}), body)
    out.append(rule)
    return out


def random_table(res) -> list[str]:
    """The random-effects parameters table (estimates and confidence intervals, no
    p-values), as lines of text ([ME] mixed, output)."""
    spec = display_spec(res.options)
    cols = Columns(spec, res.level, "Estimate", pvalues=False)
    rows = [r for r in res.rows if r.section in ("random", "residual")]
    # lstretch: labels are right-aligned in 28 columns (27 characters), blocks in 28
    w = 1 + stretch_width(spec, [r.label for r in rows] + [r.block or "" for r in rows], 27)
    rule = "-" * (w + 2 + cols.width)
    sep = "-" * (w + 1) + "+" + "-" * cols.width
    out = [rule, f"  {'Random-effects Parameters':<{w - 1}}|{cols.header()}", sep]
    block = None
    legends = random_legends(res)
    for r in res.rows:
        if r.section not in ("random", "residual"):
            continue
        if r.section == "residual" and block != "__res__":
            out.append(sep)
            if r.block:
                out.append(f"{r.block[:w]:<{w}} |")
            block = "__res__"
        elif r.section == "random" and r.block != block:
            if block is not None:
                out.append(sep)
            out.append(f"{r.block[:w]:<{w}} |")
            block = r.block
        lo, hi = r.ci(res.level)
        text = cols.cells(r.estimate, r.se, lo=lo, hi=hi,
                          se_blank=bool(res.options.get("nostderr")),
                          legend=legends.get(r.name, f"_b[{r.name}]"))
        out.append(f"{abbrev_label(r.label, w - 1):>{w}} |{text}")
    out.append(rule)
    return out


def random_legends(res) -> dict[str, str]:
    """``_b[]`` legends of the variance components: their e(b) names (``params``)."""
    return {r.name: f"_b[{r.name}]" for r in res.rows if r.section in ("random", "residual")}


_EST_RX = re.compile(r"^(lnsd|atanh)\((.+)\[(.+)\]\)$")


def _estmetric_table(res) -> list[str]:
    """``estmetric``: e(b) as estimated -- the fixed effects, then the random-effects
    parameters in their estimation metric (ln sd, atanh corr) organized by model level
    (``id`` / ``lnsd(_cons)``), then the residual parameters (``lnsig_e``)."""
    from scipy import stats

    spec = display_spec(res.options)
    cols = Columns(spec, res.level)
    crit = float(stats.norm.ppf(0.5 + res.level / 200))
    se = np.sqrt(np.clip(np.diag(res.estmetric_vcov.to_numpy()), 0, None))
    rule = "-" * (14 + cols.width)
    sep = "-" * 13 + "+" + "-" * cols.width
    out = [rule, f"{abbrev(res.depvar, 12):>12} |{cols.header()}", sep]
    fixed = {r.name for r in res.rows if r.section == "fixed"}
    header: str | None = None
    for name, b, s in zip(res.estmetric.index, res.estmetric.to_numpy(), se, strict=True):
        z = b / s if s > 0 else np.nan
        p = float(2 * stats.norm.sf(abs(z))) if np.isfinite(z) else np.nan
        text = cols.cells(b, s, z, p, b - crit * s, b + crit * s, legend=f"_b[{name}]")
        m = _EST_RX.match(name)
        if name in fixed:
            out.append(f"{abbrev(name, 12):>12} |{text}")
            continue
        path = m.group(3) if m else ""
        if path != header:
            out.append(sep)
            if path:
                out.append(f"{abbrev(path, 12):<12} |")
            header = path
        label = abbrev_label(f"{m.group(1)}({m.group(2)})", 12) if m else abbrev(name, 12)
        out.append(f"{label:>12} |{text}")
    out.append(rule)
    return out


def lr_line(res) -> list[str]:
    """The footer line of the likelihood-ratio test against the linear (or one-level)
    model, empty when there is none ([ME] mixed, output)."""
    lr = res.lr_test
    if lr is None:
        return []
    p = lr.p
    ptxt = "0.0000" if p < 0.00005 else f"{p:.4f}"
    if lr.conservative:
        line = f"{lr.label}: {lr.kind} = {lr.stat:.2f}"
        tail = f"Prob > chi2 = {ptxt}"
        out = [line + tail.rjust(78 - len(line))]
        out.append("")
        out.append(lr.note or "Note: LR test is conservative and provided only for reference.")
        return out
    line = f"{lr.label}: {lr.kind} = {lr.stat:.2f}"
    tail = f"Prob >= chibar2 = {ptxt}"
    return [line + tail.rjust(78 - len(line))]


def render(res) -> str:
    opts = res.options
    lines: list[str] = []
    for note in res.notes:
        lines.append(note)
    if res.n_dropped:
        lines.append(f"({res.n_dropped} observations with missing values excluded)")
    if lines:
        lines.append("")
    if not opts.get("noheader"):
        lines += _header(res)
        lines.append("")
    if opts.get("estmetric") and res.estmetric is not None:
        lines += _estmetric_table(res)
        lines += lr_line(res)
        return "\n".join(lines)
    if not opts.get("nofetable"):
        lines += fixed_table(res)
    if not (opts.get("noretable") or opts.get("norettable")):
        lines.append("")
        lines += random_table(res)
    lines += lr_line(res)
    for w in res.warnings:
        lines.append(f"Warning: {w}")
    return "\n".join(lines)
