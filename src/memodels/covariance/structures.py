"""Covariance structures of a random-effects equation ([ME] mixed, option covariance()).

Each structure maps between three parameterizations of the q x q covariance matrix
Sigma of one level's random effects:

* the *optimization* metric ``theta`` -- unconstrained parameters of the relative
  factor Lambda with Sigma / sigma_e^2 = Lambda Lambda' (the role Stata's matrix square
  root plays in [ME] mixed, Methods and formulas);
* Stata's *estimation* metric ``phi`` -- log standard deviations and atanh correlations
  of Sigma itself (what e(b) holds and what the observed information is computed in);
* the *reporting* metric -- variances and covariances (or sd / corr), with names.

Structures: independent (distinct variances, zero covariances), exchangeable (common
variance and common covariance), identity (common variance), unstructured (all
q(q+1)/2 elements).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np


@cache
def _tril(q: int, k: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """np.tril_indices, cached (it is called on every likelihood evaluation)."""
    rows, cols = np.tril_indices(q, k)
    rows.setflags(write=False)
    cols.setflags(write=False)
    return rows, cols

KINDS = ("independent", "exchangeable", "identity", "unstructured")


@dataclass(frozen=True)
class ReportedParam:
    """One displayed variance-component row: kind is "var" or "cov"; i, j index effects."""

    kind: str
    i: int
    j: int


@dataclass(frozen=True)
class CovStructure:
    """The covariance structure ``kind`` over ``q`` random effects."""

    kind: str
    q: int

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown covariance structure '{self.kind}'")

    # ---------------------------------------------------------------- sizes
    @property
    def n_theta(self) -> int:
        if self.q == 0:
            return 0
        return {
            "independent": self.q,
            "identity": 1,
            "exchangeable": 1 if self.q == 1 else 2,
            "unstructured": self.q * (self.q + 1) // 2,
        }[self.kind]

    @property
    def n_params(self) -> int:
        """Number of free variance-component parameters (same in every metric)."""
        return self.n_theta

    @property
    def linear(self) -> bool:
        """True when the relative factor is linear in theta (every structure but the
        exchangeable one's (log sd, logit rho) parameterization)."""
        return not (self.kind == "exchangeable" and self.q > 1)

    # ------------------------------------------------------ optimization metric
    def start_theta(self, scale: float = 1.0) -> np.ndarray:
        """Starting relative factor: Sigma / sigma_e^2 = scale^2 I."""
        if self.kind == "unstructured":
            out = np.zeros(self.n_theta)
            out[self._diag_positions()] = scale
            return out
        if self.kind == "exchangeable" and self.q > 1:
            return np.array([np.log(scale), 0.0])
        return np.full(self.n_theta, scale)

    def _diag_positions(self) -> np.ndarray:
        rows, cols = _tril(self.q)
        return np.flatnonzero(rows == cols)

    def relative_factor(self, theta: np.ndarray) -> np.ndarray:
        """Lower-triangular Lambda with Lambda Lambda' = Sigma / sigma_e^2."""
        q = self.q
        if self.kind == "independent":
            return np.diag(theta)
        if self.kind == "identity":
            return theta[0] * np.eye(q)
        if self.kind == "unstructured":
            lam = np.zeros((q, q))
            lam[_tril(q)] = theta
            return lam
        if q == 1:
            return np.array([[theta[0]]])
        sd = np.exp(theta[0])
        rho = _exchangeable_rho(theta[1], q)
        return _safe_cholesky(sd * sd * _exchangeable_corr(rho, q))

    def factor_derivatives(self, theta: np.ndarray) -> np.ndarray:
        """d Lambda / d theta_k for every k, shape (n_theta, q, q).

        Exact for the structures that are linear in theta; central differences for the
        exchangeable structure's (log sd, logit rho) parameters."""
        q, k = self.q, self.n_theta
        out = np.zeros((k, q, q))
        if self.kind == "independent":
            out[np.arange(q), np.arange(q), np.arange(q)] = 1.0
        elif self.kind == "identity":
            out[0] = np.eye(q)
        elif self.kind == "unstructured":
            rows, cols = _tril(q)
            out[np.arange(k), rows, cols] = 1.0
        elif q == 1:
            out[0] = 1.0
        else:
            for i in range(k):
                h = 1e-6
                e = np.zeros(k)
                e[i] = h
                out[i] = (self.relative_factor(theta + e) - self.relative_factor(theta - e)) / (
                    2 * h
                )
        return out

    def theta_from_sigma(self, rel_sigma: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`relative_factor` (up to sign) for a relative Sigma."""
        q = self.q
        if self.kind == "independent":
            return np.sqrt(np.clip(np.diag(rel_sigma), 0, None))
        if self.kind == "identity":
            return np.array([np.sqrt(max(np.mean(np.diag(rel_sigma)), 0.0))])
        if self.kind == "unstructured":
            return _safe_cholesky(rel_sigma)[_tril(q)]
        if q == 1:
            return np.array([np.sqrt(max(rel_sigma[0, 0], 0.0))])
        var = max(np.mean(np.diag(rel_sigma)), 1e-300)
        off = rel_sigma[~np.eye(q, dtype=bool)].mean() / var
        lo = -1.0 / (q - 1)
        frac = np.clip((off - lo) / (1 - lo), 1e-6, 1 - 1e-6)
        return np.array([0.5 * np.log(var), np.log(frac / (1 - frac))])

    # ------------------------------------------------------- Stata's metric
    def phi_from_sigma(self, sigma: np.ndarray) -> np.ndarray:
        """Stata's estimation metric: ln sd's then atanh corr's (structure's free ones)."""
        sd = np.sqrt(np.clip(np.diag(sigma), 1e-300, None))
        if self.kind == "independent":
            return np.log(sd)
        if self.kind == "identity":
            return np.array([np.log(np.sqrt(np.mean(sd**2)))])
        if self.kind == "exchangeable":
            var = np.mean(sd**2)
            out = [0.5 * np.log(var)]
            if self.q > 1:
                cov = sigma[~np.eye(self.q, dtype=bool)].mean()
                out.append(np.arctanh(np.clip(cov / var, -1 + 1e-15, 1 - 1e-15)))
            return np.array(out)
        corr = sigma / np.outer(sd, sd)
        rows, cols = _tril(self.q, -1)
        z = np.arctanh(np.clip(corr[rows, cols], -1 + 1e-15, 1 - 1e-15))
        return np.concatenate([np.log(sd), z])

    def sigma_from_phi(self, phi: np.ndarray) -> np.ndarray:
        q = self.q
        if self.kind == "independent":
            return np.diag(np.exp(2 * phi))
        if self.kind == "identity":
            return np.exp(2 * phi[0]) * np.eye(q)
        if self.kind == "exchangeable":
            var = np.exp(2 * phi[0])
            rho = np.tanh(phi[1]) if q > 1 else 0.0
            return var * _exchangeable_corr(rho, q)
        sd = np.exp(phi[:q])
        corr = np.eye(q)
        rows, cols = _tril(q, -1)
        corr[rows, cols] = np.tanh(phi[q:])
        corr[cols, rows] = corr[rows, cols]
        return corr * np.outer(sd, sd)

    def sigma_derivatives(self, phi: np.ndarray) -> np.ndarray:
        """d Sigma / d phi_k for every element of Stata's metric, shape (n_params, q, q)
        (exact: Sigma is a product of exp(ln sd) and tanh(atanh corr) terms)."""
        q, k = self.q, self.n_params
        out = np.zeros((k, q, q))
        if self.kind == "independent":
            out[np.arange(q), np.arange(q), np.arange(q)] = 2.0 * np.exp(2 * phi)
            return out
        if self.kind == "identity":
            out[0] = 2.0 * np.exp(2 * phi[0]) * np.eye(q)
            return out
        if self.kind == "exchangeable":
            sigma = self.sigma_from_phi(phi)
            out[0] = 2.0 * sigma
            if q > 1:
                rho = np.tanh(phi[1])
                out[1] = np.exp(2 * phi[0]) * (1 - rho * rho) * (np.ones((q, q)) - np.eye(q))
            return out
        sigma = self.sigma_from_phi(phi)
        for i in range(q):
            out[i, i, :] += sigma[i, :]
            out[i, :, i] += sigma[:, i]
        rows, cols = _tril(q, -1)
        sd = np.exp(phi[:q])
        d = sd[rows] * sd[cols] * (1 - np.tanh(phi[q:]) ** 2)
        idx = np.arange(q, k)
        out[idx, rows, cols] = d
        out[idx, cols, rows] = d
        return out

    def phi_names(self) -> list[tuple[str, int, int]]:
        """(kind, i, j) of each phi element: ("lnsd", i, i) or ("atanh", i, j)."""
        q = self.q
        if self.kind == "independent":
            return [("lnsd", i, i) for i in range(q)]
        if self.kind == "identity":
            return [("lnsd", 0, 0)]
        if self.kind == "exchangeable":
            return [("lnsd", 0, 0)] + ([("atanh", 1, 0)] if q > 1 else [])
        rows, cols = _tril(q, -1)
        return [("lnsd", i, i) for i in range(q)] + [
            ("atanh", int(r), int(c)) for r, c in zip(rows, cols, strict=True)
        ]

    # ------------------------------------------------------- reporting metric
    def reported(self) -> list[ReportedParam]:
        """Rows Stata displays, in its order: variances, then covariances."""
        q = self.q
        if self.kind == "independent":
            return [ReportedParam("var", i, i) for i in range(q)]
        if self.kind == "identity":
            return [ReportedParam("var", 0, 0)]
        if self.kind == "exchangeable":
            return [ReportedParam("var", 0, 0)] + ([ReportedParam("cov", 1, 0)] if q > 1 else [])
        out = [ReportedParam("var", i, i) for i in range(q)]
        # Stata lists cov(x1,x2) pairs with the first index varying slowest: (0,1),(0,2),(1,2)
        for i in range(q):
            for j in range(i + 1, q):
                out.append(ReportedParam("cov", i, j))
        return out


def _exchangeable_corr(rho: float, q: int) -> np.ndarray:
    return (1 - rho) * np.eye(q) + rho * np.ones((q, q))


def _exchangeable_rho(z: float, q: int) -> float:
    """Map an unconstrained z to rho in (-1/(q-1), 1), where the matrix is PD."""
    lo = -1.0 / (q - 1)
    return lo + (1 - lo) / (1 + np.exp(-z))


def _safe_cholesky(mat: np.ndarray) -> np.ndarray:
    """Cholesky factor of a PSD matrix, tolerating semi-definiteness."""
    try:
        return np.linalg.cholesky(mat)
    except np.linalg.LinAlgError:
        w, v = np.linalg.eigh((mat + mat.T) / 2)
        half = v * np.sqrt(np.clip(w, 0, None))
        _, r = np.linalg.qr(half.T)
        lower = r.T
        signs = np.sign(np.diag(lower))
        signs[signs == 0] = 1
        return lower * signs
