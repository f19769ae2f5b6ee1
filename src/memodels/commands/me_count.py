"""``mepoisson`` and ``menbreg``: multilevel mixed-effects count models ([ME] mepoisson,
[ME] menbreg).

Thin wrappers of :func:`memodels.commands.meglm.fit_me`: Poisson with the log link, and
the negative binomial with mean dispersion (``/lnalpha``) by default or
``dispersion(constant)`` (``/lndelta``).  ``exposure(var)`` enters ln(var) with
coefficient 1, ``offset(var)`` var; ``irr`` displays incidence-rate ratios.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..results.glmm import GLMMResults
from .meglm import fit_me


def mepoisson(spec: str, data: pd.DataFrame, **options: Any) -> GLMMResults:
    """Mixed-effects Poisson regression, as Stata's ``mepoisson``, e.g.
    ``mepoisson("seizures treat lbas lbas_trt lage v4 || subject:", df, irr=True)``."""
    return fit_me("mepoisson", spec, data, options)


def menbreg(spec: str, data: pd.DataFrame, **options: Any) -> GLMMResults:
    """Mixed-effects negative binomial regression, as Stata's ``menbreg``
    (``dispersion(mean)`` by default)."""
    return fit_me("menbreg", spec, data, options)
