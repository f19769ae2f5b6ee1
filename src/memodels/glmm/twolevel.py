"""Two-level GLMM log likelihood by (adaptive) Gauss-Hermite quadrature, with its exact
gradient and Hessian.

[ME] meglm, Methods and formulas.  With Sigma = L L' and u_j = L v_j, v_j ~ N(0, I_q),

    L_j = int f(y_j | X_j beta + Z_j L v) phi(v) dv
        ~= sum_k w_k |C_j| phi(v_jk) / phi(a_k) f(y_j | X_j beta + Z_j L v_jk),
    v_jk = mu_j + C_j a_k,

where (a_k, w_k) is the product Gauss-Hermite rule for N(0, I_q) and (mu_j, C_j C_j') the
cluster's adaptive parameters: the posterior mean and variance of v_j (mvaghermite), its
posterior mode and curvature (mcaghermite; one node = the Laplace approximation), or
(0, I) (ghermite).

As in Stata, the adaptive parameters are held fixed while derivatives are computed and
a Newton step is taken, and updated between iterations; the estimates are the fixed
point of that scheme.  With the nodes fixed, eta_ijk is linear in beta and in the
Cholesky factor L, so the derivatives of log L_j are posterior-weighted sums over the
nodes (weights p_jk = w_jk f_jk / L_j):

    d log L_j        = sum_k p_jk g_jk
    d2 log L_j       = sum_k p_jk (H_jk + g_jk g_jk') - (sum_k p_jk g_jk)(...)'

with g_jk, H_jk the derivatives of log f(y_j | eta_jk) at fixed nodes.

Weights ([ME] meglm, Methods and formulas, Survey data): with observation weights
w_{i|j} and cluster weights w_j the criterion is sum_j w_j log L_j, log f replaced by
sum_i w_{i|j} log f(y_ij | .) inside L_j; so g_jk and H_jk are w_{i|j}-weighted sums and
cluster j's gradient and Hessian terms are multiplied by w_j.  The adaptive parameters
are the moments (or mode) of the weighted integrand.  Unweighted models skip all of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from ..covariance.structures import CovStructure
from ..lmm import batched
from ..quadrature.gauss_hermite import product_rule
from .weights import cluster_weights, obs_weights


@dataclass
class Adaptive:
    """Per-cluster adaptive parameters in the standardized (v) scale."""

    mu: np.ndarray  # (M, q)
    chol: np.ndarray  # (M, q, q), lower

    @classmethod
    def standard(cls, m: int, q: int) -> Adaptive:
        return cls(np.zeros((m, q)), np.broadcast_to(np.eye(q), (m, q, q)).copy())


class TwoLevelQuadrature:
    """One random-effects level: clusters, a q-dimensional effect, one covariance structure."""

    def __init__(
        self,
        y: np.ndarray,
        X: np.ndarray,
        Z: np.ndarray,
        groups: np.ndarray,
        n_groups: int,
        family,
        structure: CovStructure,
        *,
        offset: np.ndarray | None = None,
        method: str = "mvaghermite",
        points: int = 7,
        weights: np.ndarray | None = None,
        level_weights: np.ndarray | None = None,
    ) -> None:
        """``weights``: observation weights w_{i|j}; ``level_weights``: the cluster weights
        w_j copied to every observation (both in data order; None when unweighted)."""
        order = np.argsort(groups, kind="stable")
        self.order = order
        self.y = np.asarray(y, float)[order]
        self.X = np.asarray(X, float)[order]
        self.Z = np.asarray(Z, float)[order]
        self.offset = np.zeros(self.y.size) if offset is None else np.asarray(offset, float)[order]
        g = np.asarray(groups)[order]
        self.starts = np.flatnonzero(np.r_[True, np.diff(g) != 0])
        self.cl = np.repeat(np.arange(self.starts.size), np.diff(np.r_[self.starts, g.size]))
        self.m = n_groups
        self.family = family
        self.structure = structure
        self.q = self.Z.shape[1]
        self.p = self.X.shape[1]
        self.n_aux = len(family.aux_names)
        self.method = method
        npts = 1 if method == "laplace" else points
        self.nodes, self.logw, self.half_sq = product_rule(npts, self.q)
        if method == "laplace":
            self.nodes, self.logw, self.half_sq = np.zeros((1, self.q)), np.zeros(1), np.zeros(1)
        if family.data:
            self.family = family.bind(**{k: np.asarray(v)[order] for k, v in family.data.items()})
        # weights (sorted order): w_{i|j} (n,), w_j (M,), and their product (n,); None
        # when the model is unweighted, so that the unweighted path does no extra work
        self.w_obs = self.w_cl = self.w_tot = None
        if weights is not None or level_weights is not None:
            self.w_obs = obs_weights(weights, order, self.y.size)
            self.w_cl = cluster_weights(level_weights, order, self.cl, self.starts.size)
            self.w_tot = self.w_obs * self.w_cl[self.cl]

    # ------------------------------------------------------------ parameters
    @property
    def n_params(self) -> int:
        return self.p + self.n_aux + self.structure.n_theta

    def split(self, params: np.ndarray):
        p, a = self.p, self.n_aux
        return params[:p], params[p : p + a], params[p + a :]

    def _sum(self, arr: np.ndarray) -> np.ndarray:
        return np.add.reduceat(arr, self.starts, axis=0)

    # ----------------------------------------------------------------- nodes
    def _nodes(self, ad: Adaptive) -> tuple[np.ndarray, np.ndarray]:
        v = ad.mu[:, None, :] + np.einsum("jqr,kr->jkq", ad.chol, self.nodes)
        logdet = np.log(np.diagonal(ad.chol, axis1=1, axis2=2)).sum(axis=1)
        logw = self.logw[None, :] + logdet[:, None] - 0.5 * (v**2).sum(-1) + self.half_sq[None, :]
        return v, logw

    def _eta(self, beta, lam, v) -> np.ndarray:
        xb = self.X @ beta + self.offset
        return xb[:, None] + self._random_part(self.Z @ lam, v)

    def _random_part(self, zl: np.ndarray, v: np.ndarray) -> np.ndarray:
        """z_i'L v_{j(i)k} for every observation and node, (n, K), without holding the
        (n, K, q) nodes of every observation at once."""
        n, k = zl.shape[0], v.shape[1]
        if n * k * self.q <= self.BLOCK_ELEMENTS:
            return np.einsum("iq,ikq->ik", zl, v[self.cl])
        out = np.empty((n, k))
        per = max(1, self.BLOCK_ELEMENTS // max(1, n * self.q))
        for a in range(0, k, per):
            out[:, a : a + per] = np.einsum("iq,ikq->ik", zl, v[:, a : a + per][self.cl])
        return out

    def cluster_loglik(self, params: np.ndarray, ad: Adaptive):
        """(log L_j (M,), log of w_jk f_jk (M,K), nodes v (M,K,q), eta (n,K))."""
        beta, aux, theta = self.split(params)
        lam = self.structure.relative_factor(theta)
        v, logw = self._nodes(ad)
        eta = self._eta(beta, lam, v)
        lf = self.family.loglik(self.y[:, None], eta, aux if self.n_aux else None)
        if self.w_obs is not None:
            lf = lf * self.w_obs[:, None]
        ljk = self._sum(lf) + logw
        return logsumexp(ljk, axis=1), ljk, v, eta

    def loglik(self, params: np.ndarray, ad: Adaptive) -> float:
        try:
            lj = self.cluster_loglik(params, ad)[0]
        except (FloatingPointError, ValueError, np.linalg.LinAlgError):
            return -np.inf
        total = float(lj.sum() if self.w_cl is None else self.w_cl @ lj)
        return total if np.isfinite(total) else -np.inf

    # ------------------------------------------------------------ adaptation
    def adapt(self, params: np.ndarray, ad: Adaptive | None, tol: float = 1e-8,
              maxiter: int = 100) -> Adaptive:
        if ad is None:
            ad = Adaptive.standard(self.m, self.q)
        if self.method == "ghermite":
            return Adaptive.standard(self.m, self.q)
        if self.method in ("mcaghermite", "laplace"):
            return self._adapt_mode(params, ad, tol, maxiter)
        return self._adapt_moments(params, ad, tol, maxiter)

    def _adapt_moments(self, params, ad, tol, maxiter) -> Adaptive:
        """Posterior mean and variance of v_j, iterated to their quadrature fixed point."""
        q = self.q
        for _ in range(maxiter):
            lj, ljk, v, _ = self.cluster_loglik(params, ad)
            pw = np.exp(ljk - lj[:, None])
            mu = np.einsum("jk,jkq->jq", pw, v)
            dv = v - mu[:, None, :]
            cov = np.einsum("jk,jkq,jkr->jqr", pw, dv, dv)
            cov[:, np.arange(q), np.arange(q)] += 1e-12
            try:
                chol = batched.cholesky(cov)
            except np.linalg.LinAlgError:
                w, vec = np.linalg.eigh(cov)
                fixed = vec @ (np.maximum(w, 1e-10)[..., None] * np.swapaxes(vec, 1, 2))
                chol = np.linalg.cholesky(fixed)
            change = max(np.abs(mu - ad.mu).max(), np.abs(chol - ad.chol).max())
            ad = Adaptive(mu, chol)
            if change < tol:
                break
        return ad

    def _adapt_mode(self, params, ad, tol, maxiter) -> Adaptive:
        """Posterior mode of v_j and the Cholesky factor of the inverse negative curvature."""
        beta, aux, theta = self.split(params)
        lam = self.structure.relative_factor(theta)
        xb = self.X @ beta + self.offset
        zl = self.Z @ lam
        q = self.q
        v = ad.mu.copy()
        auxv = aux if self.n_aux else None

        def objective(vv):
            eta = xb + np.einsum("iq,iq->i", zl, vv[self.cl])
            lf, s, h = self.family.derivatives(self.y, eta, auxv)
            if self.w_obs is not None:  # the weighted integrand's mode and curvature
                lf, s, h = lf * self.w_obs, s * self.w_obs, h * self.w_obs
            val = self._sum(lf) - 0.5 * (vv**2).sum(1)
            grad = self._sum(s[:, None] * zl) - vv
            hess = self._sum(h[:, None, None] * zl[:, :, None] * zl[:, None, :])
            hess[:, np.arange(q), np.arange(q)] -= 1.0
            return val, grad, hess

        val, grad, hess = objective(v)
        for _ in range(maxiter):
            step = -np.linalg.solve(hess, grad[..., None])[..., 0]
            lam_s = np.ones(self.m)
            for _ in range(30):
                cand = v + lam_s[:, None] * step
                nval, ngrad, nhess = objective(cand)
                bad = ~(nval >= val - 1e-12) | ~np.isfinite(nval)
                if not bad.any():
                    break
                lam_s = np.where(bad, lam_s / 2, lam_s)
            v, val, grad, hess = cand, nval, ngrad, nhess
            if np.abs(step * lam_s[:, None]).max() < tol:
                break
        # the factor of the curvature itself (Pinheiro and Chao 2006), not of its inverse
        return Adaptive(v, batched.precision_root(-hess))

    # ----------------------------------------------------------- derivatives
    # (observation, node, parameter) elements held at once: the derivatives are summed over
    # blocks of nodes, so memory stays linear in n whatever the number of nodes (q = 4
    # effects at 7 points are 2,401 nodes per observation)
    BLOCK_ELEMENTS = 2_000_000

    def _node_blocks(self, n_params: int) -> list[slice]:
        k = self.nodes.shape[0]
        per = max(1, self.BLOCK_ELEMENTS // max(1, self.y.size * n_params))
        return [slice(a, min(a + per, k)) for a in range(0, k, per)]

    def _accumulate(self, params: np.ndarray, ad: Adaptive, hessian: bool):
        """(log L_j (M,), d log L_j (M, P), Hessian of sum_j w_j log L_j or None) at fixed
        adaptive parameters: the node posteriors p_jk from a first pass, then every
        sum over (observation, node) accumulated block of nodes by block."""
        beta, aux, theta = self.split(params)
        st = self.structure
        p, a, t = self.p, self.n_aux, st.n_theta
        ptot = p + a + t
        lam = st.relative_factor(theta)
        v, logw = self._nodes(ad)  # (M, K, q), (M, K)
        eta = self._eta(beta, lam, v)  # (n, K)
        auxv = aux if a else None
        blocks = self._node_blocks(ptot)
        whole = len(blocks) == 1
        if whole:
            lf, s_all, h_all = self.family.derivatives(self.y[:, None], eta, auxv)
        else:
            lf = self.family.loglik(self.y[:, None], eta, auxv)
        if self.w_obs is not None:
            lf = lf * self.w_obs[:, None]
        ljk = self._sum(lf) + logw
        lj = logsumexp(ljk, axis=1)
        pw = np.exp(ljk - lj[:, None])  # (M, K)
        wcl = self.w_cl
        pwi = pw[self.cl]  # (n, K): observation terms carry w_{i|j} w_j
        if self.w_tot is not None:
            pwi = pwi * self.w_tot[:, None]
        u = np.einsum("iq,mqr->imr", self.Z, st.factor_derivatives(theta))  # (n, t, q)
        gbar = np.zeros((self.starts.size, ptot))
        hess = np.zeros((ptot, ptot)) if hessian else None
        vbar = np.zeros((self.y.size, self.q)) if hessian and not st.linear else None
        X = self.X
        for ks in blocks:
            e = eta[:, ks]
            if whole:
                s, h = s_all, h_all
            else:
                _, s, h = self.family.derivatives(self.y[:, None], e, auxv)
            vi = v[:, ks][self.cl]  # (n, kc, q)
            dth = np.einsum("imr,ikr->ikm", u, vi)  # d eta / d theta at fixed nodes
            n, kc = e.shape
            dfull = np.empty((n, kc, ptot))
            dfull[:, :, :p] = X[:, None, :]
            dfull[:, :, p : p + a] = 0.0  # eta does not depend on the ancillary parameters
            dfull[:, :, p + a :] = dth
            obs_g = dfull * s[:, :, None]  # first derivatives of log f per (obs, node)
            if a:
                da, daa, dae = self.family.aux_derivatives(self.y[:, None], e, aux)
                obs_g[:, :, p : p + a] = np.moveaxis(da, 0, -1)
            if self.w_obs is not None:
                obs_g *= self.w_obs[:, None, None]
            gjk = self._sum(obs_g)  # (M, kc, P): gradients of the log integrand
            pwb = pw[:, ks]
            gbar += np.einsum("jk,jkp->jp", pwb, gjk)
            if not hessian:
                continue
            # sum_k p (H_jk + g g'): the eta part sum_ik w h d d' by blocks of d = (x_i, 0,
            # d eta/d theta): X'diag(sum_k w h)X, X'(sum_k w h dth), dth'W dth
            pwib = pwi[:, ks]
            wh = pwib * h
            hess[:p, :p] += (X * wh.sum(1)[:, None]).T @ X
            if t:
                xt = X.T @ np.einsum("ik,ikm->im", wh, dth)
                hess[:p, p + a :] += xt
                hess[p + a :, :p] += xt.T
                tf = dth.reshape(-1, t)
                hess[p + a :, p + a :] += (tf * wh.reshape(-1, 1)).T @ tf
            if a:
                cross = np.einsum("aik,ik,ikp->ap", np.asarray(dae), pwib, dfull)
                hess[p : p + a, :] += cross
                hess[:, p : p + a] += cross.T
                hess[p : p + a, p : p + a] += np.einsum("abik,ik->ab", np.asarray(daa), pwib)
            if vbar is not None:
                vbar += np.einsum("ik,ikr->ir", pwib * s, vi)
            gflat = gjk.reshape(-1, ptot)
            pwg = pwb if wcl is None else pwb * wcl[:, None]
            hess += (gflat * pwg.reshape(-1, 1)).T @ gflat
        if hessian:
            if vbar is not None:  # second derivatives of the factor (exchangeable blocks)
                d2 = _factor_second_derivatives(st, theta)  # (t, t, q, q)
                # sum_ik w_ik s_ik z_i' D_ml v_ik = sum_i z_i' D_ml vbar_i
                hess[p + a :, p + a :] += np.einsum("iq,mlqr,ir->ml", self.Z, d2, vbar)
            hess -= gbar.T @ (gbar if wcl is None else gbar * wcl[:, None])
            hess = 0.5 * (hess + hess.T)
        return lj, gbar, hess

    def derivatives(self, params: np.ndarray, ad: Adaptive):
        """log likelihood, gradient and Hessian at fixed adaptive parameters."""
        lj, gbar, hess = self._accumulate(params, ad, hessian=True)
        if self.w_cl is None:
            return float(lj.sum()), gbar.sum(0), hess
        return float(self.w_cl @ lj), self.w_cl @ gbar, hess

    def scores(self, params: np.ndarray, ad: Adaptive) -> np.ndarray:
        """Each cluster's (weighted) score w_j d log L_j / d params at fixed adaptive
        parameters, (M, P) in cluster order (= group code order); their sum is the
        gradient.  For the robust VCE ([ME] meglm, Options: vce(robust))."""
        gbar = self._accumulate(params, ad, hessian=False)[1]
        return gbar if self.w_cl is None else gbar * self.w_cl[:, None]

    def posterior(self, params: np.ndarray, ad: Adaptive) -> tuple[np.ndarray, np.ndarray]:
        """Posterior means and covariances of u_j = L v_j (cluster order)."""
        _, aux, theta = self.split(params)
        lam = self.structure.relative_factor(theta)
        lj, ljk, v, _ = self.cluster_loglik(params, ad)
        pw = np.exp(ljk - lj[:, None])
        mu = np.einsum("jk,jkq->jq", pw, v)
        dv = v - mu[:, None, :]
        cov = np.einsum("jk,jkq,jkr->jqr", pw, dv, dv)
        return mu @ lam.T, lam @ cov @ lam.T


def _posterior_modes_impl(model: TwoLevelQuadrature, params: np.ndarray, ad: Adaptive):
    _, _, theta = model.split(params)
    lam = model.structure.relative_factor(theta)
    mode = model._adapt_mode(params, ad, 1e-10, 100)
    cov = mode.chol @ np.swapaxes(mode.chol, 1, 2)
    return mode.mu @ lam.T, lam @ cov @ lam.T


TwoLevelQuadrature.posterior_modes = _posterior_modes_impl  # type: ignore[attr-defined]


def _factor_second_derivatives(st: CovStructure, theta: np.ndarray, h: float = 1e-4) -> np.ndarray:
    t = theta.size
    out = np.zeros((t, t, st.q, st.q))
    for i in range(t):
        e = np.zeros(t)
        e[i] = h
        out[i] = (st.factor_derivatives(theta + e) - st.factor_derivatives(theta - e)) / (2 * h)
    return 0.5 * (out + np.swapaxes(out, 0, 1))
