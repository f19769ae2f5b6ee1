"""The profiled LMM likelihood for models with few random effects in all, with its gradient.

When the total number of random effects Q (over all groups and terms) is small -- every
example of the manual -- the penalized least-squares system

    M = [ Lambda'Z'Z Lambda + I   Lambda'Z'X ]
        [ X'Z Lambda              X'X        ]

is factored densely at each evaluation, at a cost independent of n (Z'Z, Z'X, Z'y
are formed once).  The gradient of the profiled deviance is exact (Bates et al. 2015,
sec. 3; the envelope theorem for r^2):

    d log|A| / d theta_k     = 2 <Z'Z Lambda A^{-1}, dLambda_k>
    d log|M| / d theta_k     = 2 <Z'Z Lambda (M^{-1})_uu + Z'X (M^{-1})_xu, dLambda_k>
    d r^2 / d theta_k        = -2 <Z'r u', dLambda_k>

with r = y - X beta - Z Lambda u at the solution.  ML uses log|A|, REML log|M|.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla

from .criteria import Criteria, Evaluation, center_on_ols
from .profiled import sparse_z
from .terms import EngineTerm

DENSE_MAX_Q = 300


class DenseLMM(Criteria):
    """Same interface as :class:`~memodels.lmm.profiled.ProfiledLMM`, dense in Q."""

    def __init__(
        self, y: np.ndarray, X: np.ndarray, terms: list[EngineTerm],
        weights: np.ndarray | None = None,
    ) -> None:
        n, p = X.shape
        w = np.ones(n) if weights is None else np.asarray(weights, float)
        y, self.beta0 = center_on_ols(y, X, None if weights is None else w)
        self.resid0 = y  # the OLS residuals (moment_start's)
        self.n_obs, self.n, self.p = n, float(w.sum()), p
        self.terms = terms
        z, offsets = sparse_z(terms, n)
        zw = z.multiply(w[:, None]).tocsr()
        self.q_total = z.shape[1]
        self.offsets = offsets
        self.ztz = np.asarray((z.T @ zw).todense())
        self.ztx = np.asarray(zw.T @ X)
        self.zty = np.asarray(zw.T @ y).ravel()
        self.xtx = X.T @ (X * w[:, None])
        self.xty = X.T @ (w * y)
        self.yty = float(y @ (w * y))

    def _lambda(self, thetas: list[np.ndarray]) -> np.ndarray:
        lam = np.zeros((self.q_total, self.q_total))
        for t, th, off in zip(self.terms, thetas, self.offsets, strict=False):
            q = t.Z.shape[1]
            block = t.structure.relative_factor(th)
            idx = off + np.arange(t.n_groups)[:, None] * q
            for i in range(q):
                for j in range(q):
                    if block[i, j] != 0.0:
                        lam[idx[:, 0] + i, idx[:, 0] + j] = block[i, j]
        return lam

    def _factor(self, thetas: list[np.ndarray]):
        """The factored mixed-model matrix at theta; the last one is remembered (the Newton
        stage, the exact derivatives and the final estimates ask for the same theta several
        times; the factorization is deterministic, so the numbers are unchanged)."""
        key = tuple(np.asarray(t, dtype=float).tobytes() for t in thetas)
        memo = getattr(self, "_memo", None)
        if memo is not None and memo[0] == key:
            return memo[1]
        out = self._factor_fresh(thetas)
        self._memo = (key, out)
        return out

    def _factor_fresh(self, thetas: list[np.ndarray]):
        lam = self._lambda(thetas)
        qn, p = self.q_total, self.p
        m = np.empty((qn + p, qn + p))
        m[:qn, :qn] = lam.T @ self.ztz @ lam
        m[np.arange(qn), np.arange(qn)] += 1.0
        m[:qn, qn:] = lam.T @ self.ztx
        m[qn:, :qn] = m[:qn, qn:].T
        m[qn:, qn:] = self.xtx
        low = sla.cholesky(m, lower=True, check_finite=False)
        rhs = np.concatenate([lam.T @ self.zty, self.xty])
        sol = sla.cho_solve((low, True), rhs, check_finite=False)
        return lam, low, rhs, sol

    def evaluate(self, thetas: list[np.ndarray], keep: bool = False) -> Evaluation:
        lam, low, rhs, sol = self._factor(thetas)
        qn = self.q_total
        d = np.log(np.diag(low))
        lx = low[qn:, qn:]
        r2 = max(self.yty - float(sol @ rhs), 1e-300)
        ev = Evaluation(2 * float(d[:qn].sum()), 2 * float(d[qn:].sum()), r2,
                        sol[qn:] + self.beta0, lx @ lx.T)
        if keep:
            ev.rest = {"lam": lam, "u": sol[:qn]}
        return ev

    has_gradient = True

    def grad_pieces(
        self, thetas: list[np.ndarray], reml: bool
    ) -> tuple[Evaluation, np.ndarray, np.ndarray]:
        lam, low, rhs, sol = self._factor(thetas)
        qn, p = self.q_total, self.p
        d = np.log(np.diag(low))
        lx = low[qn:, qn:]
        r2 = max(self.yty - float(sol @ rhs), 1e-300)
        ev = Evaluation(2 * float(d[:qn].sum()), 2 * float(d[qn:].sum()), r2,
                        sol[qn:] + self.beta0, lx @ lx.T)
        if reml:
            minv = sla.cho_solve((low, True), np.eye(qn + p), check_finite=False)
            s1 = self.ztz @ lam @ minv[:qn, :qn] + self.ztx @ minv[qn:, :qn]
        else:
            ainv = sla.cho_solve((low[:qn, :qn], True), np.eye(qn), check_finite=False)
            s1 = self.ztz @ lam @ ainv
        u, b = sol[:qn], sol[qn:]
        ztr = self.zty - self.ztz @ (lam @ u) - self.ztx @ b
        s2 = np.outer(ztr, u)
        g_det, g_r2 = [], []
        for t, th, off in zip(self.terms, thetas, self.offsets, strict=False):
            q, g = t.Z.shape[1], t.n_groups
            sl = slice(off, off + g * q)
            dl = t.structure.factor_derivatives(th)
            for mat, out, scale in ((s1, g_det, 2.0), (s2, g_r2, -2.0)):
                blk = mat[sl, sl].reshape(g, q, g, q)
                summed = blk[np.arange(g), :, np.arange(g), :].sum(axis=0)
                out.append(scale * np.einsum("kij,ij->k", dl, summed))
        return ev, np.concatenate(g_det), np.concatenate(g_r2)

    def cov_gradients(
        self, thetas: list[np.ndarray], reml: bool
    ) -> tuple[Evaluation, list[np.ndarray], list[np.ndarray]]:
        """Exact derivatives with respect to each term's relative covariance G_t (summed
        over its groups' diagonal blocks), as :meth:`ProfiledLMM.cov_gradients`:
        d log|V| / dG = Z'V^{-1}Z = Z'Z - K'K with K = L_A^{-1} Lambda'Z'Z; REML subtracts
        W H W' (W = Z'V^{-1}X = Z'X - K'C, C = L_A^{-1} Lambda'Z'X the lower-left block of
        the factor); d r^2 / dG = -(Z'r)(Z'r)'."""
        lam, low, rhs, sol = self._factor(thetas)
        qn = self.q_total
        d = np.log(np.diag(low))
        lx = low[qn:, qn:]
        r2 = max(self.yty - float(sol @ rhs), 1e-300)
        rxtrx = lx @ lx.T
        ev = Evaluation(2 * float(d[:qn].sum()), 2 * float(d[qn:].sum()), r2,
                        sol[qn:] + self.beta0, rxtrx)
        la = low[:qn, :qn]
        k = sla.solve_triangular(la, lam.T @ self.ztz, lower=True, check_finite=False)
        zvz = self.ztz - k.T @ k
        if reml and self.p:
            w = self.ztx - k.T @ low[qn:, :qn].T
            zvz = zvz - w @ np.linalg.solve(rxtrx, w.T)
        u, b = sol[:qn], sol[qn:]
        ztr = self.zty - self.ztz @ (lam @ u) - self.ztx @ b
        f_det, f_r2 = [], []
        for t, off in zip(self.terms, self.offsets, strict=False):
            q, g = t.Z.shape[1], t.n_groups
            sl = slice(off, off + g * q)
            blk = zvz[sl, sl].reshape(g, q, g, q)
            f_det.append(blk[np.arange(g), :, np.arange(g), :].sum(axis=0))
            zr = ztr[sl].reshape(g, q)
            f_r2.append(-(zr.T @ zr))
        return ev, f_det, f_r2

    def cov_pieces(self, thetas: list[np.ndarray], reml: bool):
        """Z'V^{-1}Z, Z'r, Z'V^{-1}X and H at theta as one block of size Q, for the exact
        Hessian in Stata's metric (:mod:`memodels.lmm.phi_derivatives`)."""
        from .phi_derivatives import CovPieces

        lam, low, rhs, sol = self._factor(thetas)
        qn = self.q_total
        d = np.log(np.diag(low))
        lx = low[qn:, qn:]
        r2 = max(self.yty - float(sol @ rhs), 1e-300)
        rxtrx = lx @ lx.T
        ev = Evaluation(2 * float(d[:qn].sum()), 2 * float(d[qn:].sum()), r2,
                        sol[qn:] + self.beta0, rxtrx)
        k = sla.solve_triangular(low[:qn, :qn], lam.T @ self.ztz, lower=True,
                                 check_finite=False)
        c = self.ztz - k.T @ k
        w = self.ztx - k.T @ low[qn:, :qn].T
        u, b = sol[:qn], sol[qn:]
        ztr = self.zty - self.ztz @ (lam @ u) - self.ztx @ b
        h = np.linalg.inv(rxtrx) if self.p else np.zeros((0, 0))
        return CovPieces(ev, c[None], ztr[None], w[None], h, self._expand)

    def _expand(self, t: int, mat: np.ndarray) -> np.ndarray:
        """Term t's q x q matrix repeated over its groups' diagonal blocks of the Q x Q."""
        term, off = self.terms[t], self.offsets[t]
        out = np.zeros((self.q_total, self.q_total))
        q = term.Z.shape[1]
        size = term.n_groups * q
        if q == 1:  # a scalar on the diagonal
            idx = np.arange(off, off + size)
            out[idx, idx] = mat[0, 0]
        else:
            out[off:off + size, off:off + size] = np.kron(np.eye(term.n_groups), mat)
        return out
