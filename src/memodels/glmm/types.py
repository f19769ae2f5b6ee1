"""What the GLMM engine returns: estimates in Stata's estimation metric and their VCE.

[ME] meglm, Methods and formulas.  The parameter vector is ordered as Stata's e(b):

    beta (kept fixed-effect columns, in design order)
    ancillary parameters of the family (estimation metric: /lnalpha, /lndelta,
        /lnsigma for gaussian = ln sd of e, ...; ordinal cutpoints later)
    variance components, per random-effects term in design order, in the metric of
        :meth:`memodels.covariance.structures.CovStructure.phi_names` (ln sd, atanh corr)

``vcov`` is the inverse of the negative Hessian of the log likelihood in that metric.
The results layer maps variance components to the reporting metric (variances and
covariances) with the delta method, exactly as for ``mixed``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class GLMMFit:
    llf: float
    params: np.ndarray
    vcov: np.ndarray
    n_beta: int
    n_aux: int
    aux_names: tuple[str, ...]
    structures: list  # CovStructure per engine term (with effects), design order
    term_sources: list[int]  # index into Design.terms of each engine term
    converged: bool
    iterations: int
    hessian_ok: bool
    ll_fixed: float  # log likelihood of the fixed-effects model (LR test)
    intmethod: str  # mvaghermite, mcaghermite, ghermite, laplace
    intpoints: int
    boundary: list[bool] = field(default_factory=list)
    log: list[tuple[str, int, float]] = field(default_factory=list)  # (stage, iteration, ll)
    messages: list[str] = field(default_factory=list)
    extra: dict = field(default_factory=dict)  # adaptive parameters, EB means, ...
    # constraints()/fixed()/pattern(): memodels.glmm.constraints.ConstraintReport, else None
    constraints: Any = None

    @property
    def beta(self) -> np.ndarray:
        return self.params[: self.n_beta]

    @property
    def aux(self) -> np.ndarray:
        return self.params[self.n_beta : self.n_beta + self.n_aux]

    @property
    def phi(self) -> np.ndarray:
        """Variance components in the ln sd / atanh corr metric."""
        return self.params[self.n_beta + self.n_aux :]

    @property
    def vcov_beta(self) -> np.ndarray:
        return self.vcov[: self.n_beta, : self.n_beta]

    @property
    def vcov_phi(self) -> np.ndarray:
        k = self.n_beta + self.n_aux
        return self.vcov[k:, k:]
