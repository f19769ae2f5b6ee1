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


SPAN = 8.0  # half the range of the fixed part of the linear predictor


def _suspect(fit: Any, X: np.ndarray) -> bool:
    """Whether the linear program is worth running (it costs seconds on 10^5 binary
    observations): along a separating direction the gradient stays positive until the
    coefficients are large, so a fit that stopped with its fixed-part linear predictor
    spanning less than 2 x :data:`SPAN` units (probabilities within 1e-7 of each other's
    complements) and a negative definite Hessian is not separated in practice."""
    if not fit.converged or not fit.hessian_ok:
        return True
    beta = np.asarray(fit.params[: X.shape[1]], float)
    if X.shape[1] == 0 or not np.all(np.isfinite(beta)):
        return X.shape[1] > 0
    eta = X @ beta
    return bool((eta.max() - eta.min()) / 2 > SPAN)


def flag_separation(fit: Any, design: Any, y: np.ndarray, family: Any, *,
                    failures: np.ndarray | None = None) -> list[str]:
    """Mark ``fit`` (a :class:`memodels.glmm.types.GLMMFit`) not converged, with a warning
    message, when a separating direction exists; ``failures`` (mestreg): the failure
    indicator.  Returns the names of the diverging coefficients."""
    if fit.extra.get("noestimate"):
        return []
    X = np.asarray(design.X, float)
    if not _suspect(fit, X):
        return []
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
