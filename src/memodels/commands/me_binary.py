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
    """Mixed-effects logistic regression, as Stata's ``melogit`` ([ME] melogit).

    Parameters
    ----------
    spec : str
        Stata's syntax after the command name (``"y x1 x2 || group: x1, covariance(un)"``)
        or an lme4-style formula (``"y ~ x1 + x2 + (1 + x1 | group)"``); options may
        follow a comma, with Stata's abbreviations.  ``memodels help melogit`` lists them.
    data : pandas.DataFrame
        The data (never modified).
    **options
        Options as keywords, e.g. ``or_=True`` (odds ratios; ``or`` is a Python keyword),
        ``binomial="n"``, ``nolog=True``, ``level=90``. An option memodels cannot honour is
        refused with a :class:`memodels.errors.MemodelsError`.

    Returns
    -------
    GLMMResults
        ``params``, ``bse``, ``vcov``, ``llf``, ``aic``, ``bic``, ``nobs``, ``converged``;
        ``print(res)`` shows Stata's output; ``res.predict()``, ``res.estat()``,
        ``res.margins()``, ``res.test()``, ``res.lincom()``, ``res.nlcom()``.

    Examples
    --------
    >>> import memodels
    >>> df = memodels.datasets.load("bangladesh")
    >>> res = memodels.melogit("c_use urban age child* || district:", df, nolog=True)
    >>> round(res.llf, 4)                       # [ME] melogit, example 1
    -1206.6742
    """
    return fit_me("melogit", spec, data, _keywords(options))


def meprobit(spec: str, data: pd.DataFrame, **options: Any) -> GLMMResults:
    """Mixed-effects probit regression, as Stata's ``meprobit`` ([ME] meprobit).

    Parameters
    ----------
    spec : str
        Stata's syntax after the command name (``"y x1 x2 || group: x1, covariance(un)"``)
        or an lme4-style formula (``"y ~ x1 + x2 + (1 + x1 | group)"``); options may
        follow a comma, with Stata's abbreviations.  ``memodels help meprobit`` lists them.
    data : pandas.DataFrame
        The data (never modified).
    **options
        Options as keywords, e.g. ``binomial="n"``, ``nolog=True``, ``level=90``. An option
        memodels cannot honour is refused with a :class:`memodels.errors.MemodelsError`.

    Returns
    -------
    GLMMResults
        ``params``, ``bse``, ``vcov``, ``llf``, ``aic``, ``bic``, ``nobs``, ``converged``;
        ``print(res)`` shows Stata's output; ``res.predict()``, ``res.estat()``,
        ``res.margins()``, ``res.test()``, ``res.lincom()``, ``res.nlcom()``.

    Examples
    --------
    >>> import memodels
    >>> df = memodels.datasets.load("bangladesh")
    >>> res = memodels.meprobit("c_use urban age child* || district:", df, nolog=True)
    >>> round(res.llf, 4)                       # [ME] meprobit, example 1
    -1206.3713
    """
    return fit_me("meprobit", spec, data, _keywords(options))


def mecloglog(spec: str, data: pd.DataFrame, **options: Any) -> GLMMResults:
    """Mixed-effects complementary log-log regression, as Stata's ``mecloglog`` ([ME] mecloglog).

    Parameters
    ----------
    spec : str
        Stata's syntax after the command name (``"y x1 x2 || group: x1, covariance(un)"``)
        or an lme4-style formula (``"y ~ x1 + x2 + (1 + x1 | group)"``); options may
        follow a comma, with Stata's abbreviations.  ``memodels help mecloglog`` lists them.
    data : pandas.DataFrame
        The data (never modified).
    **options
        Options as keywords, e.g. ``eform=True``, ``binomial="n"``, ``nolog=True``,
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
    >>> df = memodels.datasets.load("bangladesh")
    >>> res = memodels.mecloglog("c_use urban age child* || district:", df, nolog=True)
    >>> round(res.llf, 4)                       # the melogit example's model
    -1210.0493
    """
    return fit_me("mecloglog", spec, data, _keywords(options))


def _keywords(options: dict[str, Any]) -> dict[str, Any]:
    """Accept ``or_=True`` for Stata's ``or`` (a reserved word in Python)."""
    out = dict(options)
    if "or_" in out:
        out["or"] = out.pop("or_")
    return out
