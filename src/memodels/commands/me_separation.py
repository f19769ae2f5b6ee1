"""After an me or meqr fit: a fit whose outcome is perfectly predicted along some
combination of the covariates (separation, :mod:`memodels.glmm.separation`) has no
maximum, whatever the stopping rule said.  The perfect-predictor scan of melogit, meprobit
and mecloglog ([ME] melogit, Options: ``asis``; [R] logit, Model identification) removes
the single-covariate cases before the fit; what remains (``asis``, combinations of
covariates, the count, ordinal and survival models, meqrlogit, which has no ``asis``
option and keeps its covariates) is reported here: the fit is not converged, with a
warning naming the coefficients, as Stata's "convergence not achieved"."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..errors import ConvergenceWarning
from ..glmm.separation import DISCRETE, separated_columns


def separation_message(names: list[str]) -> str:
    which = ", ".join(names)
    return (f"separation: the outcome is predicted perfectly along the coefficient(s) of "
            f"{which}; the log likelihood increases without bound in that direction, so "
            "their maximum likelihood estimates do not exist (the values shown are where "
            "the iterations stopped)")


def flag_separation(fit: Any, design: Any, y: np.ndarray, family: Any, *,
                    failures: np.ndarray | None = None) -> list[str]:
    """Mark ``fit`` (a :class:`memodels.glmm.types.GLMMFit`) not converged, with a warning
    message, when a separating direction exists; ``failures`` (mestreg): the failure
    indicator.  Returns the names of the diverging coefficients."""
    if fit.extra.get("noestimate"):
        return []
    X = np.asarray(design.X, float)
    if failures is not None:
        kind, outcome, trials = "survival", np.asarray(failures, float), None
    else:
        kind = getattr(family, "name", "")
        if kind not in DISCRETE:
            return []
        outcome = np.asarray(y, float)
        trials = np.asarray(family._r(outcome.shape), float) if kind == "binomial" else None
    cats = getattr(family, "categories", None)
    n_cat = len(cats) if cats is not None else None
    cols = separated_columns(kind, outcome, X, trials=trials, n_categories=n_cat)
    if not cols:
        return []
    names = [design.kept_names[j] for j in cols if j < len(design.kept_names)]
    text = separation_message(names)
    fit.converged = False
    if "convergence not achieved" not in fit.messages:
        fit.messages.insert(0, "convergence not achieved")
    fit.messages.append(text)
    warnings.warn(text, ConvergenceWarning, stacklevel=3)
    return names


__all__ = ["flag_separation", "separation_message"]
