"""What ``test``, ``testparm`` and ``lincom`` return, and how Stata prints it ([R] test,
[R] lincom): the chi2 (or small-sample F) test with its constraint list and, with
``mtest``, a test of each constraint with adjusted p-values; the linear combination's
table, exponentiated with ``eform``/``or``/``irr``/``hr``/``rrr``."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from ..errors import OptionError
from .tables import fmt

# [R] test, option mtest(opt): the p-value adjustment and its footnote
MTEST = {"noadjust": "unadjusted p-values", "bonferroni": "Bonferroni-adjusted p-values",
         "holm": "Holm-adjusted p-values", "sidak": "Sidak-adjusted p-values"}
# [R] lincom, reporting options: option -> column header
EFORM = {"eform": "exp(b)", "or": "Odds Ratio", "hr": "Haz. Ratio", "irr": "IRR",
         "rrr": "RRR"}


def mtest_method(value: str | bool | None) -> str | None:
    """``mtest`` / ``mtest(b)`` / ``mtest(holm)`` -> the adjustment (None: no mtest)."""
    if value is None or value is False:
        return None
    if value is True or str(value).strip() == "":
        return "noadjust"
    word = str(value).strip().lower()
    hit = [m for m in MTEST if m.startswith(word)]
    if len(hit) != 1:
        raise OptionError(f"mtest({value}): use bonferroni, holm, sidak or noadjust")
    return hit[0]


def adjust(p: np.ndarray, method: str) -> np.ndarray:
    """Multiple-testing adjustment of ``p`` ([R] test, Methods and formulas)."""
    k = p.size
    if method == "bonferroni":
        return np.minimum(1.0, k * p)
    if method == "sidak":
        return 1.0 - (1.0 - p) ** k
    if method == "holm":
        order = np.argsort(p)
        out = np.empty(k)
        running = 0.0
        for rank, i in enumerate(order):
            running = max(running, min(1.0, (k - rank) * p[i]))
            out[i] = running
        return out
    return p.copy()


@dataclass
class WaldTest:
    """A Wald test: chi2(df), or -- with ``small`` after ``mixed, dfmethod()`` -- the
    F(df, ddf) test of [ME] mixed postestimation, example 6 (``F`` is the method's
    statistic: the Kenward-Roger scaled F, else chi2/df).  ``linear`` holds the
    constraints ({key: c}, r) for ``accumulate``; ``mtest`` the per-constraint tests."""

    constraints: list[str]
    chi2: float
    df: int
    dropped: list[int] = field(default_factory=list)
    F: float | None = None
    ddf: float | None = None
    linear: list = field(default_factory=list, repr=False)
    mtest: list[tuple[float, int, float]] | None = None  # (chi2, df, adjusted p)
    mtest_method: str | None = None

    @property
    def p(self) -> float:
        if self.F is not None and self.ddf is not None:
            return float(stats.f.sf(self.F, self.df, self.ddf))
        return float(stats.chi2.sf(self.chi2, self.df)) if self.df > 0 else np.nan

    @property
    def pvalue(self) -> float:
        return self.p

    def __str__(self) -> str:
        lines = [f" ({i + 1:>2})  {c}" for i, c in enumerate(self.constraints)]
        for d in self.dropped:
            lines.append(f"       Constraint {d + 1} dropped")
        if self.mtest is not None:
            return "\n".join(lines + [""] + self._mtest_lines())
        if self.F is not None and self.ddf is not None:
            # an integral ddf (svy's design df) prints as Stata's F(  1,    36)
            den = (f"{self.ddf:>6.0f}" if float(self.ddf).is_integer()
                   else f"{self.ddf:>6.2f}")
            lines += ["", f"       F({self.df:>3}, {den}) = {self.F:>8.2f}",
                      f"            Prob > F = {self.p:>10.4f}"]
        else:
            lines += ["", f"           chi2({self.df:>3}) = {self.chi2:>8.2f}",
                      f"         Prob > chi2 = {self.p:>10.4f}"]
        return "\n".join(lines)

    def _mtest_lines(self) -> list[str]:
        rule = "-" * 39
        out = [rule, f"{'':7}|{'chi2':>12}{'df':>7}{'p':>8}", "-" * 7 + "+" + "-" * 31]
        for i, (c2, df, p) in enumerate(self.mtest or []):
            out.append(f"{f'({i + 1})':^7}|{c2:>12.2f}{df:>7d}{p:>11.4f} #")
        out += ["-" * 7 + "+" + "-" * 31,
                f"{'all':^7}|{self.chi2:>12.2f}{self.df:>7d}{self.p:>11.4f}", rule,
                f"{'':>12}# {MTEST[self.mtest_method or 'noadjust']}"]
        return out


@dataclass
class Combination:
    """An estimate with its SE; z inference, or t(df) when ``df`` is set (lincom, small).
    With ``eform`` (eform, or, irr, hr, rrr) the table shows exp(b), its delta-method SE
    exp(b) se and the exponentiated interval ([R] lincom)."""

    expression: str
    estimate: float
    se: float
    level: float = 95.0
    df: float | None = None
    eform: str | None = None

    @property
    def z(self) -> float:
        return self.estimate / self.se if self.se > 0 else np.nan

    @property
    def p(self) -> float:
        if not self.se > 0:
            return np.nan
        if self.df is not None:
            return float(2 * stats.t.sf(abs(self.z), self.df))
        return float(2 * stats.norm.sf(abs(self.z)))

    @property
    def ci(self) -> tuple[float, float]:
        q = 0.5 + self.level / 200
        c = stats.t.ppf(q, self.df) if self.df is not None else stats.norm.ppf(q)
        return (self.estimate - c * self.se, self.estimate + c * self.se)

    def shown(self) -> tuple[float, float, float, float]:
        """(estimate, se, lower, upper) as printed: exponentiated with ``eform``."""
        lo, hi = self.ci
        if self.eform is None:
            return self.estimate, self.se, lo, hi
        e = float(np.exp(self.estimate))
        return e, e * self.se, float(np.exp(lo)), float(np.exp(hi))

    def __str__(self) -> str:
        est, se, lo, hi = self.shown()
        stat = "t    P>|t|" if self.df is not None else "z    P>|z|"
        head = f"{EFORM[self.eform]:>10}" if self.eform else "     Coef."
        return "\n".join([
            f" ( 1)  {self.expression}", "",
            "-" * 78,
            f"{'':>12} | {head}   Std. Err.      {stat}     [{self.level:g}% Conf. "
            "Interval]",
            "-" * 13 + "+" + "-" * 64,
            # the columns of Stata's coefficient tables: 11, 11, 9, 8, 13, 12
            f"{'(1)':>12} |{fmt(est, 11)}{fmt(se, 11)}{self.z:>9.2f}{self.p:>8.3f}"
            f"{fmt(lo, 13)}{fmt(hi, 12)}",
            "-" * 78])


__all__ = ["EFORM", "MTEST", "Combination", "WaldTest", "adjust", "mtest_method"]
