"""Linear constraints on a GLMM's parameters: ``constraints()``, ``covariance(fixed())``
and ``covariance(pattern())`` of the me commands ([ME] meglm, Options; [R] constraint).

Constraints are linear in Stata's estimation metric (beta, ancillary parameters, log
standard deviations and atanh correlations of the random effects): R e = r.  They are
imposed by reparameterization.  With a pivoted QR of R, a maximal independent set of
coordinates is solved for ("dependent"), the others stay free:

    e = T z + c,   T[free] = I,  T[dep] = -R_dep^+ R_free,  c[dep] = R_dep^+ r,

so the engine maximizes over z only.  The engines work in their own metric (relative
factor theta); a covariance block touched by a constraint is carried in the estimation
metric and mapped to theta by h(phi) = theta(Sigma(phi)), blocks that are not stay in
theta (identity map), so an unconstrained block behaves exactly as in an unconstrained
fit.  By the chain rule, with J = dh/de and g, H the engine's gradient and Hessian,

    d ll / dz = T'J'g,     d2 ll / dz dz' = T'(J'HJ + sum_k g_k d2h_k/de de')T.

The VCE is T (-H_z)^{-1} T' in the estimation metric (the constrained information, as
Stata's): constrained coordinates have variance exactly 0 and are shown
"(constrained)"; the Wald and LR tests count only free dimensions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.linalg as sla

from ..errors import OptionError
from ..optimize import numdiff


@dataclass
class EstimationConstraints:
    """R e = r over the estimation-metric vector e, with the text Stata reports for each
    constraint given (``[var(std[trial])]_cons = 1``)."""

    R: np.ndarray
    r: np.ndarray
    texts: list[str] = field(default_factory=list)


@dataclass
class ConstraintReport:
    """What the results need: which estimation-metric coordinates are fixed, the number of
    free parameters (overall and among the random-effects parameters), the texts."""

    fixed: np.ndarray  # bool over the estimation-metric vector
    n_free: int
    n_free_re: int
    texts: list[str]


class AffineMap:
    """e = T z + c for the solutions of R e = r (see the module docstring)."""

    def __init__(self, R: np.ndarray, r: np.ndarray, size: int) -> None:
        R = np.atleast_2d(np.asarray(R, float)).reshape(-1, size)
        r = np.asarray(r, float).ravel()
        self.T = np.eye(size)
        self.c = np.zeros(size)
        if R.shape[0] == 0:
            self.free = np.arange(size)
            return
        _, rr, piv = sla.qr(R, pivoting=True, mode="economic")
        diag = np.abs(np.diag(rr))
        rank = int(np.sum(diag > 1e-10 * max(diag.max(), 1.0)))
        dep = np.sort(piv[:rank])
        free = np.setdiff1d(np.arange(size), dep)
        rd_pinv = np.linalg.pinv(R[:, dep])
        cd = rd_pinv @ r
        if np.abs(R[:, dep] @ cd - r).max() > 1e-8 * max(1.0, np.abs(r).max()):
            raise OptionError("the constraints are inconsistent (no parameter vector "
                              "satisfies all of them)")
        self.T = np.zeros((size, free.size))
        self.T[free, np.arange(free.size)] = 1.0
        self.T[dep] = -rd_pinv @ R[:, free]
        self.T[np.abs(self.T) < 1e-14] = 0.0
        self.c[dep] = cd
        self.free = free

    @property
    def fixed(self) -> np.ndarray:
        """Coordinates that no free parameter moves."""
        return ~np.any(self.T != 0, axis=1)

    def expand(self, z: np.ndarray) -> np.ndarray:
        return self.T @ z + self.c

    def reduce(self, e: np.ndarray) -> np.ndarray:
        """Free parameters of a (possibly infeasible) vector: its free coordinates."""
        return np.asarray(e, float)[self.free]


@dataclass
class _Piece:
    """One covariance structure (a block of a repeated level, or a whole term) in the
    engine's parameter vector, carried in the estimation metric when ``phi``."""

    structure: object
    start: int
    stop: int
    phi: bool

    def theta(self, phi: np.ndarray) -> np.ndarray:
        s = self.structure
        if getattr(s, "kind", "") in ("independent", "identity") or s.q == 1:
            return np.exp(phi)
        return s.theta_from_sigma(s.sigma_from_phi(phi))

    def phi_of(self, theta: np.ndarray) -> np.ndarray:
        lam = self.structure.relative_factor(theta)
        return self.structure.phi_from_sigma(lam @ lam.T)


def _pieces(terms, k: int) -> list[_Piece]:
    out, pos = [], k
    for t in terms:
        for s in getattr(t.structure, "parts", (t.structure,)):
            out.append(_Piece(s, pos, pos + s.n_theta, False))
            pos += s.n_theta
    return out


