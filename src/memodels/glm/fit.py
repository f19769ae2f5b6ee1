"""Fixed-effects GLM by Newton-Raphson: the "Fitting fixed-effects model:" step of the me
commands ([ME] meglm, Remarks: starting values, ``startvalues(fixedonly)``).

Its final log likelihood is the comparison value of the LR test against the model without
random effects, and its estimates (coefficients, then the family's ancillary parameters in
the estimation metric) start the GLMM.

Full Newton on (beta, aux) jointly with the observed Hessian; a non-concave Hessian is
replaced by its negative-definite modification (absolute eigenvalues) and steps are
halved until the log likelihood does not decrease.  Convergence requires a negative
definite Hessian, a scaled gradient g'(-H)^{-1}g below ``tol`` and a Newton step whose
relative size (Stata's mreldif) is below 1e-6.  Under perfect prediction the coefficients
drift to infinity at a roughly constant step size, so the last condition never holds and
the fit ends unconverged (``converged=False`` and a ConvergenceWarning) instead of
reporting an infinite estimate as a solution.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from ..errors import ConvergenceWarning, DataError

STEP_TOL = 1e-6  # Stata's default tolerance() on the coefficient vector (mreldif)


@dataclass
class GLMResult:
    params: np.ndarray  # beta, then the family's ancillary parameters (estimation metric)
    llf: float
    vcov: np.ndarray  # inverse of the observed information (-Hessian)
    converged: bool
    iterations: int
    log: list[tuple[int, float]] = field(default_factory=list)  # (iteration, log likelihood)
    gradient: np.ndarray | None = None
    hessian: np.ndarray | None = None
    n_beta: int = 0
    aux_names: tuple[str, ...] = ()
    hessian_ok: bool = True
    message: str = ""

    @property
    def beta(self) -> np.ndarray:
        return self.params[: self.n_beta]

    @property
    def aux(self) -> np.ndarray:
        return self.params[self.n_beta :]

    @property
    def bse(self) -> np.ndarray:
        return np.sqrt(np.clip(np.diag(self.vcov), 0.0, None))


class _Model:
    def __init__(self, y, X, family, offset, weights):
        self.y = np.asarray(y, dtype=float)
        X = np.asarray(X, dtype=float)
        self.X = X.reshape(-1, 1) if X.ndim == 1 else X
        n, self.p = self.X.shape
        if self.y.shape != (n,):
            raise DataError(f"outcome has {self.y.size} values but X has {n} rows")
        self.family = family
        self.a = len(family.aux_names)
        self.offset = np.zeros(n) if offset is None else np.broadcast_to(
            np.asarray(offset, dtype=float), (n,))
        self.w = None if weights is None else np.broadcast_to(
            np.asarray(weights, dtype=float), (n,))
        if self.w is not None and (np.any(self.w < 0) or not np.all(np.isfinite(self.w))):
            raise DataError("weights must be nonnegative and nonmissing")

    def _split(self, theta):
        return theta[: self.p], (theta[self.p :] if self.a else None)

    def _wsum(self, v):
        return v.sum(-1) if self.w is None else v @ self.w

    def loglik(self, theta) -> float:
        beta, aux = self._split(theta)
        with np.errstate(all="ignore"):
            eta = self.X @ beta + self.offset
            val = float(self._wsum(self.family.loglik(self.y, eta, aux)))
        return val if np.isfinite(val) else -np.inf

    def evaluate(self, theta):
        beta, aux = self._split(theta)
        p, a = self.p, self.a
        with np.errstate(all="ignore"):
            eta = self.X @ beta + self.offset
            lf, s, h = self.family.derivatives(self.y, eta, aux)
            ww = np.ones_like(s) if self.w is None else self.w
            ll = float(self._wsum(lf))
            g = np.empty(p + a)
            H = np.empty((p + a, p + a))
            g[:p] = self.X.T @ (ww * s)
            H[:p, :p] = (self.X * (ww * h)[:, None]).T @ self.X
            if a:
                da, daa, dae = self.family.aux_derivatives(self.y, eta, aux)
                g[p:] = np.broadcast_to(da, (a, eta.size)) @ ww
                H[p:, p:] = np.broadcast_to(daa, (a, a, eta.size)) @ ww
                cross = (np.broadcast_to(dae, (a, eta.size)) * ww) @ self.X
                H[p:, :p] = cross
                H[:p, p:] = cross.T
        if not np.isfinite(ll):
            ll = -np.inf
        return ll, g, H


def _newton_step(g, H):
    """Step -H^{-1} g with H made negative definite (|eigenvalues|); concave flag; g'(-H)^{-1}g."""
    if not (np.all(np.isfinite(H)) and np.all(np.isfinite(g))):
        return np.zeros_like(g), False, np.inf
    # in the metric with unit curvature per parameter (H scaled by its diagonal): the same
    # step when H is negative definite, and a badly scaled covariate (x * 1e6) no longer
    # makes the eigenvalue floor swallow the other directions
    d = np.sqrt(np.abs(np.diag(H)))
    d = np.where(d > 0, d, 1.0)
    w, vec = np.linalg.eigh(0.5 * (H + H.T) / np.outer(d, d))
    scale = max(np.abs(w).max(initial=0.0), 1.0)
    concave = bool(w.size == 0 or w.max() < -1e-13 * scale)
    wm = -np.maximum(np.abs(w), 1e-10 * scale)
    gt = vec.T @ (g / d)
    step = -(vec @ (gt / wm)) / d
    nr = float(np.sum(gt * gt / -wm))
    return step, concave, nr


