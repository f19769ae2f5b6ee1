"""The profiled (restricted) log likelihood of the linear mixed model.

[ME] mixed, Methods and formulas, eqs. (9)-(13): with V = sigma_e^2 (Z Lambda Lambda' Z' + I)
and Lambda the relative factor of G (Pinheiro and Bates 2000, ch. 2; Bates et al. 2015),
everything is computed from the penalized least-squares system

    [ Lambda'Z'Z Lambda + I   Lambda'Z'X ] [u]   [Lambda'Z'y]
    [ X'Z Lambda              X'X        ] [b] = [X'y       ]

whose Cholesky factor gives log|V|/sigma^{2n} (= log det of the top-left block), the
GLS estimate of beta, the penalized residual sum of squares r^2 and R_00 (X'V^{-1}X).

Sufficient statistics (Z'Z, Z'X, Z'y, X'X, X'y, y'y) are computed once, so each
evaluation costs nothing per observation.  The random-effects block is factored in
blocks (as MixedModels.jl does): the term with the most groups is block diagonal and
is factored with batched q x q Cholesky factors, vectorised over its groups; the other
terms enter through their Schur complement, dense when small, sparse LU otherwise.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from . import batched
from .criteria import Criteria, Evaluation, center_on_ols
from .terms import EngineTerm

DENSE_LIMIT = 4000


def sparse_z(terms: list[EngineTerm], n: int) -> tuple[sp.csr_matrix, list[int]]:
    """Z for several terms as one sparse n x Q matrix, columns grouped by term, group, effect."""
    rows, cols, vals, offsets = [], [], [], []
    off = 0
    for t in terms:
        q = t.Z.shape[1]
        offsets.append(off)
        base = off + t.groups * q
        for k in range(q):
            rows.append(np.arange(n))
            cols.append(base + k)
            vals.append(t.Z[:, k])
        off += t.n_groups * q
    offsets.append(off)
    mat = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, off)
    )
    mat.eliminate_zeros()
    return mat, offsets


# kept for an importer in a busy area (postestimation/blup.py); use the public name
_sparse_z = sparse_z


class ProfiledLMM(Criteria):
    """Sufficient statistics of a linear mixed model and its profiled likelihood."""

    def __init__(
        self,
        y: np.ndarray,
        X: np.ndarray,
        terms: list[EngineTerm],
        weights: np.ndarray | None = None,
    ) -> None:
        n, p = X.shape
        w = None if weights is None else np.asarray(weights, float)
        y, self.beta0 = center_on_ols(y, X, w)
        self.resid0 = y  # the OLS residuals (moment_start's)
        self.n_obs = n
        self.n = float(n if w is None else w.sum())
        self.p = p
        # order: the term with most random effects first (block diagonal, batched)
        order = sorted(range(len(terms)), key=lambda i: -terms[i].n_groups * terms[i].Z.shape[1])
        self.order = order
        self.terms = terms
        xw = X if w is None else X * w[:, None]
        self.xtx = xw.T @ X
        self.xty = xw.T @ y
        self.yty = float(y @ y) if w is None else float(y @ (w * y))
        self.has_re = len(terms) > 0
        if not self.has_re:
            return
        if w is None:
            w = np.ones(n)
        first = terms[order[0]]
        self.first = first
        g = np.asarray(first.groups)
        z = first.Z
        zw = z if weights is None else z * w[:, None]
        self.d1 = batched.group_cross(g, first.n_groups, zw, z, symmetric=weights is None)
        self.d1_sum = self.d1.sum(0)
        self.z1x = batched.group_cross(g, first.n_groups, zw, X)
        self.z1y = batched.group_cross(g, first.n_groups, zw, y[:, None])[:, :, 0]
        self.rest_terms = [terms[i] for i in order[1:]]
        if self.rest_terms:
            zr, self.rest_offsets = sparse_z(self.rest_terms, n)
            z1, _ = sparse_z([first], n)
            zrw = sp.diags(w) @ zr
            self.rr = (zr.T @ zrw).tocsr()
            self.zrx = np.asarray(zrw.T @ X)
            self.zry = np.asarray(zrw.T @ y).ravel()
            self.z1r = (z1.T @ zrw).tocsr()
            self.q_rest = zr.shape[1]
            self.dense_rest = self.q_rest <= DENSE_LIMIT
            # all effects scalar (crossed/nested random intercepts): Lambda is diagonal
            # and the sparse products reduce to scalings of fixed sparsity patterns
            self.scalar = first.Z.shape[1] == 1 and all(t.Z.shape[1] == 1 for t in self.rest_terms)
            if self.scalar:
                self.z1r_rows = np.repeat(np.arange(self.z1r.shape[0]), np.diff(self.z1r.indptr))
                self.rr_rows = np.repeat(np.arange(self.rr.shape[0]), np.diff(self.rr.indptr))
            self.size_classes = self._size_classes() if self.scalar and self.dense_rest else None

    # ------------------------------------------------------------------ pieces
    def _size_classes(self):
        """For scalar effects with a dense Schur complement: the first term's groups
        classed by their Z_1'Z_1 (the group size, for random intercepts), and the
        per-class products P_k = N_k'N_k of N = Z_1'Z_R (the groups' rows of the
        crossing table).

        The Schur complement's product W'W = Lambda_R N' diag(a^2) N Lambda_R has
        a_i^2 = lambda_1^2 / (1 + lambda_1^2 d_i), a function of the class of i only, so
        an evaluation sums the dense lower triangles of the P_k (K x Q_R(Q_R+1)/2, at most
        64 MB) with weights a^2_k, O(K Q_R^2), instead of forming a sparse matrix product
        with a fresh symbolic pass (only the lower triangle of the Schur complement is
        factored).  All P_k come from one sparse product N'E, E the rows of N moved to
        their class's block of columns.  None when there are too many classes (over a
        quarter of the groups) or P would exceed 64 MB."""
        d = self.d1[:, 0, 0]
        classes, inv = np.unique(d, return_inverse=True)
        k, q_r = classes.size, self.q_rest
        if k * 4 > d.size or k * q_r * (q_r + 1) * 4 > 64e6:
            return None
        n = self.z1r.tocoo()
        e = sp.csr_matrix((n.data, (n.row, inv[n.row] * q_r + n.col)),
                          shape=(n.shape[0], k * q_r))
        pp = (self.z1r.T @ e).tocoo()
        low = pp.row >= pp.col % q_r  # P_k is symmetric: its lower triangle, packed
        rows, cols = np.tril_indices(q_r)
        pos = np.zeros((q_r, q_r), dtype=np.int64)
        pos[rows, cols] = np.arange(rows.size)
        packed = np.zeros((k, rows.size))
        packed[pp.col[low] // q_r, pos[pp.row[low], pp.col[low] % q_r]] = pp.data[low]
        self.z1r_t = self.z1r.T.tocsr()
        self.rr_dense = self.rr.toarray()
        return classes, packed, rows * q_r + cols

    def _schur_classes(self, thetas, low1, lam1, c1, c1x):
        """The Schur complement (lower triangle, dense) and the right-hand sides of the
        rest terms from the size classes (see :meth:`_size_classes`): W = diag(a) N Lr
        is never formed."""
        classes, packed, flat = self.size_classes
        lr = self._rest_lambda_diag(thetas)
        lam = lam1[0, 0]
        a = lam / low1[:, 0, 0]
        g1, p = low1.shape[0], self.p
        b_r = lr * (self.zry - self.z1r_t @ (a * c1.ravel()))
        bx_r = lr[:, None] * (self.zrx - self.z1r_t @ (a[:, None] * c1x.reshape(g1, p)))
        a2 = lam * lam / (1.0 + lam * lam * classes)
        q_r = lr.size
        sd = np.zeros(q_r * q_r)
        sd[flat] = a2 @ packed
        sd = self.rr_dense - sd.reshape(q_r, q_r)
        sd *= lr[:, None] * lr[None, :]
        return lr, b_r, bx_r, sd

    def _rest_lambda(self, thetas: list[np.ndarray]) -> sp.csr_matrix:
        blocks = []
        for t, th in zip(self.rest_terms, thetas[1:], strict=True):
            lam = t.structure.relative_factor(th)
            blocks.append(sp.kron(sp.identity(t.n_groups, format="csr"), sp.csr_matrix(lam)))
        return sp.block_diag(blocks, format="csr")

    def _rest_lambda_diag(self, thetas: list[np.ndarray]) -> np.ndarray:
        return np.concatenate([
            np.full(t.n_groups, t.structure.relative_factor(th)[0, 0])
            for t, th in zip(self.rest_terms, thetas[1:], strict=True)
        ])

    def _rest_products(self, thetas, low1, lam1):
        """W = L1^{-1} Lambda1' Z1'Z_R Lambda_R and Lambda_R' Z_R'Z_R Lambda_R."""
        if self.scalar:
            lr = self._rest_lambda_diag(thetas)
            a = lam1[0, 0] / low1[:, 0, 0]
            wmat = self.z1r.copy()
            wmat.data = wmat.data * a[self.z1r_rows] * lr[wmat.indices]
            rr = self.rr.copy()
            rr.data = rr.data * lr[self.rr_rows] * lr[rr.indices]
            return sp.diags(lr, format="csr"), wmat, rr
        lam_r = self._rest_lambda(thetas)
        g1, q1 = low1.shape[0], low1.shape[1]
        eye = np.broadcast_to(lam1.T, low1.shape)
        m1 = batched.forward_solve(low1, np.ascontiguousarray(eye))
        m1s = sp.bsr_matrix(
            (m1, np.arange(g1), np.arange(g1 + 1)), shape=(g1 * q1, g1 * q1)
        ).tocsr()
        wmat = (m1s @ self.z1r @ lam_r).tocsr()
        return lam_r, wmat, lam_r.T @ self.rr @ lam_r

    def evaluate(self, thetas_by_term: list[np.ndarray], keep: bool = False) -> Evaluation:
        """Evaluate at per-term theta (in the caller's term order).  The last evaluation
        is remembered: the Newton stage, the exact derivatives and the final estimates ask
        for the same theta several times (evaluation is deterministic, so the numbers are
        those a fresh evaluation gives)."""
        key = tuple(np.asarray(t, dtype=float).tobytes() for t in thetas_by_term)
        memo = getattr(self, "_memo", None)
        if memo is not None and memo[0] == key and (memo[2] or not keep):
            return memo[1]
        ev = self._evaluate(thetas_by_term, keep)
        self._memo = (key, ev, keep)
        return ev

    def _evaluate(self, thetas_by_term: list[np.ndarray], keep: bool) -> Evaluation:
        p = self.p
        if not self.has_re:
            rxtrx = self.xtx
            return self._finish(0.0, 0.0, np.zeros(p), np.zeros((p, p)), rxtrx, None)
        thetas = [thetas_by_term[i] for i in self.order]
        first = self.first
        lam1 = first.structure.relative_factor(thetas[0])
        a11 = lam1.T @ self.d1 @ lam1
        q1 = lam1.shape[0]
        a11[:, np.arange(q1), np.arange(q1)] += 1.0
        low1 = batched.cholesky(a11)
        logdet = 2.0 * float(np.log(np.diagonal(low1, axis1=1, axis2=2)).sum())
        c1 = batched.forward_solve(low1, self.z1y @ lam1)
        c1x = batched.forward_solve(low1, lam1.T @ self.z1x)
        flat = c1x.reshape(-1, p)
        cc = float(c1.ravel() @ c1.ravel())
        cxc = flat.T @ c1.ravel()
        cxcx = flat.T @ flat
        rest = None
        if self.rest_terms:
            g1 = low1.shape[0]
            if self.size_classes is not None:
                _, b_r, bx_r, sd = self._schur_classes(thetas, low1, lam1, c1, c1x)
                lam_r = wmat = None
                if keep:
                    lam_r, wmat, _ = self._rest_products(thetas, low1, lam1)
            else:
                lam_r, wmat, rr_scaled = self._rest_products(thetas, low1, lam1)
                wt = wmat.T.tocsr()
                b_r = lam_r.T @ self.zry - wt @ c1.ravel()
                bx_r = lam_r.T @ self.zrx - wt @ c1x.reshape(g1 * q1, p)
                if self.dense_rest:
                    sd = (rr_scaled - wt @ wmat).toarray()
                else:
                    s = rr_scaled - wt @ wmat
            if self.dense_rest:
                sd[np.diag_indices_from(sd)] += 1.0
                low_s = sla.cholesky(sd, lower=True, check_finite=False)
                logdet += 2.0 * float(np.log(np.diag(low_s)).sum())
                c_r = sla.solve_triangular(low_s, b_r, lower=True, check_finite=False)
                cx_r = sla.solve_triangular(low_s, bx_r, lower=True, check_finite=False)
                cc += float(c_r @ c_r)
                cxc += cx_r.T @ c_r
                cxcx += cx_r.T @ cx_r
                rest = {"lam": lam_r, "w": wmat, "low": low_s, "c": c_r, "cx": cx_r}
            else:
                s = (s + sp.identity(s.shape[0])).tocsc()
                lu = spla.splu(s, permc_spec="MMD_AT_PLUS_A")
                logdet += float(np.log(np.abs(lu.U.diagonal())).sum())
                sol = lu.solve(np.column_stack([b_r, bx_r]))
                cc += float(b_r @ sol[:, 0])
                cxc += bx_r.T @ sol[:, 0]
                cxcx += bx_r.T @ sol[:, 1:]
                rest = {"lam": lam_r, "w": wmat, "lu": lu, "b": b_r, "bx": bx_r}
        rxtrx = self.xtx - cxcx
        ev = self._finish(logdet, cc, cxc, cxcx, rxtrx, None)
        if keep:
            ev.lam1, ev.low1, ev.c1, ev.c1x, ev.rest = lam1, low1, c1, c1x, rest
        return ev

    def _finish(self, logdet, cc, cxc, cxcx, rxtrx, _unused) -> Evaluation:
        rhs = self.xty - cxc
        if self.p:
            low_x = sla.cholesky(rxtrx, lower=True, check_finite=False)
            beta = sla.cho_solve((low_x, True), rhs, check_finite=False)
            logdet_x = 2.0 * float(np.log(np.diag(low_x)).sum())
        else:
            beta, logdet_x = np.zeros(0), 0.0
        r2 = self.yty - cc - float(beta @ rhs)
        return Evaluation(logdet, logdet_x, max(r2, 1e-300), beta + self.beta0, rxtrx)

    # --------------------------------------------------------------------- EM
    def em_iterations(
        self, theta: np.ndarray, reml: bool, iterations: int, tolerance: float = 1e-10,
        log=None,
    ) -> np.ndarray:
        """EM iterations for the starting values of a single-term model ([ME] mixed,
        Methods and formulas: u_j treated as missing data, beta and sigma^2 profiled).

        M-step: Sigma = (1/M) sum_j E(u_j u_j' | y) = (1/M) sum_j {b_j b_j' +
        sigma^2 Lambda A_j^{-1} Lambda'}, then projected on the term's structure.
        ``log(iteration, ll)`` is called with the (restricted) log likelihood at each
        iterate (emlog, emdots).
        """
        structure = self.first.structure
        if structure.q <= 2:
            from .em import em_closed_form

            return em_closed_form(self, theta, reml, iterations, tolerance, log=log)
        previous = np.inf
        for k in range(iterations):
            ev = self.evaluate([theta], keep=True)
            dev = self.deviance_from(ev, reml)
            if log is not None:
                log(k, -0.5 * dev)
            if abs(previous - dev) <= tolerance * abs(dev):
                break
            previous = dev
            lam, low = ev.lam1, ev.low1
            s2 = self.sigma2(ev, reml)
            u = batched.backward_solve_t(low, ev.c1 - ev.c1x @ (ev.beta - self.beta0))
            b = u @ lam.T
            q = lam.shape[0]
            eye = np.ascontiguousarray(np.broadcast_to(np.eye(q), low.shape))
            linv = batched.forward_solve(low, eye)
            ainv_sum = (np.swapaxes(linv, 1, 2) @ linv).sum(0)
            sigma = (b.T @ b + s2 * lam @ ainv_sum @ lam.T) / low.shape[0]
            theta = structure.theta_from_sigma(sigma / s2)
        return theta

    # --------------------------------------------------------------- gradient
    @property
    def has_gradient(self) -> bool:  # type: ignore[override]
        """Exact gradients are available for one random-effects term (two-level models)."""
        return self.has_re and not self.rest_terms

    def grad_pieces(
        self, thetas: list[np.ndarray], reml: bool
    ) -> tuple[Evaluation, np.ndarray, np.ndarray]:
        """Exact derivatives for a single random-effects term, group by group (batched).

        The formulas of :mod:`memodels.lmm.dense` with every matrix block diagonal:
        S1 = sum_g D_g Lambda A_g^{-1} (ML), or with (M^{-1})_gg = A_g^{-1} + W_g H W_g'
        and (M^{-1})_xg = -H W_g' (REML; W_g = A_g^{-1} Lambda' Z_g'X, H = (R_X'R_X)^{-1});
        S2 = sum_g (Z_g'r) u_g'.  d log|.|/d theta_k = <2 S1, dLambda_k>,
        d r^2/d theta_k = <-2 S2, dLambda_k>.
        """
        ev = self.evaluate(thetas, keep=True)
        lam, low, p = ev.lam1, ev.low1, self.p
        beta_c = ev.beta - self.beta0
        u = batched.backward_solve_t(low, ev.c1 - ev.c1x @ beta_c)
        ztr = self.z1y - self.z1x @ beta_c - np.matmul(self.d1, (u @ lam.T)[:, :, None])[:, :, 0]
        q = lam.shape[0]
        eye = np.ascontiguousarray(np.broadcast_to(np.eye(q), low.shape))
        ainv = batched.backward_solve_t(low, batched.forward_solve(low, eye))
        dlam = self.d1 @ lam
        if reml and p:
            w = batched.backward_solve_t(low, ev.c1x)
            wh = w @ np.linalg.inv(ev.rxtrx)
            s1 = (dlam @ (ainv + wh @ np.swapaxes(w, 1, 2))).sum(0)
            s1 -= (self.z1x @ np.swapaxes(wh, 1, 2)).sum(0)
        else:
            s1 = (dlam @ ainv).sum(0)
        dl = self.first.structure.factor_derivatives(thetas[self.order[0]])
        g_det = 2.0 * np.einsum("kij,ij->k", dl, s1)
        g_r2 = -2.0 * np.einsum("kij,ij->k", dl, ztr.T @ u)
        return ev, g_det, g_r2

    def cov_gradients(
        self, thetas: list[np.ndarray], reml: bool
    ) -> tuple[Evaluation, list[np.ndarray], list[np.ndarray]]:
        """Exact derivatives with respect to the relative covariance G = Lambda Lambda'
        (single random-effects term), summed over groups, with V_g = I + Z_g G Z_g':

        d log|V| / dG = sum_g Z_g'V_g^{-1}Z_g = sum_g D_g - K_g'K_g, K_g = L_g^{-1} Lambda' D_g;
        REML adds d log|X'V^{-1}X| / dG = -sum_g W_g H W_g', W_g = Z_g'V_g^{-1}X,
        H = (X'V^{-1}X)^{-1};  d r^2 / dG = -sum_g (Z_g'r)(Z_g'r)'.

        No inverse of Lambda is needed, so they hold at the boundary too."""
        ev = self.evaluate(thetas, keep=True)
        lam, low = ev.lam1, ev.low1
        beta_c = ev.beta - self.beta0
        u = batched.backward_solve_t(low, ev.c1 - ev.c1x @ beta_c)
        ztr = self.z1y - self.z1x @ beta_c - np.matmul(self.d1, (u @ lam.T)[:, :, None])[:, :, 0]
        k = batched.forward_solve(low, lam.T @ self.d1)
        f_det = self.d1_sum - np.einsum("gik,gil->kl", k, k)
        if reml and self.p:
            w = self.z1x - np.swapaxes(k, 1, 2) @ ev.c1x
            wh = w @ np.linalg.inv(ev.rxtrx)
            f_det = f_det - np.einsum("gkp,glp->kl", wh, w)
        f_r2 = -(ztr.T @ ztr)
        return ev, [f_det], [f_r2]

    def cov_pieces(self, thetas: list[np.ndarray], reml: bool):
        """C_g, s_g = Z_g'r, W_g and H at theta for the exact Hessian in Stata's metric
        (:mod:`memodels.lmm.phi_derivatives`; single random-effects term)."""
        from .phi_derivatives import CovPieces

        ev = self.evaluate(thetas, keep=True)
        lam, low = ev.lam1, ev.low1
        beta_c = ev.beta - self.beta0
        u = batched.backward_solve_t(low, ev.c1 - ev.c1x @ beta_c)
        ztr = self.z1y - self.z1x @ beta_c - np.matmul(self.d1, (u @ lam.T)[:, :, None])[:, :, 0]
        k = batched.forward_solve(low, lam.T @ self.d1)
        c = self.d1 - np.swapaxes(k, 1, 2) @ k
        w = self.z1x - np.swapaxes(k, 1, 2) @ ev.c1x
        h = np.linalg.inv(ev.rxtrx) if self.p else np.zeros((0, 0))
        return CovPieces(ev, c, ztr, w, h)
