"""Weighted (pseudo)likelihood of the two-level linear mixed model, and cluster scores.

[ME] mixed, Methods and formulas, eq. (14): with cluster weights w_j and conditional
observation weights w_{i|j},

    L = sum_j w_j log int exp{ sum_i w_{i|j} log f1(y_ij | u_j) } f2(u_j) du_j.

For the Gaussian model each cluster's integral is closed form:

    L_j = -1/2 { n_j^w log(2 pi sigma^2) + log|A_j| + (r_j'W_j r_j - |c_j|^2) / sigma^2 },
    A_j = I + Lambda'Z_j'W_j Z_j Lambda,  c_j = L_j^{-1} Lambda'Z_j'W_j r_j,

so beta and sigma^2 profile out as before with every cluster-level sum weighted by w_j.
``pwscale()`` rescales the weights first (size, effective, gk).  Cluster log likelihoods
give the scores for the robust (sandwich) VCE, clustered at the top level.
"""

from __future__ import annotations

import numpy as np

from ..errors import OptionError
from . import batched
from .criteria import Criteria, Evaluation
from .terms import EngineTerm


def scale_weights(obs_w: np.ndarray, cluster_w: np.ndarray, groups: np.ndarray,
                  n_groups: int, how: str | None) -> tuple[np.ndarray, np.ndarray]:
    """pwscale(size | effective | gk) ([ME] mixed, Methods and formulas)."""
    if not how:
        return obs_w, cluster_w
    n_j = np.bincount(groups, minlength=n_groups).astype(float)
    s1 = np.bincount(groups, weights=obs_w, minlength=n_groups)
    s2 = np.bincount(groups, weights=obs_w**2, minlength=n_groups)
    if how == "size":
        return obs_w * (n_j / s1)[groups], cluster_w
    if how == "effective":
        return obs_w * (s1 / s2)[groups], cluster_w
    if how == "gk":
        return np.ones_like(obs_w), cluster_w * s1 / n_j
    raise OptionError(f"pwscale({how}) invalid; use size, effective or gk")


class WeightedTwoLevel(Criteria):
    def __init__(self, y, X, term: EngineTerm, obs_w: np.ndarray, cluster_w: np.ndarray):
        n, p = X.shape
        g = term.groups
        self.term = term
        self.terms = [term]
        self.p = p
        sort = np.argsort(g, kind="stable")
        starts = np.flatnonzero(np.r_[True, np.diff(g[sort]) != 0])
        self.sort, self.starts = sort, starts
        self.g = g
        self.wj = np.asarray(cluster_w, float)
        wi = np.asarray(obs_w, float)
        self.wi = wi
        wall = wi * self.wj[g]
        self.n = float(wall.sum())
        self.n_obs = n
        self.y, self.X = np.asarray(y, float), np.asarray(X, float)
        z = term.Z
        zw = z * wi[:, None]
        self.d1 = batched.group_sums(zw[:, :, None] * z[:, None, :], sort, starts)
        self.z1x = batched.group_sums(zw[:, :, None] * X[:, None, :], sort, starts)
        self.z1y = batched.group_sums(zw * y[:, None], sort, starts)
        self.nj = batched.group_sums(wi, sort, starts)
        self.xtx = X.T @ (X * wall[:, None])
        self.xty = X.T @ (wall * y)
        self.yty = float(y @ (wall * y))
        self.beta0 = np.zeros(p)

    def _pieces(self, theta):
        lam = self.term.structure.relative_factor(theta)
        q = lam.shape[0]
        a = lam.T @ self.d1 @ lam
        a[:, np.arange(q), np.arange(q)] += 1.0
        low = batched.cholesky(a)
        return lam, low

    def evaluate(self, thetas, keep: bool = False) -> Evaluation:
        lam, low = self._pieces(thetas[0])
        sw = np.sqrt(self.wj)
        logdet = 2.0 * float((self.wj * np.log(np.diagonal(low, axis1=1, axis2=2)).sum(1)).sum())
        c1 = batched.forward_solve(low, self.z1y @ lam) * sw[:, None]
        c1x = batched.forward_solve(low, lam.T @ self.z1x) * sw[:, None, None]
        flat = c1x.reshape(-1, self.p)
        cc = float(c1.ravel() @ c1.ravel())
        cxc = flat.T @ c1.ravel()
        rxtrx = self.xtx - flat.T @ flat
        beta = np.linalg.solve(rxtrx, self.xty - cxc)
        r2 = self.yty - cc - float(beta @ (self.xty - cxc))
        low_x = np.linalg.cholesky(rxtrx)
        return Evaluation(logdet, 2.0 * float(np.log(np.diag(low_x)).sum()), max(r2, 1e-300),
                          beta, rxtrx)

    def cluster_loglik(self, beta: np.ndarray, theta: np.ndarray, sigma2: float) -> np.ndarray:
        """w_j L_j for every cluster (cluster order), at beta, relative theta, sigma^2."""
        lam, low = self._pieces(theta)
        r = self.y - self.X @ beta
        rr = batched.group_sums(self.wi * r * r, self.sort, self.starts)
        zr = self.z1y - self.z1x @ beta
        c = batched.forward_solve(low, zr @ lam)
        logdet = 2.0 * np.log(np.diagonal(low, axis1=1, axis2=2)).sum(1)
        lj = -0.5 * (self.nj * np.log(2 * np.pi * sigma2) + logdet
                     + (rr - (c * c).sum(1)) / sigma2)
        return self.wj * lj
