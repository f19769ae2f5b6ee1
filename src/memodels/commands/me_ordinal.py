"""``meologit`` and ``meoprobit``: multilevel mixed-effects ordered regression
([ME] meologit, [ME] meoprobit).

Thin wrappers of :func:`memodels.commands.meglm.fit_me` with ``family(ordinal)`` and
the logit or probit link (``meglm ..., family(ordinal) link(logit|probit|cloglog)`` takes
the same path).  The fixed-effects equation has no constant -- its effect is absorbed
into the cutpoints, reported after the coefficients as ``/cut1`` ... ``/cut{K-1}`` (with
z, P and a symmetric confidence interval) -- and the Wald chi2 tests the coefficients
only.  The LR test compares with ``ologit``/``oprobit`` (the fixed-effects model).
``or`` (meologit only) displays odds ratios for the coefficients; the cutpoints stay in
latent-scale units.

The fitted family object (``res.family_obj``) holds the outcome's categories
(``categories``, Stata's e(k_cat) = ``n_categories``) and computes predicted
probabilities (``probabilities(eta, cutpoints)``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from ..design.types import Design
from ..results.glmm import GLMMResults
from .meglm import fit_me

TITLES = {
    "meologit": "Mixed-effects ologit regression",
    "meoprobit": "Mixed-effects oprobit regression",
}


def drop_constant(design: Design) -> Design:
    """The design without its ``_cons`` column.  The constant is removed after the
    design is built, so variables collinear with it are still omitted, as ologit does."""
    cols = list(design.columns)
    pos, keep_cols, drop = 0, [], None
    for col in cols:
        if col.name == "_cons":
            if col.status == "ok":
                drop = pos
            continue
        keep_cols.append(col)
        if col.status == "ok":
            pos += 1
    if drop is None and len(keep_cols) == len(cols):
        return design
    X = design.X if drop is None else np.delete(np.asarray(design.X), drop, axis=1)
    return dataclasses.replace(design, X=X, columns=keep_cols)


def _fit(command: str, spec: str, data: pd.DataFrame, options: dict[str, Any]) -> GLMMResults:
    res = fit_me(command, spec, data, _keywords(options))
    if res.levels:  # without random effects fit_me titles the plain ordered model
        res.title = TITLES[command]
    fam = res.family_obj
    if fam is not None and getattr(fam, "categories", None) is not None:
        res.k_cat = fam.n_categories
    return res


def meologit(spec: str, data: pd.DataFrame, **options: Any) -> GLMMResults:
    """Mixed-effects ordered logistic regression, as Stata's ``meologit`` ([ME] meologit).

    Parameters
    ----------
    spec : str
        Stata's syntax after the command name (``"y x1 x2 || group: x1, covariance(un)"``)
        or an lme4-style formula (``"y ~ x1 + x2 + (1 + x1 | group)"``); options may
        follow a comma, with Stata's abbreviations.  ``memodels help meologit`` lists them.
    data : pandas.DataFrame
        The data (never modified).
    **options
        Options as keywords, e.g. ``or_=True``, ``nolog=True``, ``level=90``. An option
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
    >>> df = memodels.datasets.load("tvsfpors")
    >>> res = memodels.meologit("thk prethk cc##tv || school:", df, nolog=True)
    >>> round(res.llf, 4)                       # [ME] meologit, example 1
    -2119.7428
    """
    return _fit("meologit", spec, data, options)


def meoprobit(spec: str, data: pd.DataFrame, **options: Any) -> GLMMResults:
    """Mixed-effects ordered probit regression, as Stata's ``meoprobit`` ([ME] meoprobit).

    Parameters
    ----------
    spec : str
        Stata's syntax after the command name (``"y x1 x2 || group: x1, covariance(un)"``)
        or an lme4-style formula (``"y ~ x1 + x2 + (1 + x1 | group)"``); options may
        follow a comma, with Stata's abbreviations.  ``memodels help meoprobit`` lists them.
    data : pandas.DataFrame
        The data (never modified).
    **options
        Options as keywords, e.g. ``nolog=True``, ``level=90``. An option memodels cannot
        honour is refused with a :class:`memodels.errors.MemodelsError`.

    Returns
    -------
    GLMMResults
        ``params``, ``bse``, ``vcov``, ``llf``, ``aic``, ``bic``, ``nobs``, ``converged``;
        ``print(res)`` shows Stata's output; ``res.predict()``, ``res.estat()``,
        ``res.margins()``, ``res.test()``, ``res.lincom()``, ``res.nlcom()``.

    Examples
    --------
    >>> import memodels
    >>> df = memodels.datasets.load("tvsfpors")
    >>> res = memodels.meoprobit("thk prethk cc##tv || school:", df, nolog=True)
    >>> round(res.llf, 4)                       # [ME] meoprobit, example 1
    -2121.7715
    """
    return _fit("meoprobit", spec, data, options)


def _keywords(options: dict[str, Any]) -> dict[str, Any]:
    out = dict(options)
    if "or_" in out:
        out["or"] = out.pop("or_")
    return out


__all__ = ["meologit", "meoprobit", "drop_constant"]