class ConstrainedModel:
    """An engine (two-level, nested quadrature or sparse Laplace) seen through the free
    parameters z; every other attribute is the engine's.  ``__class__`` reports the
    engine's class (as :mod:`unittest.mock` spec objects do), so the fitter's engine
    dispatch (``isinstance(model, SparseLaplace)``) is unchanged."""

    def __init__(self, inner, terms, cons: EstimationConstraints) -> None:
        self.inner = inner
        k = inner.p + inner.n_aux
        self.k = k
        self.pieces = _pieces(terms, k)
        size = self.pieces[-1].stop if self.pieces else k
        R = np.asarray(cons.R, float).reshape(-1, size)
        for pc in self.pieces:
            pc.phi = bool(np.any(R[:, pc.start : pc.stop] != 0))
        self.map = AffineMap(R, cons.r, size)
        self.cons = cons
        self._args = (inner, terms, cons)

    def __reduce__(self):  # copy/pickle as a ConstrainedModel, not as the engine
        return (ConstrainedModel, self._args)

    @property  # type: ignore[misc]
    def __class__(self):  # noqa: D105
        return type(self.inner)

    def __getattr__(self, name: str):
        return getattr(self.__dict__["inner"], name)

    # ------------------------------------------------------------- metrics
    def full(self, z: np.ndarray) -> np.ndarray:
        """Engine parameters (theta metric) of the free parameters z."""
        e = self.map.expand(z)
        out = e.copy()
        for pc in self.pieces:
            if pc.phi:
                out[pc.start : pc.stop] = pc.theta(e[pc.start : pc.stop])
        return out

    def free_from_full(self, params: np.ndarray) -> np.ndarray:
        """Starting free parameters from an engine parameter vector."""
        e = np.asarray(params, float).copy()
        for pc in self.pieces:
            if pc.phi:
                e[pc.start : pc.stop] = pc.phi_of(e[pc.start : pc.stop])
        return self.map.reduce(e)

    def _jacobian(self, e: np.ndarray) -> np.ndarray:
        jac = np.eye(e.size)
        for pc in self.pieces:
            if pc.phi:
                sl = slice(pc.start, pc.stop)
                jac[sl, sl] = numdiff.jacobian(pc.theta, e[sl], rel=1e-6)
        return jac

    def _curvature(self, e: np.ndarray, grad: np.ndarray) -> np.ndarray:
        """sum_k g_k d2 h_k / de de' (nonzero on the estimation-metric blocks only)."""
        out = np.zeros((e.size, e.size))
        for pc in self.pieces:
            if pc.phi:
                sl = slice(pc.start, pc.stop)
                g = grad[sl]
                out[sl, sl] = numdiff.hessian(lambda x, g=g, pc=pc: float(g @ pc.theta(x)),
                                              e[sl], rel=1e-4)
        return out

    # ------------------------------------------------------ engine interface
    def loglik(self, z: np.ndarray, *args, **kwargs) -> float:
        return self.inner.loglik(self.full(z), *args, **kwargs)

    def adapt(self, z: np.ndarray, *args, **kwargs):
        return self.inner.adapt(self.full(z), *args, **kwargs)

    def derivatives(self, z: np.ndarray, *args, **kwargs):
        e = self.map.expand(z)
        ll, grad, hess = self.inner.derivatives(self.full(z), *args, **kwargs)
        jac = self._jacobian(e)
        hz = jac.T @ hess @ jac + self._curvature(e, grad)
        T = self.map.T
        return ll, T.T @ (jac.T @ grad), T.T @ hz @ T

    def loglik_and_gradient(self, z: np.ndarray):
        val, grad = self.inner.loglik_and_gradient(self.full(z))
        if grad is None:
            return val, None
        return val, self.map.T.T @ (self._jacobian(self.map.expand(z)).T @ grad)

    def posterior(self, z: np.ndarray, *args, **kwargs):
        return self.inner.posterior(self.full(z), *args, **kwargs)

    def posterior_modes(self, z: np.ndarray, *args, **kwargs):
        return self.inner.posterior_modes(self.full(z), *args, **kwargs)

    # ------------------------------------------------------------- results
    def unwrap(self, z: np.ndarray, hess: np.ndarray):
        """(engine, engine parameters, VCE in the estimation metric, Hessian ok) at the
        optimum z with the Hessian ``hess`` of the log likelihood in z."""
        try:
            ok = bool(hess.size == 0 or np.linalg.eigvalsh(-hess).min() > 0)
            vz = np.linalg.inv(-hess) if ok else np.linalg.pinv(-hess)
        except np.linalg.LinAlgError:
            vz, ok = np.full_like(hess, np.nan), False
        e = self.map.expand(z)
        full = self.full(z)
        T = self.map.T
        jac = np.eye(e.size)  # d(estimation metric)/d(e): theta blocks -> phi
        for pc in self.pieces:
            if not pc.phi and pc.stop > pc.start:
                sl = slice(pc.start, pc.stop)
                jac[sl, sl] = numdiff.jacobian(pc.phi_of, full[sl], rel=1e-7)
        vcov = jac @ T @ vz @ T.T @ jac.T
        fixed = self.map.fixed
        vcov[fixed, :] = 0.0
        vcov[:, fixed] = 0.0
        return self.inner, full, vcov, ok

    def report(self) -> ConstraintReport:
        T = self.map.T
        re_rank = int(np.linalg.matrix_rank(T[self.k :])) if T.shape[0] > self.k else 0
        return ConstraintReport(fixed=self.map.fixed, n_free=T.shape[1], n_free_re=re_rank,
                                texts=list(self.cons.texts))


def constrain(model, terms, params: np.ndarray, cons: EstimationConstraints | None):
    """(model, params) seen through the free parameters when there are constraints."""
    if cons is None:
        return model, params
    wrapped = ConstrainedModel(model, terms, cons)
    return wrapped, wrapped.free_from_full(params)
