"""An me command with no random-effects equation: the fixed-effects model itself.

``melogit y x`` (no ``||``) is the logistic regression of y on x, ``meologit y x`` the
ordered logit, ``mepoisson`` the Poisson regression, and so on: the model of [ME] meglm,
Methods and formulas, with no random effects, whose likelihood needs no integration.
Its maximum-likelihood fit is the "Fitting fixed-effects model" step every me command
runs first (:func:`memodels.glm.fit.fit_glm`); here it is the final fit, with its
inverse observed information as the VCE.
"""

from __future__ import annotations

import numpy as np

from ..errors import OptionError
from .types import GLMMFit


def check_fixed_only_options(constraints, start_spec, noestimate: bool,
                             resolve_modes: bool) -> None:
    """Options of the random-effects fit that have no counterpart here are refused."""
    if constraints is not None:
        raise OptionError("constraints() with a model without random effects is not "
                          "implemented")
    if noestimate:
        raise OptionError("noestimate with a model without random effects is not "
                          "implemented")
    if start_spec is not None and getattr(start_spec, "grids", ()):
        raise OptionError("startgrid() requires a random-effects equation")
    if start_spec is not None and getattr(start_spec, "values", None):
        raise OptionError("from() with a model without random effects is not implemented")
    if resolve_modes:
        raise OptionError("meqrlogit and meqrpoisson require a random-effects equation")


def fixed_only_fit(glm, family, history: list, intmethod: str, intpoints: int,
                   data: tuple, weights: np.ndarray | None = None) -> GLMMFit:
    """The GLMM result of the fixed-effects fit ``glm`` (no variance components);
    ``data`` = (y, X, offset) as fitted and the observation ``weights`` it used, kept
    for the observation scores and the robust VCE."""
    messages = [] if glm.converged else [glm.message or "convergence not achieved"]
    if not glm.hessian_ok:
        messages.append("Hessian is not negative semidefinite")
    params = np.asarray(glm.params, float)
    return GLMMFit(
        llf=float(glm.llf), params=params, vcov=np.asarray(glm.vcov, float),
        n_beta=int(glm.n_beta), n_aux=params.size - int(glm.n_beta),
        aux_names=tuple(family.aux_names), structures=[], term_sources=[],
        converged=bool(glm.converged), iterations=int(glm.iterations),
        hessian_ok=bool(glm.hessian_ok), ll_fixed=float(glm.llf), intmethod=intmethod,
        intpoints=intpoints, boundary=[], log=history, messages=messages,
        extra={"fixed_only": True, "params_theta": params, "hessian": glm.hessian,
               "gradient": glm.gradient, "eb_means": [], "eb_cov": [], "data": data,
               "family": family, "weights": weights},
    )


def fixed_only_scores(fit: GLMMFit) -> np.ndarray:
    """Per-observation scores d log f_i / d (beta, ancillary) of a fixed-only fit."""
    y, X, offset = fit.extra["data"]
    family = fit.extra["family"]
    X = np.asarray(X, float)
    eta = X @ fit.beta + (0.0 if offset is None else np.asarray(offset, float))
    aux = fit.aux if fit.n_aux else None
    _, s, _ = family.derivatives(y, eta, aux)
    cols = [X * np.asarray(s, float)[:, None]]
    if fit.n_aux:
        da, _, _ = family.aux_derivatives(y, eta, aux)
        cols.append(np.broadcast_to(np.asarray(da, float), (fit.n_aux, eta.size)).T)
    return np.hstack(cols)


def apply_fixed_only_robust(fit: GLMMFit, clusters: np.ndarray | None) -> int:
    """The sandwich VCE H^{-1} {M/(M-1) sum_c s_c s_c'} H^{-1} of a fixed-only fit, with
    s_c the (weighted) scores summed within the clusters of ``clusters`` (per
    observation), or per observation when None ([R] vce_option); returns M."""
    from .robust import sandwich

    scores = fixed_only_scores(fit)
    w = fit.extra.get("weights")
    if w is not None:
        scores = scores * np.asarray(w, float)[:, None]
    if clusters is not None:
        codes = np.unique(np.asarray(clusters), return_inverse=True)[1].reshape(-1)
        summed = np.zeros((int(codes.max()) + 1, scores.shape[1]))
        np.add.at(summed, codes, scores)
        scores = summed
    fit.extra["vcov_oim"] = fit.vcov
    fit.vcov = sandwich(scores, np.asarray(fit.extra["hessian"], float))
    return int(scores.shape[0])


__all__ = ["fixed_only_fit", "apply_fixed_only_robust", "fixed_only_scores",
           "check_fixed_only_options"]
