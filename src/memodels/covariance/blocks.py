"""Block-diagonal covariance of repeated random-effects equations at one level
([ME] me, Remarks, example 5: "multiple random-effects equations at the same level ...
the covariance types can be combined to form more complex blocked-diagonal covariance
structures").

``|| district: child*, cov(exchangeable) || district:`` gives the district effects
(child1, child2, child3, _cons) the covariance

    Sigma = diag(Sigma_1, Sigma_2),   Sigma_1 exchangeable (3 x 3), Sigma_2 = var(_cons),

with no covariance between the blocks.  :class:`BlockDiagonal` composes the equations'
:class:`~memodels.covariance.structures.CovStructure` objects so that an engine sees one
effect vector per cluster; its parameter vectors (optimization metric ``theta`` and
Stata's estimation metric ``phi``) are the concatenation of the blocks' vectors, in the
order the equations were written, so the parameter layout of the fit is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import block_diag

from .structures import CovStructure


@dataclass(frozen=True)
class BlockDiagonal:
    """Block-diagonal composition of the structures ``parts`` (one per equation)."""

    parts: tuple[CovStructure, ...]
    kind: str = "blocks"

    @property
    def q(self) -> int:
        return sum(s.q for s in self.parts)

    @property
    def n_theta(self) -> int:
        return sum(s.n_theta for s in self.parts)

    @property
    def n_params(self) -> int:
        return self.n_theta

    @property
    def linear(self) -> bool:
        """True when the factor is linear in theta (no exchangeable block)."""
        return all(s.linear for s in self.parts)

    def _split(self, vec: np.ndarray) -> list[np.ndarray]:
        out, pos = [], 0
        for s in self.parts:
            out.append(np.asarray(vec[pos : pos + s.n_theta]))
            pos += s.n_theta
        return out

    def _bounds(self) -> list[tuple[int, int]]:
        out, pos = [], 0
        for s in self.parts:
            out.append((pos, pos + s.q))
            pos += s.q
        return out

    def start_theta(self, scale: float = 1.0) -> np.ndarray:
        return np.concatenate([s.start_theta(scale) for s in self.parts])

    def relative_factor(self, theta: np.ndarray) -> np.ndarray:
        return block_diag(*[s.relative_factor(t) for s, t in zip(self.parts, self._split(theta),
                                                                  strict=True)])

    def factor_derivatives(self, theta: np.ndarray) -> np.ndarray:
        """d Lambda / d theta_k, shape (n_theta, q, q): each block's derivatives placed
        on its diagonal block."""
        out = np.zeros((self.n_theta, self.q, self.q))
        k = 0
        for s, t, (lo, hi) in zip(self.parts, self._split(theta), self._bounds(), strict=True):
            d = s.factor_derivatives(t)
            out[k : k + s.n_theta, lo:hi, lo:hi] = d
            k += s.n_theta
        return out

    def theta_from_sigma(self, sigma: np.ndarray) -> np.ndarray:
        return np.concatenate([s.theta_from_sigma(sigma[lo:hi, lo:hi])
                               for s, (lo, hi) in zip(self.parts, self._bounds(), strict=True)])

    def phi_from_sigma(self, sigma: np.ndarray) -> np.ndarray:
        return np.concatenate([s.phi_from_sigma(sigma[lo:hi, lo:hi])
                               for s, (lo, hi) in zip(self.parts, self._bounds(), strict=True)])

    def sigma_from_phi(self, phi: np.ndarray) -> np.ndarray:
        return block_diag(*[s.sigma_from_phi(p) for s, p in zip(self.parts, self._split(phi),
                                                                strict=True)])

    def phi_names(self) -> list[tuple[str, int, int]]:
        """Each block's (kind, i, j) with i, j shifted to the composed effect vector."""
        out = []
        for s, (lo, _) in zip(self.parts, self._bounds(), strict=True):
            out += [(kind, i + lo, j + lo) for kind, i, j in s.phi_names()]
        return out
