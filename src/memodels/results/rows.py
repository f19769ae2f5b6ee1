"""Displayed parameter rows: the single table model every output format renders.

A :class:`ParamRow` is one line of Stata's coefficient or random-effects table.  The
confidence-interval rule depends on the metric ([ME] mixed, Methods and formulas;
checked against the manual's printed tables): fixed effects b +/- z se; variances and
standard deviations on the log scale; covariances symmetric; correlations on the atanh
scale.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass
class ParamRow:
    name: str  # Stata's e(b)-style name: week, 2.cancerstage, var(_cons[id]), var(e)
    section: str  # "fixed", "random", "residual", "aux"
    label: str  # printed label within its block: week, 2, var(_cons)
    block: str  # block header: "" (plain), a factor term name, or "id: Unstructured"
    estimate: float = np.nan
    se: float = np.nan
    status: str = "ok"  # ok, base, omitted, empty
    ci_rule: str = "normal"  # normal, log, atanh, symmetric
    df: float | None = None  # t reference distribution when set
    constrained: bool = False  # fixed by constraints(): shown "(constrained)", no SE/CI

    @property
    def z(self) -> float:
        if (self.section != "fixed" or self.status != "ok" or self.constrained
                or not self.se > 0):
            return np.nan
        return self.estimate / self.se

    @property
    def p(self) -> float:
        z = self.z
        if np.isnan(z):
            return np.nan
        if self.df is not None:
            return float(2 * stats.t.sf(abs(z), self.df))
        return float(2 * stats.norm.sf(abs(z)))

    def ci(self, level: float = 95.0) -> tuple[float, float]:
        if (self.status != "ok" or self.constrained or not np.isfinite(self.se)
                or np.isnan(self.estimate)):
            return (np.nan, np.nan)
        if self.df is not None:
            crit = float(stats.t.ppf(0.5 + level / 200, self.df))
        else:
            crit = float(stats.norm.ppf(0.5 + level / 200))
        est, se = self.estimate, self.se
        if self.ci_rule == "log":
            if est <= 0:
                return (np.nan, np.nan)
            half = crit * se / est
            return (est * np.exp(-half), est * np.exp(half))
        if self.ci_rule == "logit":
            if not 0 < est < 1:
                return (np.nan, np.nan)
            z = np.log(est / (1 - est))
            half = crit * se / (est * (1 - est))
            return (float(1 / (1 + np.exp(-(z - half)))), float(1 / (1 + np.exp(-(z + half)))))
        if self.ci_rule == "atanh":
            z = np.arctanh(est)
            half = crit * se / (1 - est * est)
            return (float(np.tanh(z - half)), float(np.tanh(z + half)))
        return (est - crit * se, est + crit * se)
