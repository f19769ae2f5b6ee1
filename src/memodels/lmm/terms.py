"""Random-effects terms as the LMM engine sees them.

A design :class:`~memodels.design.types.RandomTerm` becomes an :class:`EngineTerm`: a
grouping factor (codes 0..G-1), a dense n x q covariate block and a covariance
structure.  ``R.var`` with an identity structure (Stata's crossed-effects idiom
``|| _all: R.var``) is recast exactly as a random intercept on the groups of ``var``
within the level, so that a factor with thousands of levels costs one column, not
thousands; ``R.var`` with an exchangeable structure keeps its indicator columns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..covariance.structures import CovStructure
from ..design.types import RandomTerm


@dataclass
class EngineTerm:
    groups: np.ndarray
    n_groups: int
    Z: np.ndarray
    structure: CovStructure
    source: int  # index into Design.terms


def _combine_codes(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, int]:
    key = a.astype(np.int64) * (int(b.max()) + 1 if b.size else 1) + b.astype(np.int64)
    uniq, inv = np.unique(key, return_inverse=True)
    return inv.astype(np.int64), int(uniq.size)


def engine_terms(terms: list[RandomTerm]) -> list[EngineTerm]:
    """Engine terms for every design term that carries random effects."""
    out: list[EngineTerm] = []
    for idx, term in enumerate(terms):
        if term.rfactor is not None:
            codes = np.asarray(term.rfactor_codes, dtype=np.int64)
            k = len(term.rfactor_levels)
            if term.covariance == "identity":
                groups, n_groups = _combine_codes(np.asarray(term.groups), codes)
                z = np.ones((codes.size, 1))
                out.append(EngineTerm(groups, n_groups, z, CovStructure("identity", 1), idx))
            else:
                z = np.zeros((codes.size, k))
                z[np.arange(codes.size), codes] = 1.0
                struct = CovStructure(term.covariance, k)
                out.append(
                    EngineTerm(np.asarray(term.groups, np.int64), term.n_groups, z, struct, idx)
                )
            continue
        if term.Z is None or term.Z.shape[1] == 0:
            continue
        struct = CovStructure(term.covariance, term.Z.shape[1])
        out.append(
            EngineTerm(
                np.asarray(term.groups, np.int64),
                term.n_groups,
                np.asarray(term.Z, float),
                struct,
                idx,
            )
        )
    return out
