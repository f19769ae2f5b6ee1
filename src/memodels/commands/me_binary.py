"""``melogit``, ``meprobit``, ``mecloglog``: multilevel mixed-effects binary regression
([ME] melogit, [ME] meprobit, [ME] mecloglog).

Thin wrappers of :func:`memodels.commands.meglm.fit_me`: Bernoulli family (the outcome
is 1 where nonzero, 0 where zero), or binomial with ``binomial(varname|#)`` trials, and
the logit, probit or cloglog link.  Display options: ``or`` (melogit), ``eform``
(mecloglog).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..results.glmm import GLMMResults
from .meglm import fit_me


def melogit(spec: str, data: pd.DataFrame, **options: Any) -> GLMMResults:
    """Mixed-effects logistic regression, as Stata's ``melogit``, e.g.
    ``melogit("c_use urban age child* || district:", df, or_=True)`` -- ``or`` is a
    Python keyword, so pass it as ``**{"or": True}`` or inside the spec (``..., or``)."""
    return fit_me("melogit", spec, data, _keywords(options))


def meprobit(spec: str, data: pd.DataFrame, **options: Any) -> GLMMResults:
    """Mixed-effects probit regression, as Stata's ``meprobit``."""
    return fit_me("meprobit", spec, data, _keywords(options))


def mecloglog(spec: str, data: pd.DataFrame, **options: Any) -> GLMMResults:
    """Mixed-effects complementary log-log regression, as Stata's ``mecloglog``."""
    return fit_me("mecloglog", spec, data, _keywords(options))


def _keywords(options: dict[str, Any]) -> dict[str, Any]:
    """Accept ``or_=True`` for Stata's ``or`` (a reserved word in Python)."""
    out = dict(options)
    if "or_" in out:
        out["or"] = out.pop("or_")
    return out
