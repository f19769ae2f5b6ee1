"""Levels of a multilevel model: nesting, repeated levels and group codes.

[ME] mixed, Remarks (Nested effects, technical note): random-effects equations are
written from the highest level down, and each level is nested in the levels to its
left; "``mixed`` treated the states as nested within regions, regardless of whether
the codes for each state were unique between regions".  So the groups of a nested
level are the distinct combinations of the level variables from the outermost down
to it.  ``_all`` ([ME] mixed, Syntax: "levelvar is a variable identifying the group
structure ... or is _all representing one group comprising all observations") is a
single group wherever it appears and contributes nothing to the nesting of the levels
written after it.

Blocked-diagonal covariance structures ([ME] mixed, Remarks): the same level may be
repeated in *consecutive* equations ("repeated-level equations must be listed
consecutively; otherwise, mixed will give an error"), each a separate block over the
same groups.  "By default, it places the constant in the last repeated-level equation,
but you can use noconstant creatively to override this": here the constant goes to
the last equation of the run that does not say ``noconstant`` (and is not ``R.``);
the others get none.  (lme4 terms, ``nested=False``, keep their own constants.)

Paths (used in parameter names, e.g. ``school>class`` in the me commands): the
nesting chain of non-``_all`` level variables joined with ``>``; ``"_all"`` for an
``_all`` level.  Equations with ``nested=False`` (lme4 crossed grouping factors) take
their groups from their own level variable alone, take no part in the nesting chain,
and have the level name as path; they may repeat non-consecutively.

Group codes are 0..G-1 in lexicographic order of the key values (outer level first,
values sorted ascending), computed with ``pd.factorize``/``np.unique`` only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import StataSyntaxError
from ..spec import REEquation
from .variables import ALL


@dataclass(frozen=True)
class LevelPlan:
    """Where one equation sits in the hierarchy."""

    eq_index: int
    level: str
    path: str
    keys: tuple[str, ...]  # level variables whose combinations define the groups
    distinct: int  # index of the distinct level (a run of repeated equations is one)
    constant: bool  # does this equation get the random intercept?


def plan_levels(equations: tuple[REEquation, ...] | list[REEquation]) -> list[LevelPlan]:
    """Nesting chains, distinct levels and constant placement for the equations."""
    plans: list[LevelPlan] = []
    chain: list[str] = []  # nesting chain so far (non-_all nested levels)
    finished: set[str] = set()  # nested levels whose run has ended
    distinct_ids: dict[tuple, int] = {}
    prev_key: tuple | None = None
    runs: list[list[int]] = []
    for i, eq in enumerate(equations):
        if eq.nested:
            key: tuple = ("nested", eq.level)
            if key != prev_key and eq.level in finished:
                raise StataSyntaxError(
                    f"level '{eq.level}' repeated in non-consecutive random-effects "
                    "equations; repeated-level equations must be listed consecutively"
                )
            if key != prev_key:
                if prev_key is not None and prev_key[0] == "nested":
                    finished.add(prev_key[1])
                if eq.level != ALL:
                    chain = [*chain, eq.level]
                path_keys = tuple(chain) if eq.level != ALL else ()
                runs.append([i])
            else:
                runs[-1].append(i)
                path_keys = plans[-1].keys
            path = ">".join(path_keys) if eq.level != ALL else ALL
        else:
            key = ("crossed", eq.level)
            if prev_key is not None and prev_key[0] == "nested":
                finished.add(prev_key[1])
            if key == prev_key:
                runs[-1].append(i)
            else:
                runs.append([i])
            path_keys = (eq.level,) if eq.level != ALL else ()
            path = eq.level
        ident = (key, path_keys)
        distinct = distinct_ids.setdefault(ident, len(distinct_ids))
        plans.append(LevelPlan(i, eq.level, path, path_keys, distinct, False))
        prev_key = key

    with_constant: set[int] = {
        i for i, eq in enumerate(equations) if not eq.nested and eq.has_constant
    }
    for run in runs:
        if not equations[run[0]].nested:
            continue
        candidates = [
            i for i in run if equations[i].rfactor is None and not equations[i].noconstant
        ]
        if candidates:
            with_constant.add(candidates[-1])
    return [
        LevelPlan(p.eq_index, p.level, p.path, p.keys, p.distinct, p.eq_index in with_constant)
        for p in plans
    ]


def factorize_sorted(values: pd.Series) -> tuple[np.ndarray, list]:
    """Codes 0..k-1 in ascending order of the values (category order for Categoricals)
    and the level values in that order."""
    arr = values.to_numpy() if isinstance(values.dtype, np.dtype) else None
    if arr is not None and arr.dtype.kind in "iu" and arr.size:
        lo, hi = int(arr.min()), int(arr.max())
        if hi - lo <= 4 * arr.size + 1024:  # integer ids in a compact range: no sort
            present = np.zeros(hi - lo + 1, dtype=bool)
            offset = arr.astype(np.int64) - lo
            present[offset] = True
            remap = np.cumsum(present) - 1
            return remap[offset], list((np.flatnonzero(present) + lo).astype(arr.dtype))
    codes, uniques = pd.factorize(values, sort=True)
    return np.asarray(codes, dtype=np.int64), list(uniques)


def _dense_inverse(combined: np.ndarray, size: int) -> tuple[np.ndarray, int] | None:
    """np.unique(combined, return_inverse=True) for codes in [0, size) without a sort,
    when the range is compact; None otherwise."""
    if size > 4 * combined.size + 1024:
        return None
    present = np.zeros(size, dtype=bool)
    present[combined] = True
    remap = np.cumsum(present) - 1
    return remap[combined], int(remap[-1] + 1) if size else 0


def group_codes(
    data: pd.DataFrame, sample: np.ndarray, keys: tuple[str, ...]
) -> tuple[np.ndarray, int]:
    """Codes of the distinct combinations of ``keys`` (outer first) on the sample rows."""
    n = int(sample.sum())
    if not keys:
        return np.zeros(n, dtype=np.int64), 1
    combined = np.zeros(n, dtype=np.int64)
    size = 1
    for name in keys:
        codes, uniques = factorize_sorted(data[name][sample])
        k = len(uniques)
        combined = combined * k + codes
        size *= k
        if size > 2**40:  # keep the mixed-radix number small
            uniq, combined = np.unique(combined, return_inverse=True)
            size = uniq.size
    dense = _dense_inverse(combined, size)
    if dense is not None:
        return dense
    uniq, inv = np.unique(combined, return_inverse=True)
    return inv.astype(np.int64).reshape(-1), int(uniq.size)
