"""The Laplace approximation for GLMMs with any random-effects structure, on sparse matrices.

[ME] meglm, Methods and formulas, Laplacian approximation: with u = Lambda b,
b ~ N(0, I) (Lambda the block-diagonal factor of G = Lambda Lambda'),

    log L ~= h(b~) - 1/2 log |Lambda'Z'W Z Lambda + I|,
    h(b)   = sum_i log f(y_i | x_i beta + z_i' Lambda b) - 1/2 b'b,

where b~ maximizes h (penalized iteratively reweighted least squares, i.e. Newton's
method on b) and W = -d2 log f / d eta2 at b~.  Crossed designs (``_all: R.a || b:``)
make Z'WZ a sparse matrix that is not block diagonal; it is factored by sparse LU
(SuperLU with an approximate-minimum-degree ordering) at every Newton step.  This is
the default method of the me commands for crossed models ("crossed random-effects
model specified; option intmethod(laplace) implied").
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ..lmm.profiled import sparse_z
from .blocked_spd import BlockedSPD
from .layout import ParamLayout


class SparseLaplace(ParamLayout):
    def __init__(self, y, X, terms, family, *, offset=None) -> None:
        n = y.shape[0]
        self.y = np.asarray(y, float)
        self.X = np.asarray(X, float)
        self.offset = np.zeros(n) if offset is None else np.asarray(offset, float)
        self.family = family
        self.terms = terms
        # internal order: the term with the most random effects first (block diagonal)
        self.order = sorted(range(len(terms)),
                            key=lambda i: -terms[i].n_groups * terms[i].Z.shape[1])
        self.iterms = [terms[i] for i in self.order]
        self.z, self.offsets = sparse_z(self.iterms, n)
        first = self.iterms[0]
        self.q1 = first.Z.shape[1]
        self.q1_total = first.n_groups * self.q1
        self.blocked = self.z.shape[1] - self.q1_total <= 4000
        # one term: the Hessian is block diagonal, built by group sums without sparse algebra
        self.single = len(terms) == 1
        self._zlam: np.ndarray | None = None
        self.cross = _CrossProducts(self.z) if all(t.Z.shape[1] == 1 for t in terms) else None
        self.zt = self.z.T.tocsr()
        self._zt_rows = np.repeat(np.arange(self.zt.shape[0]), np.diff(self.zt.indptr))
        self.q_total = self.z.shape[1]
        self.p = self.X.shape[1]
        self.n_aux = len(family.aux_names)
        self.n_theta = [t.structure.n_theta for t in terms]
        self.b = np.zeros(self.q_total)
        self.method = "laplace"


    def _lambda(self, thetas) -> sp.csr_matrix:
        blocks = []
        for t, th in zip(self.iterms, [thetas[i] for i in self.order], strict=True):
            lam = np.asarray(t.structure.relative_factor(th), dtype=float)
            blocks.append(kron_identity(lam, t.n_groups))
        if len(blocks) == 1:  # block_diag of one block is that block (and costs ~0.4 ms)
            return blocks[0]
        return sp.block_diag(blocks, format="csr")

    def _zl(self, lam):
        if self.single:
            q = self.q1
            self._zlam = self.iterms[0].Z @ lam[:q, :q].toarray()
        if self.cross is not None:  # diagonal Lambda: scale Z's values, keep its pattern
            diag = lam.diagonal()
            zl = self.z.copy()
            zl.data = zl.data * diag[zl.indices]
            zlt = self.zt.copy()  # Z' has the same pattern; scale its rows, no transpose
            zlt.data = zlt.data * diag[self._zt_rows]
            return zl, zlt
        else:
            zl = (self.z @ lam).tocsr()
        return zl, zl.T.tocsr()

    def profiled_start(self, params, tol: float = 1e-8, maxiter: int = 100):
        """Joint posterior modes of (b, beta) at the given theta: penalized IRLS over both
        (lme4's nAGQ=0 stage).  Returns the criterion h - 1/2 log|A| at the joint mode and
        the updated parameter vector (beta replaced by its conditional mode)."""
        beta, aux, thetas = self.split(params)
        auxv = aux if self.n_aux else None
        lam = self._lambda(thetas)
        zl, zlt = self._zl(lam)
        eye = sp.identity(self.q_total, format="csc")
        b = self.b.copy()
        beta = beta.copy()
        X = self.X

        def objective(bb, be):
            eta = X @ be + self.offset + zl @ bb
            lf, s, h = self.family.derivatives(self.y, eta, auxv)
            return float(lf.sum() - 0.5 * bb @ bb), s, h

        val, s, h = objective(b, beta)
        for _ in range(maxiter):
            fac = self._factor(zl, zlt, h, eye)
            wx = X * (-h)[:, None]
            zwx = zlt @ wx  # Lambda'Z'W X
            ainv_zwx = np.column_stack([fac.solve(zwx[:, k]) for k in range(X.shape[1])])
            gb = zlt @ s - b
            gx = X.T @ s
            schur = X.T @ wx - zwx.T @ ainv_zwx
            ainv_gb = fac.solve(gb)
            dbeta = np.linalg.solve(schur, gx - zwx.T @ ainv_gb)
            db = ainv_gb - ainv_zwx @ dbeta
            dec = float(gb @ db + gx @ dbeta)
            step = 1.0
            while step > 1e-10:
                nval, ns, nh = objective(b + step * db, beta + step * dbeta)
                if np.isfinite(nval) and nval >= val - 1e-12:
                    break
                step /= 2
            b, beta, val, s, h = b + step * db, beta + step * dbeta, nval, ns, nh
            if dec < tol:
                break
        logdet = self._factor(zl, zlt, h, eye).logdet
        self.b = b
        out = params.copy()
        out[: self.p] = beta
        return val - 0.5 * logdet, out

    def laplace(self, params, b0=None, tol: float = 1e-10, maxiter: int = 100):
        """Laplace log likelihood, the modes b~ and the factorization at them."""
        beta, aux, thetas = self.split(params)
        auxv = aux if self.n_aux else None
        lam = self._lambda(thetas)
        zl, zlt = self._zl(lam)
        xb = self.X @ beta + self.offset
        b = self.b.copy() if b0 is None else b0.copy()
        eye = sp.identity(self.q_total, format="csc")

        def objective(bb):
            eta = xb + zl @ bb
            lf, s, h = self.family.derivatives(self.y, eta, auxv)
            return float(lf.sum() - 0.5 * bb @ bb), s, h

        val, s, h = objective(b)
        for _ in range(maxiter):
            grad = zlt @ s - b
            fac = self._factor(zl, zlt, h, eye)
            step = fac.solve(grad)
            dec = float(grad @ step)
            lam_s = 1.0
            while lam_s > 1e-10:
                cand = b + lam_s * step
                nval, ns, nh = objective(cand)
                if np.isfinite(nval) and nval >= val - 1e-12:
                    break
                lam_s /= 2
            b, val, s, h = cand, nval, ns, nh
            if dec < tol:
                break
        fac = self._factor(zl, zlt, h, eye)
        self.b = b
        self.state = {"b": b, "lam": lam, "zl": zl, "zlt": zlt, "fac": fac, "s": s,
                      "h": h, "eta": xb + zl @ b, "thetas": thetas, "aux": auxv}
        return val - 0.5 * fac.logdet, b, lam

    def _factor(self, zl, zlt, h, eye):
        if self.single and self._zlam is not None:
            return BlockedSPD.block_diagonal(self._group_blocks(-h))
        if self.cross is not None:
            a = self.cross.weighted(zl, -h)
        else:
            a = (zlt @ sp.diags(-h) @ zl + eye).tocsr()
        if self.blocked:
            return BlockedSPD(a, self.q1_total, self.q1)
        return _SparseLU(a)

    def _group_blocks(self, w: np.ndarray) -> np.ndarray:
        """I + sum over each group's rows of w_i (Lambda'z_i)(Lambda'z_i)': (G, q, q)."""
        term, zq = self.iterms[0], self._zlam
        g, q = term.n_groups, self.q1
        blocks = np.empty((g, q, q))
        for a in range(q):
            for c in range(a, q):
                blocks[:, a, c] = np.bincount(term.groups, w * zq[:, a] * zq[:, c],
                                              minlength=g)
                blocks[:, c, a] = blocks[:, a, c]
        blocks[:, np.arange(q), np.arange(q)] += 1.0
        return blocks

    def loglik(self, params) -> float:
        try:
            val = self.laplace(params)[0]
        except (np.linalg.LinAlgError, ValueError, RuntimeError, FloatingPointError):
            return -np.inf
        return val if np.isfinite(val) else -np.inf

    def loglik_and_gradient(self, params) -> tuple[float, np.ndarray | None]:
        """The Laplace log likelihood and, where the analytic form applies (see
        :mod:`memodels.glmm.laplace_gradient`), its exact gradient; ``None`` otherwise."""
        from .laplace_gradient import gradient, has_gradient

        try:
            val = self.laplace(params, tol=1e-12)[0]
        except (np.linalg.LinAlgError, ValueError, RuntimeError, FloatingPointError):
            return -np.inf, None
        if not np.isfinite(val):
            return -np.inf, None
        if not has_gradient(self, params):
            return val, None
        try:
            return val, gradient(self, params)
        except (np.linalg.LinAlgError, FloatingPointError):
            return val, None

    def leverage(self, fac) -> np.ndarray | None:
        """d_i = (Lambda'z_i)' A^{-1} (Lambda'z_i) for each row, by batched q x q algebra
        when there is one random-effects term (A block diagonal); None otherwise."""
        if not self.single or self._zlam is None or fac.low_s.shape[0] != 0:
            return None
        groups, zq = self.iterms[0].groups, self._zlam
        if self.q1 == 1:
            return zq[:, 0] ** 2 / fac.low1[:, 0, 0][groups] ** 2
        v = np.einsum("iab,ib->ia", fac.linv[groups], zq)  # L_g^{-1} (Lambda'z_i)
        return np.einsum("ia,ia->i", v, v)

    def pair_structure(self, zl: sp.csr_matrix) -> _CrossProducts:
        """The row-pair structure of Z Lambda (fixed when Lambda is diagonal; rebuilt
        only when the pattern of Z Lambda changes otherwise)."""
        if self.cross is not None:
            return self.cross
        zl.sort_indices()
        cached = getattr(self, "_pairs", None)
        if cached is None or not cached.matches(zl):
            cached = self._pairs = _CrossProducts(zl)
        return cached

    def random_effects(self, params) -> np.ndarray:
        """Posterior modes of u = Lambda b~ (term order, group-major)."""
        _, b, lam = self.laplace(params)
        return lam @ b


def kron_identity(lam: np.ndarray, n_groups: int) -> sp.csr_matrix:
    """kron(I_G, Lambda) as CSR, built directly from its G equal q x q blocks (the same
    matrix and pattern ``sp.kron`` gives, without its per-call overhead)."""
    q = lam.shape[0]
    if q == 1:
        out = sp.diags(np.full(n_groups, float(lam[0, 0])), format="csr")
        out.eliminate_zeros()
        return out
    data = np.ascontiguousarray(np.broadcast_to(lam, (n_groups, q, q)))
    out = sp.bsr_matrix((data, np.arange(n_groups), np.arange(n_groups + 1)),
                        shape=(n_groups * q, n_groups * q)).tocsr()
    return out


class _SparseLU:
    """SuperLU factorization with the BlockedSPD interface (logdet, solve)."""

    def __init__(self, a: sp.csr_matrix) -> None:
        self.lu = spla.splu(a.tocsc(), permc_spec="MMD_AT_PLUS_A")
        self.logdet = float(np.log(np.abs(self.lu.U.diagonal())).sum())

    def solve(self, b: np.ndarray) -> np.ndarray:
        return self.lu.solve(b)


class _CrossProducts:
    """Z'WZ + I for a Z with one effect per term and a fixed sparsity pattern: its values
    are linear in the weights, T w, with T fixed by the pattern and the values of Z Lambda
    (Lambda diagonal), so each Newton step is one sparse matrix-vector product."""

    def __init__(self, z: sp.csr_matrix) -> None:
        z.sort_indices()  # in place: the engine scales z.data in this order
        lengths = np.diff(z.indptr).astype(np.int64)
        pairs = lengths**2
        row = np.repeat(np.arange(z.shape[0]), pairs)
        within = np.arange(int(pairs.sum())) - np.repeat(np.cumsum(pairs) - pairs, pairs)
        self.pos_a = z.indptr[row] + within // lengths[row]
        self.pos_b = z.indptr[row] + within % lengths[row]
        q = z.shape[1]
        key = z.indices[self.pos_a].astype(np.int64) * q + z.indices[self.pos_b]
        uniq, self.inv = np.unique(key, return_inverse=True)
        self.row = row
        self.k_i, self.k_j = (uniq // q).astype(np.int64), (uniq % q).astype(np.int64)
        self.shape = (q, q)
        self.n_rows = z.shape[0]
        self.diag = np.flatnonzero(self.k_i == self.k_j)
        self.tcache: tuple | None = None
        self.indptr, self.indices = z.indptr.copy(), z.indices.copy()

    def matches(self, zl: sp.csr_matrix) -> bool:
        """True when ``zl`` has the sparsity pattern this structure was built on."""
        return (zl.indptr.size == self.indptr.size and zl.indices.size == self.indices.size
                and np.array_equal(zl.indptr, self.indptr)
                and np.array_equal(zl.indices, self.indices))

    def products(self, zl: sp.csr_matrix) -> sp.csr_matrix:
        """T (pairs x rows): T[k, i] = zl[i, a_k] zl[i, b_k] over the pairs (a_k, b_k) of
        nonzeros sharing a row, so Z'WZ's entries are T w and diag(Z M Z') is T' M[pairs]."""
        data = zl.data
        if self.tcache is None or self.tcache[0] is not data:
            vals = data[self.pos_a] * data[self.pos_b]
            t = sp.csr_matrix((vals, (self.inv, self.row)), shape=(self.k_i.size, self.n_rows))
            self.tcache = (data, t)
        return self.tcache[1]

    def weighted(self, zl: sp.csr_matrix, w: np.ndarray) -> sp.csr_matrix:
        kv = self.products(zl) @ w
        kv[self.diag] += 1.0
        return sp.csr_matrix((kv, (self.k_i, self.k_j)), shape=self.shape)
