"""The GLMM parameter vector's layout: beta, ancillary parameters, then each random-effects
term's covariance parameters (the order of Stata's e(b))."""

from __future__ import annotations

import numpy as np


class ParamLayout:
    """Mixin for engines with attributes ``p``, ``n_aux`` and ``n_theta`` (per term)."""

    p: int
    n_aux: int
    n_theta: list[int]

    @property
    def n_params(self) -> int:
        return self.p + self.n_aux + sum(self.n_theta)

    def split(self, params: np.ndarray):
        """(beta, aux, [theta per term])."""
        p, a = self.p, self.n_aux
        beta, aux = params[:p], params[p : p + a]
        thetas, pos = [], p + a
        for t in self.n_theta:
            thetas.append(params[pos : pos + t])
            pos += t
        return beta, aux, thetas
