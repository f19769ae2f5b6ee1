"""Repeated random-effects equations at one level in the GLMM engines ([ME] me, Remarks,
example 5; [ME] meglm, Syntax: "random-effects equations ... at the same level").

``|| district: child*, cov(exchangeable) || district:`` writes the district effects as two
equations; together they are one q = 4 effect vector per district with the
block-diagonal covariance diag(Sigma_exchangeable, var(_cons)).  The engines integrate
one effect vector per level, so consecutive engine terms with the same groups are merged
into one term with a :class:`~memodels.covariance.blocks.BlockDiagonal` structure.  The
merged term's parameters are the equations' parameters in order, so the fit's parameter
vector (and Stata's e(b) order) is unchanged; :func:`restore_terms` puts the equations'
own structures back on the fit for the results.
"""

from __future__ import annotations

import numpy as np

from ..covariance.blocks import BlockDiagonal
from ..errors import OptionError
from ..lmm.terms import EngineTerm
from .types import GLMMFit


def _same_groups(a: EngineTerm, b: EngineTerm) -> bool:
    return a.n_groups == b.n_groups and np.array_equal(a.groups, b.groups)


def merge_repeated(terms: list[EngineTerm]) -> tuple[list[EngineTerm], list[int]]:
    """Consecutive terms over the same groups merged into block-diagonal terms, and the
    index of each merged term's first equation."""
    out: list[list[EngineTerm]] = []
    for t in terms:
        if out and _same_groups(out[-1][-1], t):
            out[-1].append(t)
        else:
            out.append([t])
    for k, run in enumerate(out):
        for later in out[k + 1 :]:
            if _same_groups(run[0], later[0]) and run[0].n_groups > 1:
                raise OptionError("random-effects equations at the same level must be "
                                  "written next to each other")
    merged, firsts, pos = [], [], 0
    for run in out:
        firsts.append(pos)
        pos += len(run)
        if len(run) == 1:
            merged.append(run[0])
            continue
        structure = BlockDiagonal(tuple(t.structure for t in run))
        z = np.hstack([np.asarray(t.Z, float) for t in run])
        merged.append(EngineTerm(run[0].groups, run[0].n_groups, z, structure, run[0].source))
    return merged, firsts


def restore_terms(fit: GLMMFit, terms: list[EngineTerm]) -> GLMMFit:
    """The equations' own structures and sources on a fit of the merged terms."""
    fit.structures = [t.structure for t in terms]
    fit.term_sources = [t.source for t in terms]
    return fit
