"""Internal scaling of the fixed-effects design for the GLMM engine.

Stata's me commands give the same fit whatever the units or origin of a covariate: a
covariate ``year`` (2000-2020) or ``income`` (about 50,000) gives the fit of the centred
model, with the coefficients, their standard errors and the constant expressed in the
original units ([ME] meglm, Methods and formulas: the likelihood depends on the fixed
effects only through the linear predictor x'beta).  The optimizer, the fixed-effects start
GLM and the quadrature do not: with an uncentred ``year`` the constant and the slope are
almost collinear (condition number about 1e10), and with covariates of magnitude 1e4 or
more the Newton steps and finite differences lose their accuracy.

This module fits the model on a transformed design and maps the results back exactly.
Each non-constant fixed-effects column is centred (when the model has a constant, or is
ordinal: the cutpoints absorb the shift) and divided by its standard deviation,

    x*_j = (x_j - m_j) / s_j,   so that   X beta = X* beta*   with   beta = A beta*,

    beta_j = beta*_j / s_j,   beta_cons = beta*_cons - sum_j m_j beta*_j / s_j,
    ordinal cutpoints: kappa_k = kappa*_k + sum_j m_j beta*_j / s_j.

The map e = J e* of the whole estimation vector (coefficients, ancillary parameters,
variance components; J is the identity outside the coefficient/cutpoint block) is linear,
so the log likelihood is unchanged and the results map back exactly: the estimates are
J e*, the VCE is J V* J' (J is the Jacobian of the map), offsets are untouched, and
linear constraints R e = r in the original metric become (R J) e* = r.  ``from()``
values, given in the original metric, are mapped into the engine's.

Only the fixed-effects design X is transformed.  The random-effects design Z (a random
slope on x) is a separate matrix and is left as it is, so the random-effects covariance
parameterization is exactly the user's (centring Z would change it; Stata's results are
invariant to centring only for fixed-part columns).

When the transform is applied: only when the design is badly scaled, i.e. some
non-constant column has a standard deviation outside [``SD_LOW``, ``SD_HIGH``] or
(centring possible) a mean beyond ``SHIFT`` standard deviations from 0.  Designs of
ordinary scale (the manual's examples) are fitted untransformed, so their iteration logs
are exactly the untransformed ones (Newton-Raphson with the exact Hessian is invariant to
the map in exact arithmetic, the L-BFGS-B stage of the Laplace/meqr fits is not).

What the fit keeps in the engine's (transformed) metric, consistently with each other:
``extra["model"]`` (built on X*), ``extra["params_theta"]``, ``extra["hessian"]``,
``extra["gradient"]`` and ``extra["adaptive"]`` (the posterior of the random effects is
invariant).  ``extra["jacobian"]`` is composed with J, so it maps the engine's metric to
the original estimation metric; ``extra["scaling_jacobian"]`` is J itself (the robust VCE
under constraints and ``predict, scores`` apply it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .constraints import AffineMap, EstimationConstraints
from .start import StartSpec, initial_params
from .types import GLMMFit
from .weights import fixed_model_weights

SD_LOW = 1e-2  # a column whose standard deviation is below this is rescaled
SD_HIGH = 1e2  # ... or above this
SHIFT = 10.0  # a column whose |mean| exceeds SHIFT standard deviations is centred


@dataclass(frozen=True)
class DesignScaling:
    """x*_j = (x_j - center_j) / scale_j for every column (center 0 and scale 1 for the
    constant); ``cons`` the constant's column (None without one); ``cutpoints`` the
    number of ordinal cutpoints among the ``n_aux`` ancillary parameters (they come first
    and absorb the centring when there is no constant)."""

    center: np.ndarray
    scale: np.ndarray
    cons: int | None
    n_aux: int
    cutpoints: bool

    @property
    def p(self) -> int:
        return self.center.size

    def transform(self, X: np.ndarray) -> np.ndarray:
        """X* (a new array; X is not modified)."""
        return (np.asarray(X, float) - self.center) / self.scale

    def block(self) -> np.ndarray:
        """J restricted to (beta, aux): e_(beta,aux) = block @ e*_(beta,aux)."""
        p, k = self.p, self.p + self.n_aux
        jac = np.eye(k)
        jac[np.arange(p), np.arange(p)] = 1.0 / self.scale
        shift = self.center / self.scale
        if self.cons is not None:
            jac[self.cons, :p] -= shift
            jac[self.cons, self.cons] = 1.0
        elif self.cutpoints:
            jac[p:k, :p] += shift
        return jac

    def jacobian(self, size: int) -> np.ndarray:
        """J over the whole estimation vector of ``size`` entries."""
        k = self.p + self.n_aux
        jac = np.eye(size)
        jac[:k, :k] = self.block()
        return jac

    def to_engine(self, e: np.ndarray) -> np.ndarray:
        """The engine's (beta*, aux*) of original-metric (beta, aux), exactly."""
        return np.linalg.solve(self.block(), np.asarray(e, float))


def _is_ordinal(family) -> bool:
    return getattr(family, "name", "") == "ordinal"


