"""Starting values of a GLMM fit: ``startvalues()``, ``from()`` and ``startgrid()``.

[ME] meglm, Options (Starting values) and Remarks (Obtaining better starting values):

* ``startvalues(zero)``: every parameter 0 in the estimation metric (so standard
  deviations 1 and correlations 0); ``constantonly``: the constant and the ancillary
  parameters from a constant-only model; ``fixedonly`` (the default): coefficients and
  ancillary parameters from the fixed-effects model, variances 1; ``iv``: ``fixedonly``
  plus variances of the random effects from the generalized residuals of the
  fixed-effects model (see :func:`residual_covariances`).
* ``from()``: values for named parameters (in the estimation metric) override the
  computed ones.
* ``startgrid()``: every combination of the listed values for the listed variances and
  covariances (default: 0.1, 1 and 10 for every random-effects variance, and the residual
  variance of a Gaussian model) is evaluated, and the best becomes the starting point.
  Stata runs the default grid on its own when the starting values are not feasible; so
  does :func:`grid_search`.  Each evaluation is logged as ``Grid node k``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from ..errors import EstimationError

SV_METHODS = ("zero", "constantonly", "fixedonly", "iv")
DEFAULT_GRID = (0.1, 1.0, 10.0)


@dataclass(frozen=True)
class GridTarget:
    """A variance ("var", term, i, i), a covariance ("cov", term, i, j) of the random
    effects of an engine term (before repeated levels are merged), or the residual
    variance of a Gaussian model ("resid", -1, 0, 0)."""

    kind: str
    term: int
    i: int = 0
    j: int = 0


@dataclass(frozen=True)
class GridSearch:
    """One ``startgrid()``: the values to try (variance metric) for each target; no
    targets = every random-effects variance (and the Gaussian residual variance)."""

    values: tuple[float, ...] = DEFAULT_GRID
    targets: tuple[GridTarget, ...] = ()


@dataclass(frozen=True)
class StartSpec:
    """How to start the fit.  ``values`` maps positions of the estimation-metric vector
    (beta, ancillary, ln sd / atanh corr) to values (``from()``)."""

    method: str = "fixedonly"
    values: Mapping[int, float] = field(default_factory=dict)
    grids: tuple[GridSearch, ...] = ()


def initial_params(spec: StartSpec, y, X, terms, family, offset, glm, fixed_weights,
                   theta_default: list[np.ndarray]) -> np.ndarray:
    """The engine's starting vector (beta, ancillary, theta) for ``spec``, before any grid
    search.  ``glm`` is the fixed-effects fit; ``terms`` the engine terms in design order
    (repeated levels not merged), whose theta blocks concatenate to the engine's."""
    from ..glm.fit import fit_glm

    p = X.shape[1]
    a = len(family.aux_names)
    beta_aux = np.asarray(glm.params, float).copy()
    if spec.method == "zero":
        beta_aux = np.zeros(p + a)
    elif spec.method == "constantonly":
        beta_aux = np.zeros(p + a)
        cons = [k for k in range(p) if np.all(X[:, k] == 1.0)]
        if cons or a:
            sub = fit_glm(y, X[:, cons], family, offset=offset, weights=fixed_weights)
            est = np.asarray(sub.params, float)
            beta_aux[cons] = est[: len(cons)]
            beta_aux[p:] = est[len(cons):]
    thetas = [np.asarray(t, float).copy() for t in theta_default]
    if spec.method == "iv":
        sigmas = residual_covariances(y, X, terms, family, offset, beta_aux)
        thetas = [t.structure.theta_from_sigma(s) for t, s in zip(terms, sigmas, strict=True)]
    params = np.concatenate([beta_aux, *thetas])
    if spec.values:
        params = apply_values(params, spec.values, terms, p + a)
    return params


def residual_covariances(y, X, terms, family, offset, beta_aux) -> list[np.ndarray]:
    """Random-effects covariances from the fixed-effects model's generalized residuals
    (``startvalues(iv)``).  With s_i and h_i the first and second derivatives of log f at
    the fixed-effects fit, each cluster's one-step estimate of its effects is
    b_c = (Z_c' W_c Z_c)^{-1} Z_c' s_c with W = -h (the weighted regression of the
    working residuals -s/h on Z); Sigma = cov(b_c) - mean((Z_c' W_c Z_c)^{-1}), its
    eigenvalues floored at 1% of its largest (variances of 0.01 at least).  This is a
    moment estimator in the spirit of Stata's generalized-residual method, not its exact
    computation: it only moves the starting point."""
    p = X.shape[1]
    a = len(family.aux_names)
    eta = X @ beta_aux[:p] + (0.0 if offset is None else offset)
    _, s, h = family.derivatives(y, eta, beta_aux[p : p + a] if a else None)
    w = np.clip(-np.asarray(h, float), 1e-8, None)
    s = np.asarray(s, float)
    out = []
    for t in terms:
        z = np.asarray(t.Z, float)
        q = z.shape[1]
        g = np.asarray(t.groups)
        m = int(t.n_groups)
        A = np.empty((m, q, q))
        for i in range(q):
            for j in range(i, q):
                A[:, i, j] = A[:, j, i] = np.bincount(g, w * z[:, i] * z[:, j], minlength=m)
        rhs = np.stack([np.bincount(g, s * z[:, i], minlength=m) for i in range(q)], axis=1)
        ok = np.linalg.eigvalsh(A)[:, 0] > 1e-8 * np.maximum(np.abs(A).max(axis=(1, 2)), 1.0)
        sigma = np.eye(q)
        if ok.sum() > q:
            inv = np.linalg.inv(A[ok])
            b = (inv @ rhs[ok][..., None])[..., 0]
            sigma = np.atleast_2d(np.cov(b, rowvar=False)) - inv.mean(axis=0)
            vals, vecs = np.linalg.eigh(0.5 * (sigma + sigma.T))
            vals = np.maximum(vals, max(0.01 * vals.max(), 0.01))
            sigma = (vecs * vals) @ vecs.T
        out.append(sigma)
    return out


