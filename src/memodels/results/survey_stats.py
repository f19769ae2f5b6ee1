"""Design-based statistics of ``svy:`` estimation results ([SVY] svy estimation,
Methods and formulas; [SVY] variance estimation; [ME] meglm, example 6).

With d the design degrees of freedom (number of PSUs minus number of strata), Stata's
survey tables report t statistics, p-values and confidence intervals from Student's t
with d degrees of freedom -- for the variance components too, whose intervals are
computed on the log scale as usual but with the t critical value (the manual's example
6: var(_cons) = .2955769, se .1243375, interval [.1287156, .6787495] with d = 147).
The model test is the adjusted Wald test: with W the Wald chi-squared statistic of the
k tested coefficients,

    F = W / k * (d - k + 1) / d   on (k, d - k + 1) degrees of freedom,

missing when d - k + 1 < 1 (more tested coefficients than the design supports).
"""

from __future__ import annotations

import math

from scipy import stats


def adjusted_wald_f(chi2: float, k: int, design_df: float) -> tuple[float, int, float]:
    """``(F, k, d - k + 1)``: Stata's adjusted Wald F of a survey fit (NaN F when the
    statistic is missing or d - k + 1 < 1)."""
    if k <= 0:  # no tested coefficients: F(0, d) is missing
        return math.nan, 0, design_df
    df2 = design_df - k + 1
    if df2 < 1 or not math.isfinite(chi2):
        return math.nan, k, df2
    return chi2 / k * df2 / design_df, k, df2


def f_pvalue(f: float, df1: int, df2: float) -> float:
    """Prob > F (NaN when F is missing)."""
    if not math.isfinite(f) or df1 <= 0 or df2 < 1:
        return math.nan
    return float(stats.f.sf(f, df1, df2))


def set_design_df(rows, design_df: float) -> None:
    """Every displayed parameter (fixed, ancillary, variance components) uses t with the
    design df."""
    for r in rows:
        if r.section in ("fixed", "aux", "random", "residual"):
            r.df = float(design_df)


__all__ = ["adjusted_wald_f", "f_pvalue", "set_design_df"]