def _start(model: _Model) -> np.ndarray:
    """Intercept at g(mean y) when X has a constant column; other coefficients 0; the
    family's ancillary start (Gaussian: ln sd(y))."""
    fam, X, y = model.family, model.X, model.y
    theta = np.zeros(model.p + model.a)
    const = np.flatnonzero(np.all(X == 1.0, axis=0))
    if model.a:
        theta[model.p :] = fam.start_aux()
    ybar = float(np.average(y, weights=model.w)) if y.size else 0.0
    if fam.name == "gaussian" and model.a:
        sd = float(np.sqrt(np.average((y - ybar) ** 2, weights=model.w))) if y.size else 1.0
        theta[model.p] = np.log(sd) if sd > 0 else 0.0
    if const.size:
        m = ybar
        r = getattr(fam, "_r", None)
        if fam.name == "binomial" and r is not None:
            m = ybar / float(np.mean(np.asarray(r(y.shape), dtype=float)))
        elif fam.name == "bernoulli":
            m = ybar
        with np.errstate(all="ignore"):
            if fam.link.name in ("logit", "probit", "cloglog"):
                m = min(max(m, 1e-4), 1 - 1e-4)
            elif fam.link.name == "log":
                m = max(m, 1e-4)
            eta0 = float(fam.link.link(np.asarray(m))) - float(np.mean(model.offset))
        if np.isfinite(eta0):
            theta[const[0]] = eta0
    return theta


def fit_glm(y, X, family, offset=None, weights=None, start=None, maxiter: int = 100,
            tol: float = 1e-10, model=None) -> GLMResult:
    """Maximum-likelihood GLM of ``family`` (a :class:`memodels.families.Family`).

    ``y`` (n,), ``X`` (n, p) (include the constant column yourself), ``offset`` (n,),
    ``weights`` (n,) frequency/importance weights multiplying each log density.  Returns
    a :class:`GLMResult` whose ``params`` are beta then the ancillary parameters
    (``family.aux_names``, estimation metric) and whose ``vcov`` is the inverse observed
    information.  ``log`` lists (iteration, log likelihood) from iteration 0 (the start).
    ``model`` replaces the model built from ``y`` and ``X``: an object with ``p``, ``a``,
    ``loglik(theta)``, ``evaluate(theta)`` and ``start()`` (the Dask engine's sums over
    partitions of :class:`GLMModel`).
    """
    if model is None:
        model = _Model(y, X, family, offset, weights)
    k = model.p + model.a
    if start is not None:
        theta = np.asarray(start, dtype=float).copy()
    else:
        theta = model.start() if hasattr(model, "start") else _start(model)
    if theta.shape != (k,):
        raise ValueError(f"start must have {k} values (coefficients then ancillary parameters)")
    ll, g, H = model.evaluate(theta)
    if not np.isfinite(ll) and start is None:
        theta = np.zeros(k)
        if model.a:
            theta[model.p :] = family.start_aux()
        ll, g, H = model.evaluate(theta)
    log = [(0, ll)]
    converged, message, it = False, "", 0
    if not np.isfinite(ll):
        message = "initial values not feasible"
    else:
        for it in range(1, maxiter + 1):
            step, concave, nr = _newton_step(g, H)
            rel = float(np.max(np.abs(step) / (np.abs(theta) + 1.0), initial=0.0))
            if concave and nr < tol and rel < STEP_TOL:
                converged, it = True, it - 1
                # polish: the last (tiny) Newton step costs one evaluation and takes the
                # gradient to rounding level; kept unless the likelihood drops by more
                # than summation rounding (the gain itself is ~nr/2, below rounding)
                cand = theta + step
                if model.loglik(cand) >= ll - 1e-12 * (1.0 + abs(ll)):
                    ll2, g2, H2 = model.evaluate(cand)
                    if np.isfinite(ll2) and np.all(np.isfinite(H2)):
                        theta, ll, g, H = cand, ll2, g2, H2
                        log[-1] = (it, ll)
                break
            lam, accepted = 1.0, False
            while lam > 1e-12:
                cand = theta + lam * step
                llc = model.loglik(cand)
                if llc >= ll:
                    accepted = True
                    break
                lam *= 0.5
            if not accepted:
                # no ascent along the Newton direction: at the optimum to machine precision?
                converged = concave and nr < max(tol, 1e-7) and rel < STEP_TOL
                it -= 1
                if not converged:
                    message = "could not improve the log likelihood (backed up)"
                break
            theta = cand
            ll, g, H = model.evaluate(theta)
            log.append((it, ll))
        else:
            message = "convergence not achieved"
    vcov, hess_ok = _invert(H)
    if not hess_ok and converged:
        converged = False
        message = "Hessian is not negative definite"
    if not converged:
        message = message or "convergence not achieved"
        warnings.warn(f"fixed-effects GLM: {message}", ConvergenceWarning, stacklevel=2)
    return GLMResult(
        params=theta, llf=float(ll), vcov=vcov, converged=converged, iterations=it, log=log,
        gradient=g, hessian=H, n_beta=model.p, aux_names=tuple(family.aux_names),
        hessian_ok=hess_ok, message=message,
    )


def _invert(H):
    try:
        if not np.all(np.isfinite(H)):
            return np.full_like(H, np.nan), False
        w = np.linalg.eigvalsh(-0.5 * (H + H.T))
        ok = bool(w.size == 0 or w.min() > 1e-13 * max(abs(w).max(), 1.0))
        return (np.linalg.inv(-H) if ok else np.linalg.pinv(-H)), ok
    except np.linalg.LinAlgError:
        return np.full_like(H, np.nan), False


# public names for the Dask engine (memodels.distributed): the per-partition model and
# the starting values it computes from pooled summaries
GLMModel = _Model
start_values = _start

__all__ = ["fit_glm", "GLMResult", "GLMModel", "start_values"]
