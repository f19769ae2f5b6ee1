"""Render estimation results as Stata's text output: header, group table, coefficient
table, random-effects table and the LR test line ([ME] mixed, Remarks, example 1)."""

from __future__ import annotations

import math

import numpy as np

from . import numfmt

RULE = "-" * 78


def _header_pair(left: str, label: str, value: str) -> str:
    return f"{left:<48}{label:<18}= {value:>10}"


def _header(res) -> list[str]:
    out = []
    levels = res.levels
    nobs = numfmt.comma_int(res.nobs)
    out.append(_header_pair(res.title, "Number of obs", nobs))
    if len(levels) == 1:
        lv = levels[0]
        out.append(_header_pair(f"Group variable: {lv.level}", "Number of groups",
                                numfmt.comma_int(lv.n_groups)))
        if not res.options.get("nogroup"):
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

            out.append(_header_pair("", f"F({d1}, {d2:.2f})", f"{f:.2f}"))
            out.append(_header_pair(ll, "Prob > F", f"{float(stats.f.sf(f, d1, d2)):.4f}"))
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
    chi2, df = res.wald
    val = "." if df == 0 or math.isnan(chi2) else f"{chi2:.2f}"
    p = "." if df == 0 else f"{res.wald_p:.4f}"
    return [_header_pair(left, f"Wald chi2({df})", val), _header_pair(ll, "Prob > chi2", p)]


def _coef_line(label: str, est: str, se: str, z: str, p: str, lo: str, hi: str) -> str:
    return f"{label[-12:]:>12} |{est:>11}{se:>11}{z:>9}{p:>8}{lo:>13}{hi:>12}"


def shown_fixed_rows(res):
    """The fixed-effects rows Stata displays: empty cells never, omitted ones unless
    ``noomitted``, base levels only with ``baselevels``/``allbaselevels``."""
    opts = res.options
    for r in res.rows:
        if r.section != "fixed" or r.status == "empty":
            continue
        if opts.get("noomitted") and r.status == "omitted":
            continue
        if r.status == "base" and not (opts.get("baselevels") or opts.get("allbaselevels")):
            continue
        yield r


def _fixed_table(res) -> list[str]:
    lev = res.level
    out = [RULE]
    note = getattr(res, "extra", {}).get("vce_note")
    if note:
        out.insert(0, f"{note:>78}")
    small = any(r.df is not None for r in res.rows if r.section == "fixed")
    stat, pcol = ("t", "P>|t|") if small else ("z", "P>|z|")
    # meqrlogit, or / meqrpoisson, irr: exp(b) with its delta-method SE and exp(CI)
    eform = getattr(res, "eform", None) is not None
    head = res.coef_label if eform else "Coef."
    # dftable(ci|pvalue) ([ME] mixed, Options): a DF column replacing t and P>|t|, or
    # replacing the confidence interval
    dftab = str(res.options.get("dftable") or "default") if small else "default"
    if dftab == "default":
        out.append(
            f"{res.depvar[-12:]:>12} |{head:>11}   Std. Err.      {stat}    {pcol}     "
            f"[{lev:g}% Conf. Interval]"
        )
    elif dftab == "pvalue":
        out.append(f"{res.depvar[-12:]:>12} |      Coef.   Std. Err.        DF       t    P>|t|")
    else:
        out.append(f"{res.depvar[-12:]:>12} |      Coef.   Std. Err.        DF     "
                   f"[{lev:g}% Conf. Interval]")
    out.append("-" * 13 + "+" + "-" * 64)
    block = None
    for r in shown_fixed_rows(res):
        if r.block and r.block != block:
            if block is not None:
                out.append(f"{'':>12} |")
            out.append(f"{r.block[-12:]:>12} |")
        block = r.block or None
        label = f"{r.label[-10:]:>10}  " if r.block else r.label
        if r.status == "base":
            out.append(f"{label[-12:]:>12} |          0  (base)")
            continue
        if r.status == "omitted":
            out.append(f"{label[-12:]:>12} |          0  (omitted)")
            continue
        lo, hi = r.ci(lev)
        if dftab == "default":
            est, se = r.estimate, r.se
            if eform:
                from ..results.glmm import eform_values

                est, se, lo, hi = eform_values(r, lev)
            out.append(
                _coef_line(label, numfmt.g9(est), numfmt.g9(se), numfmt.fixed(r.z, 2),
                           numfmt.pvalue(r.p), numfmt.g9(lo), numfmt.g9(hi)))
            continue
        head = (f"{label[-12:]:>12} |{numfmt.g9(r.estimate):>11}{numfmt.g9(r.se):>11}"
                f"{r.df:>10.1f}")
        if dftab == "pvalue":
            out.append(f"{head}{numfmt.fixed(r.z, 2):>9}{numfmt.pvalue(r.p):>8}")
        else:
            out.append(f"{head}{numfmt.g9(lo):>13}{numfmt.g9(hi):>12}")
    out.append(RULE)
    return out


def _random_table(res) -> list[str]:
    lev = res.level
    out = [RULE]
    out.append(
        f"  Random-effects Parameters  |   Estimate   Std. Err.     [{lev:g}% Conf. Interval]"
    )
    out.append("-" * 29 + "+" + "-" * 48)
    block = None
    for r in res.rows:
        if r.section not in ("random", "residual"):
            continue
        if r.section == "residual" and block != "__res__":
            out.append("-" * 29 + "+" + "-" * 48)
            block = "__res__"
        elif r.section == "random" and r.block != block:
            if block is not None:
                out.append("-" * 29 + "+" + "-" * 48)
            out.append(f"{r.block[:28]:<28} |")
            block = r.block
        lo, hi = r.ci(lev)
        se = "" if res.options.get("nostderr") else numfmt.g9(r.se)
        out.append(
            f"{r.label[-27:]:>28} |{numfmt.g9(r.estimate):>11}{se:>11}"
            f"{numfmt.g9(lo):>14}{numfmt.g9(hi):>12}"
        )
    out.append(RULE)
    return out


def _estmetric_table(res) -> list[str]:
    """``estmetric``: e(b) as estimated -- beta, ln sds, atanh correlations, ln sigma_e."""
    from scipy import stats

    crit = float(stats.norm.ppf(0.5 + res.level / 200))
    se = np.sqrt(np.clip(np.diag(res.estmetric_vcov.to_numpy()), 0, None))
    out = [RULE, f"{res.depvar[-12:]:>12} |      Coef.   Std. Err.      z    P>|z|     "
           f"[{res.level:g}% Conf. Interval]", "-" * 13 + "+" + "-" * 64]
    for name, b, s in zip(res.estmetric.index, res.estmetric.to_numpy(), se, strict=True):
        z = b / s if s > 0 else np.nan
        p = float(2 * stats.norm.sf(abs(z))) if np.isfinite(z) else np.nan
        out.append(_coef_line(name, numfmt.g9(b), numfmt.g9(s), numfmt.fixed(z, 2),
                              numfmt.pvalue(p), numfmt.g9(b - crit * s), numfmt.g9(b + crit * s)))
    out.append(RULE)
    return out


def _lr_line(res) -> list[str]:
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
        lines += _lr_line(res)
        return "\n".join(lines)
    if not opts.get("nofetable"):
        lines += _fixed_table(res)
    if not (opts.get("noretable") or opts.get("norettable")):
        lines.append("")
        lines += _random_table(res)
    lines += _lr_line(res)
    for w in res.warnings:
        lines.append(f"Warning: {w}")
    return "\n".join(lines)
