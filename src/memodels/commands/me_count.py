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
    """Mixed-effects Poisson regression, as Stata's ``mepoisson`` ([ME] mepoisson).

    Parameters
    ----------
    spec : str
        Stata's syntax after the command name (``"y x1 x2 || group: x1, covariance(un)"``)
        or an lme4-style formula (``"y ~ x1 + x2 + (1 + x1 | group)"``); options may
        follow a comma, with Stata's abbreviations.  ``memodels help mepoisson`` lists them.
    data : pandas.DataFrame
        The data (never modified).
    **options
        Options as keywords, e.g. ``irr=True``, ``exposure="t"``, ``nolog=True``,
        ``level=90``. An option memodels cannot honour is refused with a
        :class:`memodels.errors.MemodelsError`.

    Returns
    -------
    GLMMResults
        ``params``, ``bse``, ``vcov``, ``llf``, ``aic``, ``bic``, ``nobs``, ``converged``;
        ``print(res)`` shows Stata's output; ``res.predict()``, ``res.estat()``,
        ``res.margins()``, ``res.test()``, ``res.lincom()``, ``res.nlcom()``.

    Examples
    --------
    >>> import memodels
    >>> df = memodels.datasets.load("epilepsy")
    >>> res = memodels.mepoisson("seizures treat lbas lbas_trt lage v4 || subject:", df, nolog=True)
    >>> round(res.llf, 4)                       # [ME] mepoisson, example 1: -665.29067
    -665.2907
    """
    return fit_me("mepoisson", spec, data, options)


def menbreg(spec: str, data: pd.DataFrame, **options: Any) -> GLMMResults:
    """Mixed-effects negative binomial regression, as Stata's ``menbreg`` ([ME] menbreg);
    mean dispersion by default.

    Parameters
    ----------
    spec : str
        Stata's syntax after the command name (``"y x1 x2 || group: x1, covariance(un)"``)
        or an lme4-style formula (``"y ~ x1 + x2 + (1 + x1 | group)"``); options may
        follow a comma, with Stata's abbreviations.  ``memodels help menbreg`` lists them.
    data : pandas.DataFrame
        The data (never modified).
    **options
        Options as keywords, e.g. ``irr=True``, ``dispersion="constant"``, ``nolog=True``,
        ``level=90``. An option memodels cannot honour is refused with a
        :class:`memodels.errors.MemodelsError`.

    Returns
    -------
    GLMMResults
        ``params``, ``bse``, ``vcov``, ``llf``, ``aic``, ``bic``, ``nobs``, ``converged``;
        ``print(res)`` shows Stata's output; ``res.predict()``, ``res.estat()``,
        ``res.margins()``, ``res.test()``, ``res.lincom()``, ``res.nlcom()``.

    Examples
    --------
    >>> import memodels
    >>> df = memodels.datasets.load("melanoma")
    >>> res = memodels.menbreg("deaths uv, exposure(expected) || nation: || region:", df,
    ...                        nolog=True)
    >>> round(res.llf, 4)                       # [ME] menbreg, example 2
    -1086.3902
    """
    return fit_me("menbreg", spec, data, options)
