"""Multilevel (nested) GLMM log likelihood by adaptive quadrature, with exact derivatives.

[ME] meglm, Methods and formulas: the integral over nested random effects is a set of
nested integrals, each evaluated by (adaptive) Gauss-Hermite quadrature (Skrondal and
Rabe-Hesketh 2004, sec. 6.3; Rabe-Hesketh, Skrondal and Pickles 2005).  For levels
1..D (outermost first) with clusters c_l and standardized effects v_l = mu_lc + C_lc a_k:

    J_D(c, k_1..k_D) = sum_{i in c} log f(y_i | eta_i(k)) + log w*_Dc(k_D)
    R_l(c, k_<l)     = logsumexp_{k_l} J_l(c, k_<=l)
    J_l(c, k_<=l)    = sum_{c' child of c} R_{l+1}(c', k_<=l) + log w*_lc(k_l)
    log L_top(c)     = R_1(c)

The adaptive transformation uses the joint posterior mean and covariance of the effects on
the path from the top-level cluster down to each cluster (mvaghermite), factored by
Cholesky so that a level's nodes shift linearly with the standardized nodes of the levels
above; the moments are iterated to the quadrature's own fixed point and held fixed within
a Newton iteration.  With intmethod(mcaghermite) (and meqrlogit/meqrpoisson) the same
factorization is taken of the posterior mode and curvature instead, for any number of
levels (mode-curvature adaptive Gauss-Hermite quadrature, Pinheiro and Chao 2006;
:mod:`memodels.glmm.nested_mode_curvature`).
With the nodes fixed, eta is linear in beta and the Cholesky factors, and

    d2 log L = sum_{i,k} W_i(k) h_i(k) D_i(k) D_i(k)'
               + sum_l sum_{c,k_<l} W_{l-1}(c, k_<l) Cov_{k_l | k_<l}(G_l)

where W are posterior path weights and G_l the gradients of J_l.  For D = 1 this is the
two-level formula of :mod:`memodels.glmm.twolevel`.

Weights ([ME] meglm, Methods and formulas, Survey data; replicated observations and
clusters): with observation weights w_i and a weight w_l(c) for every cluster,

    J_D(c, k) = sum_{i in c} w_i log f(y_i | eta_i(k)) + log w*_Dc(k_D)
    J_l(c, k_<=l) = sum_{c' child of c} w_{l+1}(c') R_{l+1}(c', k_<=l) + log w*_lc(k_l)
    L = sum_c w_1(c) R_1(c).

Differentiating the recursion, each term of the Hessian above gets the product of the
weights on its path: the level-l covariance term of cluster c the product
w_1 ... w_l(c) of the cluster weights from the top down to c, the observation term that
product down to the innermost cluster times w_i.  The node posteriors P_l and path weights
W_l are those of the weighted integrand (the adaptive parameters use them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from ..lmm import batched
from ..quadrature.gauss_hermite import product_rule
from .layout import ParamLayout
from .weights import any_weights, cluster_weights, obs_weights


@dataclass
class JointAdaptive:
    """Adaptive parameters of one level: v = mu + B a_outer + C a (per cluster)."""

    mu: np.ndarray  # (M, q)
    b: np.ndarray  # (M, q, Q_outer)
    chol: np.ndarray  # (M, q, q)


class NestedQuadrature(ParamLayout):
    def __init__(self, y, X, terms, family, *, offset=None, method="mvaghermite", points=7,
                 weights=None, level_weights=None):
        """``weights``: observation weights (data order); ``level_weights``: per term
        (outermost first), None or the level's cluster weights copied to every
        observation (data order).  Both None: unweighted."""
        n = y.shape[0]
        keys = [np.asarray(t.groups) for t in terms]
        order = np.lexsort(tuple(reversed(keys)))  # sort by outermost, then inner
        self.order = order
        self.y = np.asarray(y, float)[order]
        self.X = np.asarray(X, float)[order]
        self.offset = np.zeros(n) if offset is None else np.asarray(offset, float)[order]
        self.family = family
        if family.data:
            self.family = family.bind(**{k: np.asarray(v)[order] for k, v in family.data.items()})
        self.depth = len(terms)
        self.structures = [t.structure for t in terms]
        self.Z = [np.asarray(t.Z, float)[order] for t in terms]
        self.q = [z.shape[1] for z in self.Z]
        self.p = self.X.shape[1]
        self.n_aux = len(family.aux_names)
        self.method = method
        # points: one number for every level, or one per level (meqr's intpoints(# # ...))
        per = list(points) if isinstance(points, (tuple, list)) else [points] * self.depth
        if len(per) < self.depth:
            per += [per[-1]] * (self.depth - len(per))
        self.rules = [product_rule(1 if method == "laplace" else int(k), q)
                      for k, q in zip(per, self.q, strict=False)]
        self.K = [r[0].shape[0] for r in self.rules]
        # cluster codes per level in sorted order, and parent links
        self.cl = []  # obs -> cluster index at level l
        self.starts_obs = []  # for the innermost level: obs starts
        combo = np.zeros(n, dtype=np.int64)
        for t in terms:
            g = np.asarray(t.groups)[order].astype(np.int64)
            combo = combo * (int(g.max()) + 1) + g
            change = np.r_[True, np.diff(combo) != 0]
            cl = np.cumsum(change) - 1
            self.cl.append(cl)
        self.m = [int(c.max()) + 1 for c in self.cl]
        self.obs_starts = np.flatnonzero(np.r_[True, np.diff(self.cl[-1]) != 0])
        # parent of each cluster at level l (l >= 1) and child starts
        self.parent = [None]
        self.child_starts = []
        for lev in range(1, self.depth):
            first_obs = np.flatnonzero(np.r_[True, np.diff(self.cl[lev]) != 0])
            par = self.cl[lev - 1][first_obs]
            self.parent.append(par)
            self.child_starts.append(np.flatnonzero(np.r_[True, np.diff(par) != 0]))
        self.n_theta = [s.n_theta for s in self.structures]
        # concatenated standardized nodes of the outer levels, per outer path (o, Q_<l)
        self.outer_nodes = [np.zeros((1, 0))]
        for lev in range(1, self.depth):
            prev = self.outer_nodes[-1]
            a = self.rules[lev - 1][0]
            self.outer_nodes.append(np.concatenate([
                np.repeat(prev, a.shape[0], axis=0), np.tile(a, (prev.shape[0], 1))], axis=1))
        self._set_weights(weights, level_weights)

    def _set_weights(self, weights, level_weights) -> None:
        """w_obs (n,), w_lev[l] (M_l,), w_cum[l] (M_l,) = product of the cluster weights
        from the top down to each level-l cluster, w_path (n,) = w_obs times the product
        down to the observation's innermost cluster; all None when unweighted (the
        unweighted path does no extra work)."""
        self.w_obs = self.w_lev = self.w_cum = self.w_path = None
        if not any_weights(weights, level_weights):
            return
        lws = list(level_weights) if level_weights is not None else [None] * self.depth
        self.w_obs = obs_weights(weights, self.order, self.y.size)
        self.w_lev = [cluster_weights(lws[lev], self.order, self.cl[lev], self.m[lev])
                      for lev in range(self.depth)]
        cum = [self.w_lev[0]]
        for lev in range(1, self.depth):
            cum.append(cum[-1][self.parent[lev]] * self.w_lev[lev])
        self.w_cum = cum
        self.w_path = self.w_obs * cum[-1][self.cl[-1]]

    # ------------------------------------------------------------ parameters

    def _outer(self, lev: int) -> int:
        return int(np.prod(self.K[:lev])) if lev else 1

    def initial_adaptive(self) -> list[JointAdaptive]:
        """Standard (non-adaptive) placement: mu = 0, no dependence on outer nodes, C = I."""
        out = []
        for lev, (m, q) in enumerate(zip(self.m, self.q, strict=True)):
            qo = sum(self.q[:lev])
            out.append(JointAdaptive(np.zeros((m, q)), np.zeros((m, q, qo)),
                                     np.broadcast_to(np.eye(q), (m, q, q)).copy()))
        return out

    # ---------------------------------------------------------------- pieces
    def _level_nodes(self, lev: int, ad: JointAdaptive):
        """Nodes v (M_l, outer, K_l, q) and log weights (M_l, outer, K_l).

        v = mu + B a_outer + C a_l: the rows of the Cholesky factor of the joint posterior
        covariance of the effects on the path from the top level to this cluster, so
        that the transformation "eliminates posterior covariances between the random
        effects" across levels ([ME] meglm, Methods and formulas)."""
        a, logw, half = self.rules[lev]
        v = ad.mu[:, None, None, :] + np.einsum("jqr,kr->jkq", ad.chol, a)[:, None, :, :]
        if lev:
            shift = np.einsum("jqs,os->joq", ad.b, self.outer_nodes[lev])
            v = v + shift[:, :, None, :]
        logdet = np.log(np.diagonal(ad.chol, axis1=1, axis2=2)).sum(axis=1)
        lw = logw[None, None, :] + logdet[:, None, None] - 0.5 * (v**2).sum(-1) + half
        return v, lw

    def _eta(self, beta, thetas, nodes):
        """eta (n, Ktot) over all node combinations, and per-level parts."""
        n = self.y.size
        eta = (self.X @ beta + self.offset).reshape(n, *([1] * self.depth))
        parts = []
        for lev in range(self.depth):
            lam = self.structures[lev].relative_factor(thetas[lev])
            v = nodes[lev][0]
            e = np.einsum("iq,iokq->iok", self.Z[lev] @ lam, v[self.cl[lev]])
            shape = [n] + list(self.K[: lev + 1]) + [1] * (self.depth - lev - 1)
            eta = eta + e.reshape(shape)
            parts.append(e)
        return eta.reshape(n, -1), parts

    def _integrate(self, lf: np.ndarray, nodes):
        """J_l and R_l for every level (innermost first in the loop), from log f (n, Ktot)."""
        kk = self.K
        if self.w_obs is not None:
            lf = lf * self.w_obs[:, None]
        acc = np.add.reduceat(lf, self.obs_starts, axis=0)  # (M_D, Ktot)
        js, rs = [None] * self.depth, [None] * self.depth
        for lev in range(self.depth - 1, -1, -1):
            outer = int(np.prod(kk[:lev])) if lev else 1
            j = acc.reshape(self.m[lev], outer, kk[lev]) + nodes[lev][1]
            r = logsumexp(j, axis=2)  # (M_l, outer)
            js[lev], rs[lev] = j, r
            if lev:
                if self.w_lev is not None:
                    r = r * self.w_lev[lev][:, None]
                acc = np.add.reduceat(r, self.child_starts[lev - 1], axis=0)
        return js, rs

    def _posteriors(self, js, rs):
        """Conditional node posteriors P_l (M_l, outer, K_l) and path weights W_l."""
        ps, ws = [], []
        for lev in range(self.depth):
            p = np.exp(js[lev] - rs[lev][:, :, None])
            ps.append(p)
            if lev == 0:
                w = p.reshape(self.m[0], -1)
            else:
                w = (ws[-1][self.parent[lev]][:, :, None] * p).reshape(self.m[lev], -1)
            ws.append(w)
        return ps, ws

    def cluster_loglik(self, params, ads):
        beta, aux, thetas = self.split(params)
        nodes = [self._level_nodes(lev, ads[lev]) for lev in range(self.depth)]
        eta, _ = self._eta(beta, thetas, nodes)
        lf = self.family.loglik(self.y[:, None], eta, aux if self.n_aux else None)
        js, rs = self._integrate(lf, nodes)
        return rs[0][:, 0], js, rs, nodes

    def loglik(self, params, ads) -> float:
        try:
            top = self.cluster_loglik(params, ads)[0]
            total = float(top.sum() if self.w_lev is None else self.w_lev[0] @ top)
        except (FloatingPointError, ValueError, np.linalg.LinAlgError):
            return -np.inf
        return total if np.isfinite(total) else -np.inf

    # ------------------------------------------------------------ adaptation
    def adapt(self, params, ads, tol: float = 1e-8, maxiter: int = 100):
        if ads is None:
            ads = self.initial_adaptive()
        if self.method == "ghermite":
            return self.initial_adaptive()
        if self.method in ("mcaghermite", "laplace"):
            with np.errstate(over="ignore", invalid="ignore"):  # rejected trial steps
                return self._adapt_mode(params, ads, tol, maxiter)
        for _ in range(maxiter):
            _, js, rs, nodes = self.cluster_loglik(params, ads)
            ps, ws = self._posteriors(js, rs)
            new, change = [], 0.0
            for lev in range(self.depth):
                path = self._path_values(lev, nodes)  # (M_l, prod K_<=l, Q_<=l)
                w = ws[lev]
                mean = np.einsum("jk,jkq->jq", w, path)
                dv = path - mean[:, None, :]
                cov = np.einsum("jk,jkq,jkr->jqr", w, dv, dv)
                qq = cov.shape[-1]
                cov[:, np.arange(qq), np.arange(qq)] += 1e-12
                low = batched.cholesky(cov)
                q = self.q[lev]
                mu, b, chol = mean[:, -q:], low[:, -q:, :-q], low[:, -q:, -q:]
                old = ads[lev]
                change = max(change, np.abs(mu - old.mu).max(), np.abs(chol - old.chol).max(),
                             np.abs(b - old.b).max() if b.size else 0.0)
                new.append(JointAdaptive(mu, b, chol))
            ads = new
            if change < tol:
                break
        return ads

    def _adapt_mode(self, params, ads, tol: float, maxiter: int):
        """Mode-curvature adaptation (:func:`memodels.glmm.nested_mode_curvature.adapt_mode`)."""
        from .nested_mode_curvature import adapt_mode

        return adapt_mode(self, params, ads, tol, maxiter)

    def _path_values(self, lev: int, nodes) -> np.ndarray:
        """Node values of every level on the path from the top to each level-l cluster,
        for every path of nodes k_<=l: (M_l, prod K_<=l, sum q_<=l)."""
        ktot = int(np.prod(self.K[: lev + 1]))
        parts = []
        clusters = np.arange(self.m[lev])
        for m in range(lev + 1):
            anc = clusters
            for up in range(lev, m, -1):
                anc = self.parent[up][anc]
            v = nodes[m][0].reshape(self.m[m], -1, self.q[m])[anc]  # (M_l, prod K_<=m, q_m)
            rep = ktot // v.shape[1]
            parts.append(np.repeat(v, rep, axis=1))
        return np.concatenate(parts, axis=2)

    # ----------------------------------------------------------- derivatives
    # (observation, node path, parameter) elements held at once: the per-observation
    # derivatives are formed block of node paths by block, so memory stays linear in n
    BLOCK_ELEMENTS = 2_000_000

    def _obs_pieces(self, params, ads, hessian: bool = True):
        """The J_l/R_l recursion and its posteriors, the innermost clusters' gradients
        g (M_D, Ktot, P) of the (w_i-weighted) log integrand at every node path, and the
        observation sums of the gradient and of the Hessian's first two terms, at fixed
        adaptive parameters.  D_i(k) = d eta / d params is built by blocks of node paths
        (X, 0 for the ancillary parameters, z_i' dLambda_l v_l for each level)."""
        beta, aux, thetas = self.split(params)
        p, a = self.p, self.n_aux
        nodes = [self._level_nodes(lev, ads[lev]) for lev in range(self.depth)]
        eta, _ = self._eta(beta, thetas, nodes)
        n, ktot = eta.shape
        auxv = aux if a else None
        lf, s, h = self.family.derivatives(self.y[:, None], eta, auxv)
        js, rs = self._integrate(lf, nodes)
        ps, ws = self._posteriors(js, rs)
        ptot = self.n_params
        wobs = ws[-1][self.cl[-1]]  # (n, Ktot)
        if self.w_path is not None:  # observation terms: product of the path's weights
            wobs = wobs * self.w_path[:, None]
        # per level: d eta / d theta_l = z_i' dLambda_l v, v the level's node on the path
        us = [np.einsum("iq,mqr->imr", self.Z[lev],
                        self.structures[lev].factor_derivatives(thetas[lev]))
              for lev in range(self.depth)]
        strides = [int(np.prod(self.K[lev + 1 :])) for lev in range(self.depth)]
        flat_nodes = [nodes[lev][0].reshape(self.m[lev], -1, self.q[lev])
                      for lev in range(self.depth)]
        g = np.empty((self.m[-1], ktot, ptot))
        grad = np.zeros(ptot)
        hess = np.zeros((ptot, ptot)) if hessian else None
        per = max(1, self.BLOCK_ELEMENTS // max(1, n * ptot))
        for lo in range(0, ktot, per):
            ks = slice(lo, min(lo + per, ktot))
            paths = np.arange(ks.start, ks.stop)
            dfull = np.empty((n, paths.size, ptot))
            dfull[:, :, :p] = self.X[:, None, :]
            dfull[:, :, p : p + a] = 0.0
            pos = p + a
            for lev in range(self.depth):
                v = flat_nodes[lev][:, paths // strides[lev]][self.cl[lev]]  # (n, kc, q)
                d = np.einsum("imr,ikr->ikm", us[lev], v)
                dfull[:, :, pos : pos + d.shape[-1]] = d
                pos += d.shape[-1]
            g_obs = dfull * s[:, ks, None]
            if a:
                da, daa, dae = self.family.aux_derivatives(self.y[:, None], eta[:, ks], aux)
                g_obs[:, :, p : p + a] = np.moveaxis(np.asarray(da), 0, -1)
            wb = wobs[:, ks]
            grad += np.einsum("ik,ikp->p", wb, g_obs)
            if hessian:
                flat = dfull.reshape(-1, ptot)
                hess += (flat * (wb * h[:, ks]).reshape(-1, 1)).T @ flat  # one GEMM
                if a:
                    cross = np.einsum("aik,ik,ikp->ap", np.asarray(dae), wb, dfull)
                    hess[p : p + a, :] += cross
                    hess[:, p : p + a] += cross.T
                    hess[p : p + a, p : p + a] += np.einsum("abik,ik->ab", np.asarray(daa),
                                                            wb)
            if self.w_obs is not None:
                g_obs *= self.w_obs[:, None, None]  # G_D = sum_i w_i g_i
            g[:, ks, :] = np.add.reduceat(g_obs, self.obs_starts, axis=0)
        return rs, ps, ws, g, grad, hess

    def derivatives(self, params, ads):
        ptot = self.n_params
        rs, ps, ws, g, grad, hess = self._obs_pieces(params, ads)
        # covariance terms, innermost level first
        kk = self.K
        for lev in range(self.depth - 1, -1, -1):
            outer = int(np.prod(kk[:lev])) if lev else 1
            # g currently (M_l, outer*K_l, P): the inner axes are already reduced
            gl = g.reshape(self.m[lev], outer, kk[lev], ptot)
            pl = ps[lev]  # (M_l, outer, K_l)
            wpar = (np.ones((self.m[0], 1)) if lev == 0 else ws[lev - 1][self.parent[lev]])
            if self.w_cum is not None:
                wpar = wpar * self.w_cum[lev][:, None]
            gbar = np.einsum("jok,jokp->jop", pl, gl)
            glf = gl.reshape(-1, ptot)
            hess += (glf * (wpar[:, :, None] * pl).reshape(-1, 1)).T @ glf
            gbf = gbar.reshape(-1, ptot)
            hess -= (gbf * wpar.reshape(-1, 1)).T @ gbf
            if lev:
                if self.w_lev is not None:
                    gbar = gbar * self.w_lev[lev][:, None, None]
                g = np.add.reduceat(gbar, self.child_starts[lev - 1], axis=0)
        top = rs[0][:, 0]
        llf = float(top.sum() if self.w_lev is None else self.w_lev[0] @ top)
        return llf, grad, 0.5 * (hess + hess.T)

    def scores(self, params, ads) -> np.ndarray:
        """Each top-level cluster's (weighted) score w_1(c) d R_1(c) / d params at fixed
        adaptive parameters, (M_1, P) in top-level cluster order (= group code order);
        their sum is the gradient.  For the robust VCE ([ME] meglm, Options: vce(robust))."""
        ptot = self.n_params
        _, ps, _, g, _, _ = self._obs_pieces(params, ads, hessian=False)
        kk = self.K
        for lev in range(self.depth - 1, -1, -1):
            outer = int(np.prod(kk[:lev])) if lev else 1
            gl = g.reshape(self.m[lev], outer, kk[lev], ptot)
            g = np.einsum("jok,jokp->jop", ps[lev], gl)  # d R_l
            if self.w_lev is not None:
                g = g * self.w_lev[lev][:, None, None]
            if lev:
                g = np.add.reduceat(g, self.child_starts[lev - 1], axis=0)
        return g[:, 0, :]
