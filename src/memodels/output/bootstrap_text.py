"""Stata's text output after ``bootstrap`` ([R] bootstrap; [R] bootstrap postestimation,
``estat bootstrap``), as the hdp worked analysis shows it.

* The results table: the observed estimates with the bootstrap standard errors, z, P>|z|
  and normal-based confidence intervals (variances on the log scale, as the model's
  table), headed ``Observed / Bootstrap / Normal-based``, with ``Replications`` and the
  Wald test computed from the bootstrap covariance of the coefficients.
* ``estat bootstrap``: observed value, bias, bootstrap standard error and the
  bias-corrected (default), percentile or normal intervals, flagged (BC), (P), (N).
"""

from __future__ import annotations

import math

from . import numfmt
from .glmm_text import abbrev, abbrev_label
from .stata_text import RULE, header_pair

SEP = "-" * 13 + "+" + "-" * 64
TOP = f"{'':>13}|{'Observed':>11}{'Bootstrap':>12}{'Normal-based':>37}"
CI_KINDS = {"normal": ("N", "normal"), "percentile": ("P", "percentile"),
            "bc": ("BC", "bias-corrected")}


def header(res, reps: int, wald: tuple[float, int] | None) -> list[str]:
    out = [header_pair(res.title, "Number of obs", numfmt.comma_int(res.nobs)),
           header_pair("", "Replications", numfmt.comma_int(reps))]
    if wald is not None:
        chi2, df = wald
        val = "." if df == 0 or math.isnan(chi2) else f"{chi2:.2f}"
        p = "." if df == 0 or math.isnan(chi2) else f"{_chi2_sf(chi2, df):.4f}"
        out.append(header_pair("", f"Wald chi2({df})", val))
        out.append(header_pair(f"{res.ll_label} = {numfmt.g_ll(res.llf)}", "Prob > chi2", p))
    return out


def _chi2_sf(x: float, df: int) -> float:
    from scipy import stats

    return float(stats.chi2.sf(x, df))


def results_text(boot_res, reps: int, wald) -> str:
    """The model's table with the bootstrap standard errors (``boot_res`` is a copy of the
    fitted results whose rows carry them)."""
    from .glmm_text import table_lines

    lines = header(boot_res, reps, wald)
    if hasattr(boot_res, "intmethod"):
        table = table_lines(boot_res)
    else:  # mixed: its two tables
        from .stata_text import fixed_table, random_table

        table = fixed_table(boot_res) + [""] + random_table(boot_res)
    out, done = [], False
    for line in table:
        out.append(line)
        if line == RULE and not done:
            out.append(TOP)
            done = True
    return "\n".join(lines + out)


def estat_text(res, table, reps: int, kinds: list[str], level: float) -> str:
    """``estat bootstrap [, normal percentile bc all]``."""
    lines = [header_pair(res.title, "Number of obs", numfmt.comma_int(res.nobs)),
             header_pair("", "Replications", numfmt.comma_int(reps)), "", RULE,
             f"{'':>13}|{'Observed':>12}{'':>11}{'Bootstrap':>12}",
             f"{abbrev(res.depvar, 12):>12} |{'Coef.':>12}{'Bias':>11}{'Std. Err.':>12}"
             f"  [{level:g}% Conf. Interval]", SEP]
    for name, row in table.iterrows():
        first = True
        for kind in kinds:
            flag = CI_KINDS[kind][0]
            lo, hi = row[f"{kind}_lower"], row[f"{kind}_upper"]
            if first:
                lead = (f"{abbrev_label(str(name), 12):>12} |{_g10(row['observed']):>12}"
                        f"{numfmt.g9(row['bias']):>11}{_g10(row['se']):>12}")
                first = False
            else:
                lead = f"{'':>12} |{'':>35}"
            lines.append(f"{lead}{numfmt.g9(lo):>12}{numfmt.g9(hi):>11}  ({flag})")
    lines.append(RULE)
    for kind in kinds:
        flag, text = CI_KINDS[kind]
        lines.append(f"{'(' + flag + ')':<8}{text} confidence interval")
    return "\n".join(lines)


def _g10(x: float) -> str:
    """Eight significant digits without a leading zero (Stata's %10.0g)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "."
    if x == 0:
        return "0"
    a = abs(x)
    if a < 1e-4 or a >= 1e9:
        return numfmt.g9(x)
    digits = len(str(int(a))) if a >= 1 else 0
    decimals = max(0, 8 - digits)
    if a < 1:  # leading zeros after the point do not count
        decimals = 8 + int(-math.floor(math.log10(a))) - 1
    s = f"{a:.{decimals}f}".rstrip("0").rstrip(".")
    if s.startswith("0."):
        s = s[1:]
    return ("-" if x < 0 else "") + s
