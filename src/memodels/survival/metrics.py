"""mestreg's distributions, their metrics and how they are displayed ([ME] mestreg,
Options: distribution(), time, nohr, tratio; L12876-12898).

=============  ================  ===========================  ===================
distname       metrics           default display              ancillary (e(b))
=============  ================  ===========================  ===================
exponential    PH (default), AFT  hazard ratios (PH)           --
weibull        PH (default), AFT  hazard ratios (PH)           /ln_p
loglogistic    AFT                coefficients                 /logs
lognormal      AFT                coefficients                 /logs
gamma          AFT                coefficients                 /logs
=============  ================  ===========================  ===================

``time`` selects the AFT metric (exponential and Weibull only); ``nohr`` shows
coefficients instead of hazard ratios (PH only); ``tratio`` shows exp(b) as time ratios
(AFT only).  gompertz is not a mestreg distribution in Stata 14 (L12876).

Weibull PH <-> AFT: b_PH = -p b_AFT, var_PH = p^2 var_AFT (:func:`weibull_ph_from_aft`).
"""

from __future__ import annotations

import numpy as np

from ..errors import OptionError
from .base import SurvivalFamily
from .distributions import Exponential, LogLogistic, LogNormal, Weibull
from .gamma import GammaSurvival

DISTRIBUTIONS: dict[str, type[SurvivalFamily]] = {
    "exponential": Exponential,
    "weibull": Weibull,
    "loglogistic": LogLogistic,
    "lognormal": LogNormal,
    "gamma": GammaSurvival,
}
SYNONYMS = {"llogistic": "loglogistic", "lnormal": "lognormal"}
PH_CAPABLE = ("exponential", "weibull")

EFORM_LABELS = {"hr": "Haz. Ratio", "tratio": "Tm. Ratio"}


def resolve_distribution(name: str) -> str:
    from ..syntax.options import normalize_distribution

    return normalize_distribution(str(name))


def make_distribution(name: str, time: bool = False) -> SurvivalFamily:
    """The family for ``distribution(name)``, in the AFT metric when ``time`` (or when
    the distribution has no PH form), else PH."""
    dist = SYNONYMS.get(name, name)
    if dist not in DISTRIBUTIONS:
        dist = resolve_distribution(name)
    if time and dist not in PH_CAPABLE:
        # [ME] mestreg, Options: "This option is valid only for the exponential and
        # Weibull models" (the others have the AFT metric only)
        raise OptionError(f"option time not allowed with distribution({dist}): it is valid "
                          "only for the exponential and Weibull models (the others are "
                          "accelerated failure-time models already)")
    metric = "ph" if dist in PH_CAPABLE and not time else "aft"
    return DISTRIBUTIONS[dist](metric=metric)


def display_eform(family: SurvivalFamily, options: dict) -> str | None:
    """"hr", "tratio" or None (coefficients) for the display options in effect."""
    nohr, tratio = bool(options.get("nohr")), bool(options.get("tratio"))
    if family.metric == "ph":
        if tratio:
            raise OptionError(f"option tratio not allowed with the {family.name} "
                              "proportional-hazards model (specify time)")
        return None if nohr else "hr"
    if nohr:
        raise OptionError(f"option nohr not allowed: the {family.name} model is in the "
                          "accelerated failure-time metric")
    return "tratio" if tratio else None


def weibull_ph_from_aft(b_aft: np.ndarray, ln_p: float, var_aft=None):
    """b_PH = -p b_AFT (and var_PH = p^2 var_AFT for a random-effects variance)."""
    p = float(np.exp(ln_p))
    b = -p * np.asarray(b_aft, dtype=float)
    return b if var_aft is None else (b, p * p * np.asarray(var_aft, dtype=float))


__all__ = ["DISTRIBUTIONS", "make_distribution", "display_eform", "weibull_ph_from_aft",
           "EFORM_LABELS", "PH_CAPABLE"]