def apply_values(params: np.ndarray, values: Mapping[int, float], terms, k: int) -> np.ndarray:
    """``params`` (engine metric) with estimation-metric values put in: coefficients and
    ancillary parameters directly, ln sd / atanh corr through each term's Sigma."""
    out = params.copy()
    for pos, val in values.items():
        if pos < k:
            out[pos] = val
    thetas = []
    t_pos, phi_pos = k, k
    for t in terms:
        st = t.structure
        lam = st.relative_factor(params[t_pos : t_pos + st.n_theta])
        phi = st.phi_from_sigma(lam @ lam.T)
        n_phi = phi.size
        changed = False
        for pos, val in values.items():
            if phi_pos <= pos < phi_pos + n_phi:
                phi[pos - phi_pos] = val
                changed = True
        thetas.append(st.theta_from_sigma(st.sigma_from_phi(phi)) if changed
                      else params[t_pos : t_pos + st.n_theta])
        t_pos += st.n_theta
        phi_pos += n_phi
    out[k:] = np.concatenate(thetas) if thetas else out[k:]
    return out


def _candidates(grid: GridSearch, terms, gaussian: bool) -> tuple[list[GridTarget],
                                                                  list[tuple[float, ...]]]:
    targets = list(grid.targets)
    if not targets:  # every variance; one for the shared variance of identity/exchangeable
        targets = [GridTarget("var", n, i, i) for n, t in enumerate(terms)
                   for i in range(1 if getattr(t.structure, "kind", "") in
                                  ("identity", "exchangeable") else t.structure.q)]
        if gaussian:
            targets.append(GridTarget("resid", -1))
    combos = list(itertools.product(grid.values, repeat=len(targets)))
    return targets, combos


def _set_targets(params: np.ndarray, targets: list[GridTarget], combo, terms, k: int,
                 resid_pos: int | None) -> np.ndarray | None:
    """``params`` with the targets set to ``combo`` (variance metric); None when the
    resulting covariance matrix is not positive definite."""
    out = params.copy()
    pos = k
    for n, t in enumerate(terms):
        st = t.structure
        lam = st.relative_factor(params[pos : pos + st.n_theta])
        sigma = lam @ lam.T
        touched = False
        shared = getattr(st, "kind", "") in ("identity", "exchangeable")
        for tg, val in zip(targets, combo, strict=True):
            if tg.term != n:
                continue
            touched = True
            if tg.kind == "var":
                idx = range(st.q) if shared else [tg.i]
                for i in idx:
                    sigma[i, i] = val
            else:
                pairs = ([(i, j) for i in range(st.q) for j in range(st.q) if i != j]
                         if getattr(st, "kind", "") == "exchangeable" else [(tg.i, tg.j)])
                for i, j in pairs:
                    sigma[i, j] = sigma[j, i] = val
        if touched:
            if np.linalg.eigvalsh(sigma).min() <= 0:
                return None
            out[pos : pos + st.n_theta] = st.theta_from_sigma(sigma)
        pos += st.n_theta
    for tg, val in zip(targets, combo, strict=True):
        if tg.kind == "resid" and resid_pos is not None:
            if val <= 0:
                return None
            out[resid_pos] = 0.5 * np.log(val)  # the Gaussian /lnsigma
    return out


def grid_search(spec: StartSpec, params: np.ndarray, terms, k: int,
                evaluate: Callable[[np.ndarray], float],
                note: Callable[[int, float], None], resid_pos: int | None = None,
                infeasible_start: bool = False, default_grid: bool = True) -> np.ndarray:
    """Grid node 0 (the starting values), then every node of each ``startgrid()`` (or, when
    node 0 is not feasible, of the default grid); the best feasible node is returned.
    ``evaluate`` gives the log likelihood (-inf when not feasible).
    ``infeasible_start``: node 0 was already found not feasible (its derivatives could not
    be computed), so it is neither evaluated nor logged again.  ``default_grid=False``
    (constrained fits, whose parameters are not the engine's): no automatic grid."""
    if infeasible_start:
        best, best_ll = params, -np.inf
    else:
        best, best_ll = params, evaluate(params)
        note(0, best_ll)
    grids = spec.grids
    if not grids and not np.isfinite(best_ll) and default_grid:
        grids = (GridSearch(),)
    node = 0
    for grid in grids:
        targets, combos = _candidates(grid, terms, resid_pos is not None)
        base = best
        for combo in combos:
            cand = _set_targets(base, targets, combo, terms, k, resid_pos)
            node += 1
            ll = -np.inf if cand is None else evaluate(cand)
            note(node, ll)
            if ll > best_ll:
                best, best_ll = cand, ll
    if not np.isfinite(best_ll):
        raise EstimationError("initial values not feasible: the log likelihood is not "
                               "finite at the starting values or at any grid node; try "
                               "startvalues(), startgrid() with other values, or from()")
    return best
