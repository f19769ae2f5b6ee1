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

The random-effects design Z (a random slope on x) is a separate matrix.  It is never
centred: centring Z would change the random-effects covariance parameterization (Stata's
results are invariant to centring only for fixed-part columns).  A badly scaled Z column
(root mean square outside [``SD_LOW``, ``SD_HIGH``]) is divided by its root mean square
d_j when the term's covariance is independent or unstructured (or has one effect): then
u* = D u, Sigma* = D Sigma D, the correlations are unchanged and ln sd_j = ln sd*_j -
ln d_j, so the estimation metric moves by a constant (e = J e* + c, c on the ln sd rows
only) and the VCE is unchanged there.  Constraints become (R J) e* = r - R c, ``from()``
variances are shifted, and the empirical Bayes predictions are divided back by d
(``extra["re_scaling"]``, applied by :func:`memodels.postestimation.eb.eb_estimates`).
Terms with identity or exchangeable covariance over several effects (one shared variance),
and fits with ``startgrid()`` (grid values are variances in the user's units), are not
rescaled.

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


def re_scaling(terms, spec: StartSpec | None = None) -> list[np.ndarray | None] | None:
    """Per random-effects term, the divisors d of its Z columns (None: not rescaled), or
    None when no term is rescaled (see the module docstring)."""
    if spec is not None and spec.grids:
        return None
    out: list[np.ndarray | None] = []
    for t in terms:
        Z, st = t.Z, t.structure
        d = None
        if (isinstance(Z, np.ndarray) and Z.ndim == 2 and Z.shape[0] > 1 and Z.shape[1]
                and not hasattr(st, "parts")
                and (st.q == 1 or getattr(st, "kind", "") in ("independent", "unstructured"))
                and np.all(np.isfinite(Z))):
            rms = np.sqrt(np.mean(np.asarray(Z, float) ** 2, axis=0))
            if np.any((rms > 0) & ((rms < SD_LOW) | (rms > SD_HIGH))):
                d = np.where(rms > 0, rms, 1.0)
        out.append(d)
    return out if any(d is not None for d in out) else None


def _phi_shift(terms, divisors: list[np.ndarray | None] | None) -> np.ndarray:
    """c of phi = phi* + c over the variance components (ln sd rows: -ln d)."""
    parts = []
    for n, t in enumerate(terms):
        names = t.structure.phi_names()
        c = np.zeros(len(names))
        d = None if divisors is None else divisors[n]
        if d is not None:
            for pos, (kind, i, _) in enumerate(names):
                if kind == "lnsd":
                    c[pos] = -np.log(d[i])
        parts.append(c)
    return np.concatenate(parts) if parts else np.zeros(0)


@dataclass
class _Transform:
    """e = J e* + c over the estimation vector (``x``: the fixed-effects part or None;
    ``divisors``: the random-effects part or None)."""

    x: DesignScaling | None
    divisors: list[np.ndarray | None] | None
    k: int
    shift: np.ndarray  # c, over the whole estimation vector

    def jacobian(self, size: int) -> np.ndarray:
        return np.eye(size) if self.x is None else self.x.jacobian(size)

    def to_engine_block(self, e: np.ndarray) -> np.ndarray:
        return np.asarray(e, float) if self.x is None else self.x.to_engine(e)


def fit_scaled(fit_glmm: Callable[..., GLMMFit], y: np.ndarray, X: np.ndarray, terms,
               family, *, force: bool = False, **kwargs) -> GLMMFit:
    """``fit_glmm(y, X, terms, family, **kwargs)`` on the transformed design when ``X``
    or a random-effects design is badly scaled, with the results in the original metric;
    otherwise the plain fit.  ``kwargs`` are :func:`memodels.glmm.fit.fit_glmm`'s
    (``start`` in the engine metric, ``start_spec`` and ``constraints`` in the
    estimation metric, all in the original units)."""
    xs = design_scaling(X, family, force=force)
    spec = kwargs.get("start_spec")
    start = kwargs.get("start")
    divisors = None if start is not None else re_scaling(terms, spec)
    if xs is None and divisors is None:
        return fit_glmm(y, X, terms, family, **kwargs)
    p = np.asarray(X).shape[1]
    k = p + len(getattr(family, "aux_names", ()))
    shift = np.concatenate([np.zeros(k), _phi_shift(terms, divisors)])
    tr = _Transform(xs, divisors, k, shift)
    Xs = X if xs is None else xs.transform(X)
    if divisors is not None:
        terms = [t if d is None else dataclasses.replace(t, Z=np.asarray(t.Z, float) / d)
                 for t, d in zip(terms, divisors, strict=True)]
    if start is not None:
        start = np.asarray(start, float).copy()
        start[:k] = tr.to_engine_block(start[:k])
        kwargs["start"] = start
    if spec is not None and spec.values:
        kwargs["start_spec"] = _engine_start_spec(tr, spec, y, Xs, terms, family, kwargs)
    cons = kwargs.get("constraints")
    if cons is not None:
        R = np.atleast_2d(np.asarray(cons.R, float))
        c = tr.shift[: R.shape[1]] if R.shape[1] <= tr.shift.size else np.zeros(R.shape[1])
        kwargs["constraints"] = EstimationConstraints(
            R=R @ tr.jacobian(R.shape[1]), r=np.asarray(cons.r, float) - R @ c,
            texts=list(cons.texts))
    fit = fit_glmm(y, Xs, terms, family, **kwargs)
    return _map_back(fit, tr, cons)


def _engine_start_spec(tr: _Transform, spec: StartSpec, y, Xs, terms, family,
                       kwargs) -> StartSpec:
    """``from()`` values are in the original metric.  Variances move by the constant
    shift.  For coefficients and ancillary parameters, where each engine coefficient
    moves several original ones, the start vector the engine would use is computed
    (fixed-effects GLM on X*, ``startvalues()``), taken to the original metric, the given
    values put in, and the result taken back; all the coefficients and ancillary
    parameters are then passed as values."""
    from ..glm.fit import fit_glm

    k = tr.k
    values = {pos: float(val) - float(tr.shift[pos]) if pos < tr.shift.size else val
              for pos, val in spec.values.items() if pos >= k}
    if tr.x is not None and any(pos < k for pos in spec.values):
        offset = kwargs.get("offset")
        weights = fixed_model_weights(kwargs.get("weights"), kwargs.get("level_weights"),
                                      np.asarray(y).shape[0])
        glm = fit_glm(y, Xs, family, offset=offset, weights=weights)
        theta0 = [t.structure.start_theta(1.0) for t in terms]
        base = initial_params(dataclasses.replace(spec, values={}), y, Xs, terms, family,
                              offset, glm, weights, theta0)
        orig = tr.x.block() @ base[:k]
        for pos, val in spec.values.items():
            if pos < k:
                orig[pos] = val
        engine = tr.x.to_engine(orig)
        values.update({pos: float(engine[pos]) for pos in range(k)})
    else:
        values.update({pos: val for pos, val in spec.values.items() if pos < k})
    return dataclasses.replace(spec, values=values)


def unscale_effects(divisors: list[np.ndarray | None] | None, means: list[np.ndarray],
                    covs: list[np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Empirical Bayes means (groups, q) and covariances (groups, q, q) per term, from the
    engine's u* = D u to the user's u (``divisors``: ``fit.extra["re_scaling"]``)."""
    if divisors is None:
        return means, covs
    out_m, out_c = [], []
    for m, c, d in zip(means, covs, divisors, strict=True):
        if d is None:
            out_m.append(m)
            out_c.append(c)
        else:
            out_m.append(np.asarray(m, float) / d)
            out_c.append(np.asarray(c, float) / np.outer(d, d))
    return out_m, out_c


def _map_back(fit: GLMMFit, tr: _Transform, cons: EstimationConstraints | None) -> GLMMFit:
    """The fit in the original metric (see the module docstring)."""
    size = fit.params.size
    jac = tr.jacobian(size)
    shift = tr.shift if tr.shift.size == size else np.zeros(size)
    fit.params = jac @ fit.params + shift
    fit.vcov = jac @ fit.vcov @ jac.T
    extra = fit.extra if fit.extra is not None else {}
    if tr.x is not None:
        if extra.get("jacobian") is not None:
            extra["jacobian"] = jac @ np.asarray(extra["jacobian"], float)
        extra["scaling_jacobian"] = jac
        extra["scaling"] = tr.x
    if tr.divisors is not None:
        extra["re_scaling"] = tr.divisors
    fit.extra = extra
    if cons is not None and fit.constraints is not None:
        R = np.atleast_2d(np.asarray(cons.R, float))
        fixed = AffineMap(R, cons.r, R.shape[1]).fixed
        fit.vcov[fixed, :] = 0.0
        fit.vcov[:, fixed] = 0.0
        fit.constraints = dataclasses.replace(fit.constraints, fixed=fixed)
    return fit


__all__ = ["DesignScaling", "design_scaling", "re_scaling", "fit_scaled", "unscale_effects",
           "SD_LOW", "SD_HIGH", "SHIFT"]
