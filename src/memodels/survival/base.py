"""Survival distributions as :class:`memodels.families.Family` implementations, so that the
GLMM engine (:func:`memodels.glmm.fit.fit_glmm`) and the fixed-effects GLM that starts it
(:func:`memodels.glm.fit.fit_glm`) fit them with the same likelihood machinery as every
other me command ([ME] mestreg, Methods and formulas, L13639-13691).

The outcome ``y`` is the exit time ``_t``; the entry time ``_t0`` and the failure
indicator ``_d`` are per-observation data bound with ``bind(t0=..., d=...)`` (the engine
re-binds them in its own sorted order).  Each record contributes (equation 1)

    log f(t | eta) = d log g(t | eta) + (1 - d) log S(t | eta) - log S(t0 | eta)

with log S(t0) = 0 when t0 = 0 (no delayed entry).  Stata prints the exponential and
Weibull log likelihoods in the log-t form (the density of ln t: ``+ d ln t``); the
distributions with ``log_t_form`` add that constant.

A distribution implements :meth:`SurvivalFamily._pieces`: log g(t) and log S(t) with their
first and second derivatives with respect to eta and the ancillary parameter ``a`` (one
at most), as :class:`Pieces`.  Most are functions F(p1, p2) of two primitive quantities
(for location-scale forms p1 = z, the standardized log time, p2 = a), composed with
:func:`chain`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import DataError
from ..families._util import align, aux_value, bind_copy
from ..families.base import Family, Link


@dataclass
class Pieces:
    """A function F(eta, a) and its derivatives (elementwise arrays)."""

    f: np.ndarray
    e: np.ndarray
    ee: np.ndarray
    a: np.ndarray | float = 0.0
    aa: np.ndarray | float = 0.0
    ae: np.ndarray | float = 0.0


@dataclass
class Inner:
    """A primitive quantity p(eta, a) with its first and second derivatives."""

    v: np.ndarray | float
    e: np.ndarray | float = 0.0
    a: np.ndarray | float = 0.0
    ee: np.ndarray | float = 0.0
    ea: np.ndarray | float = 0.0
    aa: np.ndarray | float = 0.0


def chain(f, f1, f2, f11, f12, f22, p1: Inner, p2: Inner) -> Pieces:
    """Derivatives of F(p1(eta, a), p2(eta, a)) from those of F and of p1, p2."""
    e = f1 * p1.e + f2 * p2.e
    a = f1 * p1.a + f2 * p2.a
    ee = (f11 * p1.e * p1.e + 2 * f12 * p1.e * p2.e + f22 * p2.e * p2.e
          + f1 * p1.ee + f2 * p2.ee)
    ea = (f11 * p1.e * p1.a + f12 * (p1.e * p2.a + p1.a * p2.e) + f22 * p2.e * p2.a
          + f1 * p1.ea + f2 * p2.ea)
    aa = (f11 * p1.a * p1.a + 2 * f12 * p1.a * p2.a + f22 * p2.a * p2.a
          + f1 * p1.aa + f2 * p2.aa)
    return Pieces(f, e, ee, a, aa, ea)


@dataclass(frozen=True)
class TimeLink(Link):
    """Not a GLM link: only ``link(mean time)`` is used, for the fixed-effects model's
    starting intercept (AFT: ln t; PH: -ln t)."""

    name: str = "log"
    sign: float = 1.0

    def link(self, mu):
        return self.sign * np.log(np.asarray(mu, dtype=float))

    def inverse(self, eta):
        return np.exp(self.sign * np.asarray(eta, dtype=float))


@dataclass
class SurvivalFamily(Family):
    """Base of the mestreg distributions.  ``metric`` is "ph" (log relative hazard) or
    "aft" (accelerated failure time, log time)."""

    name: str = ""
    link: Link = field(default_factory=TimeLink)
    aux_names: tuple[str, ...] = ()
    data: dict = field(default_factory=dict)
    metric: str = "aft"

    label: str = ""  # as in the title "Mixed-effects Weibull regression"
    metrics: tuple[str, ...] = ("aft",)
    log_t_form: bool = False

    def __post_init__(self):
        if self.metric not in self.metrics:
            raise ValueError(f"distribution {self.name}: metric {self.metric} not available "
                             f"({', '.join(self.metrics)})")
        self.link = TimeLink(name="log" if self.metric == "aft" else "neglog",
                             sign=1.0 if self.metric == "aft" else -1.0)

    # ------------------------------------------------------------------ data
    def bind(self, **data) -> SurvivalFamily:
        return bind_copy(self, data)

    def validate(self, y, depvar: str) -> np.ndarray:
        y = np.asarray(y, dtype=float)
        if not np.all(np.isfinite(y)):
            raise DataError(f"{depvar} has missing values")
        if np.any(y <= 0):
            raise DataError(f"{depvar} must be positive (analysis time after origin)")
        return y

    def _data(self, shape):
        n = shape[0] if len(shape) else 1
        t0 = self.data.get("t0")
        d = self.data.get("d")
        t0 = np.zeros(n) if t0 is None else t0
        d = np.ones(n) if d is None else d
        return align(t0, shape), align(d, shape)

    # ------------------------------------------------------------- interface
    def _pieces(self, t, eta, a) -> tuple[Pieces, Pieces]:
        """(log g(t), log S(t)) with derivatives; ``t`` > 0."""
        raise NotImplementedError

    def _survival_only(self, t, eta, a) -> Pieces:
        return self._pieces(t, eta, a)[1]

    def _aux(self, aux):
        if not self.aux_names:
            return 0.0
        return aux_value(aux, 0, self.name, self.aux_names[0])

    def _all(self, y, eta, aux) -> Pieces:
        eta = np.asarray(eta, dtype=float)
        y = np.asarray(y, dtype=float)
        shape = np.broadcast_shapes(y.shape, eta.shape)
        t = np.broadcast_to(y, shape)
        eta_b = np.broadcast_to(eta, shape)
        t0, d = self._data(y.shape)
        a = self._aux(aux)
        with np.errstate(all="ignore"):
            g, s = self._pieces(t, eta_b, a)
            out = {}
            for key in ("f", "e", "ee", "a", "aa", "ae"):
                out[key] = d * getattr(g, key) + (1 - d) * getattr(s, key)
            if self.log_t_form:
                out["f"] = out["f"] + d * np.log(t)
            late = np.broadcast_to(t0, shape) > 0
            if np.any(late):
                t0b = np.where(late, np.broadcast_to(t0, shape), 1.0)
                s0 = self._survival_only(t0b, eta_b, a)
                for key in out:
                    out[key] = out[key] - np.where(late, getattr(s0, key), 0.0)
        return Pieces(**{k: np.broadcast_to(v, shape) for k, v in out.items()})

    def loglik(self, y, eta, aux=None):
        return self._all(y, eta, aux).f

    def derivatives(self, y, eta, aux=None):
        p = self._all(y, eta, aux)
        return p.f, p.e, p.ee

    def aux_derivatives(self, y, eta, aux):
        p = self._all(y, eta, aux)
        return p.a[None], p.aa[None, None], p.ae[None]

    def mean(self, eta):
        raise NotImplementedError(f"predictions are not implemented yet for {self.name}")

    def variance(self, mu, aux=None):
        raise NotImplementedError(f"predictions are not implemented yet for {self.name}")


__all__ = ["SurvivalFamily", "Pieces", "Inner", "chain", "TimeLink"]
