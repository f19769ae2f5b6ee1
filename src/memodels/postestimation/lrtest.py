"""``lrtest`` between two fitted models ([R] lrtest; [ME] mixed, examples 2, 3, 5, 6, 9).

LR chi2(df) = 2 |ll_A - ll_B| with df = the difference in the number of estimated
parameters (e(df_m) + variance components: ``n_params``); the model with fewer
parameters is the one assumed nested.  Refused (clear error) when

* the models were fitted on different samples (number of observations or dependent
  variable differ) or by different estimators (``mepoisson`` against ``menbreg``: the
  manual's example 1 of [ME] menbreg uses ``force``),
* one was fitted by REML and the other by ML, or both by REML with different fixed
  effects (restricted likelihoods of different fixed-effects designs are not comparable),
* they have the same number of parameters,
* either used a robust VCE or pweights ("LR test likely invalid ...");

``force`` skips all these checks ([R] lrtest).  After two REML fits (same fixed effects)
Stata's note that REML LR tests are valid only for identical fixed effects is printed.

Stata's boundary note is added when the models differ in their number of variance
(standard-deviation) parameters -- a variance tested at 0 is on the boundary
([ME] mixed ex. 2, 5, 6, 9 print it; ex. 3, where only a covariance differs, does not).
"""

from __future__ import annotations

from dataclasses import dataclass

from scipy import stats

from ..errors import MemodelsError

BOUNDARY_NOTE = (
    "Note: The reported degrees of freedom assumes the null hypothesis is not on the\n"
    "      boundary of the parameter space.  If this is not true, then the reported\n"
    "      test is conservative."
)


REML_NOTE = (
    "Note: LR tests based on REML are valid only when the fixed-effects specification is\n"
    "      identical for both models."
)


@dataclass
class LRTestResult:
    chi2: float
    df: int
    nested: str
    full: str
    boundary_note: bool
    reml_note: bool = False  # [R] lrtest's note after two REML fits

    @property
    def p(self) -> float:
        if self.df <= 0:  # lrtest ..., force with equal numbers of parameters
            return float("nan")
        return float(stats.chi2.sf(self.chi2, self.df))

    @property
    def pvalue(self) -> float:
        return self.p

    @property
    def note(self) -> str | None:
        return BOUNDARY_NOTE if self.boundary_note else None

    def __str__(self) -> str:
        left1 = "Likelihood-ratio test"
        left2 = f"(Assumption: {self.nested} nested in {self.full})"
        right1 = f"LR chi2({self.df})  = {self.chi2:>9.2f}"
        right2 = f"Prob > chi2 = {self.p:>9.4f}"
        width = max(len(left1), len(left2)) + 2
        lines = [f"{left1:<{width}}{right1:>30}", f"{left2:<{width}}{right2:>30}"]
        if self.boundary_note:
            lines += ["", BOUNDARY_NOTE]
        if self.reml_note:
            if not self.boundary_note:
                lines.append("")
            lines.append(REML_NOTE)
        return "\n".join(lines)


def _n_variances(res) -> int:
    return sum(1 for r in res.rows
               if r.section in ("random", "residual") and r.status == "ok"
               and (r.name.startswith("var(") or r.name.startswith("sd(")))


def _is_reml(res) -> bool:
    fit = getattr(res, "fit", None)
    return bool(getattr(fit, "reml", False))


def _fixed_names(res) -> list[str]:
    return [r.name for r in res.rows if r.section == "fixed" and r.status == "ok"]


def _nbinomial_vs_poisson(a, b) -> bool:
    """menbreg against mepoisson: Stata notes the boundary (alpha = 0) with or without
    ``force`` ([ME] menbreg, example 1)."""
    fams = {str(getattr(a, "family", "")), str(getattr(b, "family", ""))}
    return fams == {"nbinomial", "poisson"}


