"""The me commands on Dask, worker side: each partition's in-memory likelihood objects.

A partition (whole top-level groups) gets the objects the in-memory engine builds from
all rows -- :class:`memodels.glm.fit.GLMModel` for the fixed-effects start, and
:class:`memodels.glmm.twolevel.TwoLevelQuadrature` (two levels) or
:class:`memodels.glmm.nested.NestedQuadrature` (three or more) -- on its own rows.  They
are persisted on the worker; each task below evaluates one of them at the parameters the
client sends and returns its contribution: the log likelihood of the partition's groups,
its gradient and Hessian ([ME] meglm, Methods and formulas: the log likelihood is a sum
over top-level groups).  The adaptive quadrature parameters of the partition's groups are
returned as a persisted object that stays on the worker for the next iteration.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np

from ..glm.fit import GLMModel
from ..glmm.nested import NestedQuadrature
from ..glmm.twolevel import Adaptive as TwoLevelAdaptive
from ..glmm.twolevel import TwoLevelQuadrature
from ..lmm.terms import EngineTerm
from .partdesign import PartDesign


@dataclass
class PartGLMM:
    n: int
    k: int  # number of engine parameters
    p: int
    n_aux: int
    glm: Any = None
    quad: Any = None
    y: np.ndarray | None = None
    offset: np.ndarray | None = None


def build_part(d: PartDesign, keep: np.ndarray, family, depvar: str, offset_of,
               opts: dict, method: str, points: int, structures: list, sources: list[int],
               k: int, pdf=None) -> PartGLMM:
    """The partition's likelihood objects (None for an empty partition).  ``pdf``
    (mestreg): the partition's rows, whose ``_t0`` and ``_d`` the survival family binds
    (as ``family.bind(t0=, d=)`` in memory)."""
    p = int(keep.sum())
    a = len(family.aux_names)
    if d.n == 0:
        return PartGLMM(0, k, p, a)
    X = np.ascontiguousarray(d.X[:, keep])
    surv = None
    if pdf is not None:
        surv = (pdf["_t0"].to_numpy(float)[d.sample], pdf["_d"].to_numpy(float)[d.sample])
        family = family.bind(t0=surv[0], d=surv[1])
    if pdf is not None:
        y = family.validate(d.y, "_t")
    elif getattr(family, "name", "") == "ordinal":  # the categories of the whole sample
        y = np.searchsorted(family.categories, d.y).astype(float)
    else:
        y = family.validate(d.y, depvar)
    offset = offset_of(opts, SimpleNamespace(extra=d.extra or {}))
    terms = [EngineTerm(d.groups[i], d.n_groups[i], d.Z[i], st, i)
             for st, i in zip(structures, sources, strict=True)]
    glm = GLMModel(y, X, family, offset, None)
    if len(terms) == 1:
        t = terms[0]
        quad = TwoLevelQuadrature(y, X, t.Z, t.groups, t.n_groups, family, t.structure,
                                  offset=offset, method=method, points=points)
    else:
        quad = NestedQuadrature(y, X, terms, family, offset=offset, method=method,
                                points=points)
    out = PartGLMM(int(y.size), k, p, a, glm, quad, np.asarray(y, float), offset)
    out.surv = surv
    return out


def summary(m: PartGLMM) -> dict:
    """n, sums of y, y^2 and the offset, and the distinct outcome values (capped)."""
    if not m.n:
        return {"n": 0, "sy": 0.0, "syy": 0.0, "soff": 0.0, "values": np.zeros(0)}
    off = 0.0 if m.offset is None else float(np.sum(m.offset))
    out = {"n": m.n, "sy": float(m.y.sum()), "syy": float(m.y @ m.y), "soff": off,
           "values": np.unique(m.y)[:3]}
    surv = getattr(m, "surv", None)
    if surv is not None:  # mestreg: delayed entries and failures
        out["late"] = int(np.sum(surv[0] > 0))
        out["failures"] = float(np.sum(surv[1]))
    return out


def glm_loglik(m: PartGLMM, theta: np.ndarray) -> float:
    return m.glm.loglik(theta) if m.n else 0.0


def glm_evaluate(m: PartGLMM, theta: np.ndarray):
    kk = m.p + m.n_aux
    if not m.n:
        return 0.0, np.zeros(kk), np.zeros((kk, kk))
    return m.glm.evaluate(theta)


def quad_adapt(m: PartGLMM, params: np.ndarray, ad):
    return m.quad.adapt(params, ad) if m.n else None


def quad_loglik(m: PartGLMM, params: np.ndarray, ad) -> float:
    return m.quad.loglik(params, ad) if m.n else 0.0


def quad_derivatives(m: PartGLMM, params: np.ndarray, ad):
    if not m.n:
        return 0.0, np.zeros(m.k), np.zeros((m.k, m.k))
    return m.quad.derivatives(params, ad)


def group_info(d: PartDesign, sources: list[int]) -> dict:
    """Group keys and sizes (the group table), as :func:`.lmm_stats.global_codes` wants."""
    return {"keys": [d.keys[i] for i in sources],
            "terms": [{"counts": np.bincount(d.groups[i], minlength=d.n_groups[i])}
                      for i in sources], "n": d.n}


def quad_adapt_step(m: PartGLMM, params: np.ndarray, ad):
    """One iteration of the adaptive-parameter fixed point (mvaghermite) of the
    partition's groups; the client iterates while any group moves (the in-memory loop
    stops on the largest change over all groups, so the partitions iterate together)."""
    return m.quad.adapt(params, ad, maxiter=1) if m.n else None


def _arrays(ad) -> list[np.ndarray]:
    if ad is None:
        return []
    if isinstance(ad, list):  # nested: one JointAdaptive per level
        return [a for lev in ad for a in (lev.mu, lev.chol, lev.b) if a.size]
    return [ad.mu, ad.chol]


def adapt_change(m: PartGLMM, new, old) -> float:
    """The in-memory loops' convergence measure between two iterates."""
    if not m.n:
        return 0.0
    if old is None:
        old = (m.quad.initial_adaptive() if hasattr(m.quad, "initial_adaptive")
               else TwoLevelAdaptive.standard(m.quad.m, m.quad.q))
    return max((float(np.abs(a - b).max()) for a, b in zip(_arrays(new), _arrays(old),
                                                             strict=True)), default=0.0)


def outcome_counts(d: PartDesign) -> tuple[np.ndarray, np.ndarray]:
    """Distinct outcome values of the partition's sample and their counts."""
    vals, counts = np.unique(d.y, return_counts=True)
    return vals, counts