def design_scaling(X: np.ndarray, family, *, force: bool = False) -> DesignScaling | None:
    """The transform for ``X``, or None when the design is well scaled (see the module
    docstring for the thresholds; ``force``: transform whatever the scale)."""
    X = np.asarray(X, float)
    if X.ndim != 2 or X.shape[0] < 2 or X.shape[1] == 0 or not np.all(np.isfinite(X)):
        return None
    p = X.shape[1]
    ones = np.all(X == 1.0, axis=0)
    cons = int(np.flatnonzero(ones)[0]) if ones.any() else None
    ordinal = _is_ordinal(family)
    can_centre = cons is not None or ordinal
    mean = X.mean(axis=0)
    sd = X.std(axis=0)
    center = np.zeros(p)
    scale = np.ones(p)
    bad = False
    for j in range(p):
        if j == cons:
            continue
        if sd[j] > 0:
            if can_centre:
                center[j] = mean[j]
                bad |= bool(abs(mean[j]) > SHIFT * sd[j])
            scale[j] = sd[j]
            bad |= bool(sd[j] < SD_LOW or sd[j] > SD_HIGH)
        else:  # a constant column other than the constant term: scale only
            size = float(np.abs(X[:, j]).max())
            scale[j] = size if size > 0 else 1.0
            bad |= bool(size > 0 and (size < SD_LOW or size > SD_HIGH))
    if not (bad or force):
        return None
    n_aux = len(getattr(family, "aux_names", ()))
    return DesignScaling(center=center, scale=scale, cons=cons, n_aux=n_aux,
                         cutpoints=bool(ordinal and cons is None))


def fit_scaled(fit_glmm: Callable[..., GLMMFit], y: np.ndarray, X: np.ndarray, terms,
               family, *, force: bool = False, **kwargs) -> GLMMFit:
    """``fit_glmm(y, X, terms, family, **kwargs)`` on the transformed design when ``X``
    is badly scaled, with the results in the original metric; otherwise the plain fit.
    ``kwargs`` are :func:`memodels.glmm.fit.fit_glmm`'s (``start`` in the engine metric,
    ``start_spec`` and ``constraints`` in the estimation metric, all original units)."""
    scaling = design_scaling(X, family, force=force)
    if scaling is None:
        return fit_glmm(y, X, terms, family, **kwargs)
    Xs = scaling.transform(X)
    k = scaling.p + scaling.n_aux
    start = kwargs.get("start")
    if start is not None:
        start = np.asarray(start, float).copy()
        start[:k] = scaling.to_engine(start[:k])
        kwargs["start"] = start
    spec = kwargs.get("start_spec")
    if spec is not None and any(pos < k for pos in spec.values) and start is None:
        kwargs["start_spec"] = _engine_start_spec(scaling, spec, y, Xs, terms, family,
                                                  kwargs)
    cons = kwargs.get("constraints")
    if cons is not None:
        R = np.atleast_2d(np.asarray(cons.R, float))
        kwargs["constraints"] = EstimationConstraints(
            R=R @ scaling.jacobian(R.shape[1]), r=np.asarray(cons.r, float),
            texts=list(cons.texts))
    fit = fit_glmm(y, Xs, terms, family, **kwargs)
    return _map_back(fit, scaling, cons)


def _engine_start_spec(scaling: DesignScaling, spec: StartSpec, y, Xs, terms, family,
                       kwargs) -> StartSpec:
    """``from()`` values for coefficients or ancillary parameters are in the original
    metric, where each engine coefficient moves several original ones: the start vector
    the engine would use is computed (fixed-effects GLM on X*, ``startvalues()``), taken
    to the original metric, the given values put in, and the result taken back; all the
    coefficients and ancillary parameters are then passed as values."""
    from ..glm.fit import fit_glm

    k = scaling.p + scaling.n_aux
    offset = kwargs.get("offset")
    weights = fixed_model_weights(kwargs.get("weights"), kwargs.get("level_weights"),
                                  np.asarray(y).shape[0])
    glm = fit_glm(y, Xs, family, offset=offset, weights=weights)
    theta0 = [t.structure.start_theta(1.0) for t in terms]
    base = initial_params(dataclasses.replace(spec, values={}), y, Xs, terms, family,
                          offset, glm, weights, theta0)
    orig = scaling.block() @ base[:k]
    for pos, val in spec.values.items():
        if pos < k:
            orig[pos] = val
    engine = scaling.to_engine(orig)
    values = {pos: val for pos, val in spec.values.items() if pos >= k}
    values.update({pos: float(engine[pos]) for pos in range(k)})
    return dataclasses.replace(spec, values=values)


def _map_back(fit: GLMMFit, scaling: DesignScaling,
              cons: EstimationConstraints | None) -> GLMMFit:
    """The fit in the original metric (see the module docstring)."""
    jac = scaling.jacobian(fit.params.size)
    fit.params = jac @ fit.params
    fit.vcov = jac @ fit.vcov @ jac.T
    extra = fit.extra if fit.extra is not None else {}
    if extra.get("jacobian") is not None:
        extra["jacobian"] = jac @ np.asarray(extra["jacobian"], float)
    extra["scaling_jacobian"] = jac
    extra["scaling"] = scaling
    fit.extra = extra
    if cons is not None and fit.constraints is not None:
        R = np.atleast_2d(np.asarray(cons.R, float))
        fixed = AffineMap(R, cons.r, R.shape[1]).fixed
        fit.vcov[fixed, :] = 0.0
        fit.vcov[:, fixed] = 0.0
        fit.constraints = dataclasses.replace(fit.constraints, fixed=fixed)
    return fit


__all__ = ["DesignScaling", "design_scaling", "fit_scaled", "SD_LOW", "SD_HIGH", "SHIFT"]
