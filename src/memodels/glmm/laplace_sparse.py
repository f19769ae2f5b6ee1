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

from ..lmm.profiled import _sparse_z
from .layout import ParamLayout


class SparseLaplace(ParamLayout):
    def __init__(self, y, X, terms, family, *, offset=None) -> None:
        n = y.shape[0]
        self.y = np.asarray(y, float)
        self.X = np.asarray(X, float)
        self.offset = np.zeros(n) if offset is None else np.asarray(offset, float)
        self.family = family
        self.terms = terms
        self.z, self.offsets = _sparse_z(terms, n)
        self.zt = self.z.T.tocsr()
        self.q_total = self.z.shape[1]
        self.p = self.X.shape[1]
        self.n_aux = len(family.aux_names)
        self.n_theta = [t.structure.n_theta for t in terms]
        self.b = np.zeros(self.q_total)
        self.method = "laplace"


    def _lambda(self, thetas) -> sp.csr_matrix:
        blocks = []
        for t, th in zip(self.terms, thetas, strict=True):
            lam = t.structure.relative_factor(th)
            blocks.append(sp.kron(sp.identity(t.n_groups, format="csr"), sp.csr_matrix(lam)))
        return sp.block_diag(blocks, format="csr")

    def laplace(self, params, b0=None, tol: float = 1e-10, maxiter: int = 100):
        """Laplace log likelihood, the modes b~ and the factorization at them."""
        beta, aux, thetas = self.split(params)
        auxv = aux if self.n_aux else None
        lam = self._lambda(thetas)
        zl = (self.z @ lam).tocsr()
        zlt = zl.T.tocsr()
        xb = self.X @ beta + self.offset
        b = self.b.copy() if b0 is None else b0.copy()
        eye = sp.identity(self.q_total, format="csc")

        def objective(bb):
            eta = xb + zl @ bb
            lf, s, h = self.family.derivatives(self.y, eta, auxv)
            return float(lf.sum() - 0.5 * bb @ bb), s, h

        val, s, h = objective(b)
        lu = None
        for _ in range(maxiter):
            grad = zlt @ s - b
            a = (zlt @ sp.diags(-h) @ zl + eye).tocsc()
            lu = spla.splu(a, permc_spec="MMD_AT_PLUS_A")
            step = lu.solve(grad)
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
        a = (zlt @ sp.diags(-h) @ zl + eye).tocsc()
        lu = spla.splu(a, permc_spec="MMD_AT_PLUS_A")
        logdet = float(np.log(np.abs(lu.U.diagonal())).sum())
        self.b = b
        return val - 0.5 * logdet, b, lam

    def loglik(self, params) -> float:
        try:
            val = self.laplace(params)[0]
        except (np.linalg.LinAlgError, ValueError, RuntimeError, FloatingPointError):
            return -np.inf
        return val if np.isfinite(val) else -np.inf

    def random_effects(self, params) -> np.ndarray:
        """Posterior modes of u = Lambda b~ (term order, group-major)."""
        _, b, lam = self.laplace(params)
        return lam @ b
