"""The statsmodels / lme4-style view of the results of every estimation command:
``tvalues``, ``pvalues``, ``conf_int()``, ``fittedvalues``, ``resid``, ``df_resid``,
``fixed_effects``, ``variance_components`` and ``to_frame()``.

Every number is the one Stata prints in the estimation table: the test statistics and
p-values of the fixed effects are z (normal) statistics, or t statistics with the
degrees of freedom of ``dfmethod()`` after ``mixed`` ([ME] mixed, Methods and formulas:
small-sample inference); the confidence intervals use the same reference distribution
on the fixed effects and, for the variance components, Stata's transformed metrics
(log for standard deviations and variances, atanh for correlations).  After ``or``,
``irr``, ``eform`` ... the fixed-effects rows are exponentiated as displayed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import OptionError


def _table(res, level: float | None = None, coef_metric: bool = False) -> pd.DataFrame:
    """The table's estimated rows; ``coef_metric``: the fixed effects in the metric of
    ``params`` (not exponentiated after ``or``/``irr``/``eform``)."""
    from ..results.glmm import GLMMResults

    tab = res.table(level, eform=False) if coef_metric and isinstance(res, GLMMResults) \
        else res.table(level)
    return tab[tab["status"] == "ok"]


def tvalues(res) -> pd.Series:
    """z (or t with dfmethod()) statistics of the fixed effects; NaN for the variance
    components, for which Stata prints none."""
    return _table(res, coef_metric=True)["z"].astype(float).rename("tvalues")


def pvalues(res) -> pd.Series:
    """Two-sided p-values of the fixed effects (normal, or t with dfmethod())."""
    return _table(res, coef_metric=True)["p"].astype(float).rename("pvalues")


def conf_int(res, alpha: float = 0.05) -> pd.DataFrame:
    """Stata's ``(1 - alpha)`` confidence intervals of every estimated parameter,
    columns ``lower`` and ``upper``, in the metric of ``params`` (coefficients, not
    odds ratios: after ``or`` the displayed intervals are ``np.exp`` of these)."""
    try:
        alpha = float(alpha)
    except (TypeError, ValueError):
        raise OptionError(f"conf_int: alpha={alpha!r} is not a number") from None
    if not 0 < alpha < 1:
        raise OptionError(f"conf_int: alpha={alpha} must be between 0 and 1")
    tab = _table(res, 100.0 * (1.0 - alpha), coef_metric=True)
    return pd.DataFrame({"lower": tab["ci_lower"].astype(float),
                         "upper": tab["ci_upper"].astype(float)})


def fixed_effects(res) -> pd.DataFrame:
    """The fixed-effects rows of the table: coef, std_err, z (or t), p and CI."""
    tab = _table(res)
    tab = tab[tab["section"] == "fixed"]
    return tab[["estimate", "se", "z", "p", "ci_lower", "ci_upper"]].astype(float)


def variance_components(res) -> pd.DataFrame:
    """The random-effects and residual rows (and ancillary parameters such as cut
    points, ``/lnalpha`` or ``/ln_p``): one row per parameter with its level, the
    printed label, estimate, standard error and confidence interval."""
    tab = _table(res)
    tab = tab[tab["section"] != "fixed"]
    out = pd.DataFrame({
        "section": tab["section"], "level": tab["block"], "label": tab["label"],
        "estimate": tab["estimate"].astype(float), "se": tab["se"].astype(float),
        "ci_lower": tab["ci_lower"].astype(float), "ci_upper": tab["ci_upper"].astype(float),
    })
    return out


def to_frame(res) -> pd.DataFrame:
    """One tidy row per displayed parameter (including base and omitted levels):
    section, level/block, label, estimate, se, z, p and the confidence interval."""
    return res.table()


def _default_fitted(res) -> str:
    if res.command == "mixed":
        return "fitted"
    return "mu"


def fittedvalues(res) -> pd.Series | pd.DataFrame:
    """Predictions conditional on the random effects for the estimation sample: after
    ``mixed`` the fitted values xb + Zu; after the me commands the mean response at the
    EB means (EB modes after meqr), ``predict, mu``; after ``meologit``/``meoprobit``
    the probability of each outcome (a DataFrame); after ``mestreg`` the predicted mean
    survival time, ``predict, mean``."""
    if res.command == "mestreg":
        return res.predict("mean")
    return res.predict(_default_fitted(res))


def resid(res) -> pd.Series:
    """Response residuals y - fittedvalues (``predict, residuals`` after ``mixed``);
    not defined after ordinal and survival models (a memodels error)."""
    if res.command == "mixed":
        return res.predict("residuals")
    if getattr(res, "family", None) == "ordinal" or res.command == "mestreg":
        raise OptionError(f"resid is not defined after {res.command}: use "
                          "predict('pearson'/'deviance') or the outcome probabilities")
    mu = res.predict("mu")
    y = np.asarray(res.design.y, float)
    return pd.Series(y - mu.to_numpy(float), index=mu.index, name="resid")


def df_resid(res) -> float:
    """Residual degrees of freedom as lme4's ``df.residual``: observations minus every
    estimated parameter (fixed effects, variance components, residual and ancillary
    parameters)."""
    return float(res.nobs - res.n_params)


__all__ = ["conf_int", "df_resid", "fittedvalues", "fixed_effects", "pvalues", "resid",
           "to_frame", "tvalues", "variance_components"]
