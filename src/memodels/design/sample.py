"""The estimation sample (Stata's ``e(sample)``).

Stata's rules ([U] 11.1.3 if exp, [U] 11.1.4 in range, [P] mark / marksample), as used
by ``mixed`` ([ME] mixed, Syntax: ``fe_equation: [indepvars] [if] [in] [weight]``):

1. ``in f/l`` keeps observations ``f`` through ``l`` (1-based positions in data order;
   a negative number counts from the end, ``-1`` being the last observation; ``in #``
   is a single observation).  Positions outside ``1..N`` are an error.
2. ``if exp`` keeps observations where *exp* is true (nonzero; missing counts as true).
3. Listwise deletion: an observation is dropped when *any* model variable is missing
   -- the outcome, the fixed-effects variables, random-effects covariates, level
   variables (``_all`` is not a variable), ``R.`` factors, weight variables (a missing
   evaluated weight) and variables named in options (``spec.extra_vars``).  Numeric
   missing is NaN/None/``pd.NA``; string missing is ``""``.  As marksample does by
   default, observations with a zero observation-level weight are also left out.

``n_dropped`` counts the observations removed in step 3 (those selected by if/in but
not used).  The caller's DataFrame is never modified.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataError
from ..spec import InRange, ModelSpec
from .evaluate import if_mask
from .variables import ALL, missing_mask


@dataclass
class Sample:
    """Which rows are used: ``mask`` over the original rows, in data order."""

    mask: np.ndarray
    n_selected: int  # after if/in, before listwise deletion
    n_dropped: int

    @property
    def n(self) -> int:
        return int(self.mask.sum())


def model_variables(spec: ModelSpec) -> list[str]:
    """Every data column the model uses, in order of first mention (no duplicates)."""
    names: list[str] = [spec.depvar]
    for term in spec.fixed:
        names.extend(f.name for f in term.factors)
    for eq in spec.equations:
        if eq.level != ALL:
            names.append(eq.level)
        names.extend(eq.variables)
        if eq.rfactor is not None:
            names.append(eq.rfactor)
    names.extend(spec.extra_vars)
    return list(dict.fromkeys(names))


def in_mask(in_range: InRange | None, n: int) -> np.ndarray:
    """Rows selected by ``in f/l`` (all rows when there is no ``in``)."""
    mask = np.zeros(n, dtype=bool)
    if in_range is None:
        mask[:] = True
        return mask
    first = in_range.first
    last = in_range.first if in_range.last is None else in_range.last

    def position(k: int) -> int:
        if k == 0:
            raise DataError("in range: observation number 0 is not allowed")
        pos = k - 1 if k > 0 else n + k
        if pos < 0 or pos >= n:
            raise DataError(f"in range: observation number {k} out of range (N = {n})")
        return pos

    lo, hi = position(first), position(last)
    if lo <= hi:
        mask[lo : hi + 1] = True
    return mask


def estimation_sample(
    spec: ModelSpec,
    data: pd.DataFrame,
    evaluated: dict[str, np.ndarray] | None = None,
    zero_excluded: dict[str, np.ndarray] | None = None,
) -> Sample:
    """Apply ``in``, ``if`` and listwise deletion.

    ``evaluated`` maps a label to an already-evaluated full-length array (weights):
    NaN there drops the row.  ``zero_excluded`` arrays (observation weights) also drop
    rows where they are zero.
    """
    n = len(data)
    selected = in_mask(spec.in_range, n)
    if spec.if_expr is not None:
        selected &= if_mask(spec.if_expr, data)
    n_selected = int(selected.sum())
    where = _describe_restriction(spec)
    if n_selected == 0:
        raise DataError(f"no observations{where}")

    keep = selected.copy()
    for name in model_variables(spec):
        keep &= ~missing_mask(data[name])
    for values in (evaluated or {}).values():
        keep &= ~np.isnan(values)
    for values in (zero_excluded or {}).values():
        keep &= ~(values == 0)
    n_used = int(keep.sum())
    if n_used == 0:
        raise DataError(
            f"no observations: all {n_selected} observations{where} have missing "
            "values in model variables"
        )
    return Sample(mask=keep, n_selected=n_selected, n_dropped=n_selected - n_used)


def check_lmm_sample(design) -> None:
    """What a linear mixed model needs of its sample ([ME] mixed), refused with Stata's
    codes rather than left to fail inside the optimizer:

    * more observations than fixed-effects coefficients (r(2001), "insufficient
      observations"): otherwise the residual variance has nothing left to estimate it;
    * some group with two or more observations at each level with a random intercept:
      when every group of a level is a single observation, that level's random
      intercept and the residual are the same thing and their variances cannot be told
      apart.
    """
    n = int(np.asarray(design.y).size)
    p = int(np.asarray(design.X).shape[1])
    if n <= p:
        err = DataError(f"insufficient observations: {n} observations for {p} "
                        "fixed-effects coefficients")
        err.rc = 2001  # type: ignore[attr-defined]
        raise err
    for term in design.terms:
        if term.level == ALL or term.n_groups == 0 or "_cons" not in term.names:
            continue  # (a random slope alone is identified through the variance's shape)
        sizes = np.bincount(np.asarray(term.groups), minlength=term.n_groups)
        if sizes.max() <= 1:
            err = DataError(f"every group of {term.level} has a single observation: the "
                            f"variance of the random intercept at level {term.level} cannot "
                            "be told apart from the residual variance; drop the "
                            f"{term.level}: equation")
            err.rc = 459  # type: ignore[attr-defined]
            raise err


def _describe_restriction(spec: ModelSpec) -> str:
    parts = []
    if spec.if_expr is not None:
        parts.append("if")
    if spec.in_range is not None:
        parts.append("in")
    if not parts:
        return ""
    return " after " + "/".join(parts)
