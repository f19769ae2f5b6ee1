"""The family/link interface every GLMM response distribution implements.

[ME] meglm, Syntax (family() and link()) and Methods and formulas: the conditional
density f(y_ij | eta_ij) of an observation given its linear predictor (fixed part,
random effects and offset).  Log densities are *complete* (binomial coefficients,
-log y! for Poisson, lgamma terms for the negative binomial), as Stata reports them.

Engines need, per observation and for an array of linear predictors (any shape that
broadcasts with y), the log density and its first and second derivatives with respect
to eta, and with respect to the family's ancillary parameters (NB ln(alpha), Gaussian
ln(sigma), ...), all vectorised.  Everything here is numpy-only and allocation-light.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Link:
    """A link g with inverse mu = g^{-1}(eta) and its first two derivatives."""

    name: str  # identity, log, logit, probit, cloglog

    def inverse(self, eta: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def inverse_d1(self, eta: np.ndarray) -> np.ndarray:
        """d mu / d eta"""
        raise NotImplementedError

    def inverse_d2(self, eta: np.ndarray) -> np.ndarray:
        """d2 mu / d eta2"""
        raise NotImplementedError

    def link(self, mu: np.ndarray) -> np.ndarray:
        raise NotImplementedError


@dataclass
class Family:
    """A response distribution with a link.

    ``aux_names`` are Stata's names of the ancillary parameters in e(b), in the
    estimation metric (``/lnalpha``, ``/lndelta``, ``/lnsigma``... ; see each family), and
    ``aux`` arguments below are arrays of those values (estimation metric).
    ``trials`` (binomial) and other per-observation data are set with :meth:`bind`.
    """

    name: str
    link: Link
    aux_names: tuple[str, ...] = ()
    data: dict = field(default_factory=dict)

    # ----------------------------------------------------------- data checks
    def validate(self, y: np.ndarray, depvar: str) -> np.ndarray:
        """Check the outcome and return it as the family uses it (e.g. bernoulli: y != 0).
        Raise memodels.errors.DataError naming ``depvar`` for invalid values."""
        raise NotImplementedError

    def bind(self, **data: np.ndarray) -> Family:
        """A copy holding per-observation data (binomial ``trials``)."""
        raise NotImplementedError

    # ------------------------------------------------------------- densities
    def loglik(self, y: np.ndarray, eta: np.ndarray, aux: np.ndarray | None = None) -> np.ndarray:
        """log f(y | eta) elementwise (broadcast y against eta)."""
        raise NotImplementedError

    def derivatives(
        self, y: np.ndarray, eta: np.ndarray, aux: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(log f, d log f / d eta, d2 log f / d eta2), elementwise."""
        raise NotImplementedError

    def aux_derivatives(
        self, y: np.ndarray, eta: np.ndarray, aux: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For families with ancillary parameters: (d/d aux, d2/d aux2, d2/d aux d eta) of
        log f elementwise, with a leading axis over the ancillary parameters for the first
        and third, and two leading axes for the second (k x k)."""
        raise NotImplementedError

    def start_aux(self) -> np.ndarray:
        """Starting values of the ancillary parameters (estimation metric)."""
        return np.zeros(len(self.aux_names))

    def mean(self, eta: np.ndarray) -> np.ndarray:
        """E(y | eta): inverse link times trials for the binomial."""
        raise NotImplementedError

    def variance(self, mu: np.ndarray, aux: np.ndarray | None = None) -> np.ndarray:
        """V(mu) of [ME] meglm postestimation (Pearson residuals)."""
        raise NotImplementedError