def _robust_refusal(res, name: str) -> None:
    """[R] lrtest: refused without ``force`` after a robust/cluster VCE or pweights."""
    extra = getattr(res, "extra", None) or {}
    if str(getattr(res, "ll_label", "")).lower().endswith("pseudolikelihood"):
        raise MemodelsError(f"{name}: LR test likely invalid with log pseudolikelihoods")
    if extra.get("se_label") == "Robust":
        raise MemodelsError(f"{name}: LR test likely invalid for models with robust vce")


def lrtest(
    a, b, names: tuple[str, str] | None = None, *, force: bool = False
) -> LRTestResult:
    """Likelihood-ratio test of two nested models, in either order ([R] lrtest).

    Parameters
    ----------
    a, b : results
        Two fits of nested models on the same sample (both ML, or both REML with the
        same fixed effects).
    names : (str, str), optional
        Names shown in the output (default ``"A"`` and ``"B"``).
    force : bool
        [R] lrtest's ``force``: skip every check of the test's validity (same sample
        and dependent variable, same estimator, ML against REML, REML with different
        fixed effects, equal numbers of parameters, robust VCEs) and compute
        LR chi2 = 2 (ll_full - ll_nested) with df the difference in parameters.

    Returns
    -------
    LRTestResult
        ``chi2``, ``df``, ``p``; ``print()`` shows Stata's output, with the note on
        tests of variances on the boundary of the parameter space.

    Examples
    --------
    >>> import memodels
    >>> pig = memodels.datasets.load("pig")
    >>> slope = memodels.mixed("weight week || id: week", pig, nolog=True)
    >>> intercept = memodels.mixed("weight week || id:", pig, nolog=True)
    >>> lr = memodels.lrtest(slope, intercept)
    >>> round(lr.chi2, 2), lr.df
    (291.78, 1)
    """
    na, nb = names if names is not None else ("A", "B")
    if not force:
        for res, nm in ((a, na), (b, nb)):
            _robust_refusal(res, nm)
        if a.nobs != b.nobs:
            raise MemodelsError(f"observations differ: {a.nobs} vs. {b.nobs}; the models "
                                "were not fitted on the same sample")
        ca, cb = str(getattr(a, "command", "")), str(getattr(b, "command", ""))
        if ca != cb:  # [ME] menbreg, example 1: "lrtest mepoisson ., force"
            raise MemodelsError(f"test involves different estimators: {ca} vs. {cb} (specify "
                                "force if one model is nested in the other)")
        if a.depvar != b.depvar:
            raise MemodelsError(f"dependent variables differ: {a.depvar} vs. {b.depvar}")
    ra, rb = _is_reml(a), _is_reml(b)
    if not force:
        if ra != rb:
            raise MemodelsError("cannot compare a REML model with an ML model")
        if ra and rb and sorted(_fixed_names(a)) != sorted(_fixed_names(b)):
            raise MemodelsError("REML criterion is not comparable under different "
                                "fixed-effects specifications; refit both by ML (or "
                                "specify force)")
    ka, kb = int(a.n_params), int(b.n_params)
    if ka == kb and not force:
        raise MemodelsError(f"df(unrestricted) = df(restricted) = {ka}")
    full, nested = (a, b) if ka > kb else (b, a)
    name_full, name_nested = (na, nb) if ka > kb else (nb, na)
    stat = 2.0 * (full.llf - nested.llf)
    if stat < 0 and stat > -1e-6:
        stat = 0.0
    if stat < 0 and not force:
        raise MemodelsError(
            f"the model with more parameters ({name_full}) has the smaller log likelihood; "
            "the models are not nested")
    note = _nbinomial_vs_poisson(a, b) or (
        not force and _n_variances(full) != _n_variances(nested))
    reml_note = ra and rb and not force
    return LRTestResult(float(stat), abs(ka - kb), name_nested, name_full, note, reml_note)


__all__ = ["lrtest", "LRTestResult", "BOUNDARY_NOTE", "REML_NOTE"]
