"""Stata's group table (``estat group``; the header of ``mixed``).

[ME] mixed, Remarks: "The information on groups is now displayed as a table, with one
row for each grouping"; the statistics "take the nesting into account" (technical note
after example 4).  One row per distinct level -- a run of repeated-level equations
counts once -- with the number of groups and the minimum, average (n / G) and maximum
number of observations per group.  ``_all`` is one group holding every observation.
"""

from __future__ import annotations

import numpy as np

from .hierarchy import LevelPlan
from .types import LevelInfo, RandomTerm


def level_table(
    plans: list[LevelPlan], terms: list[RandomTerm], freq: np.ndarray | None = None
) -> list[LevelInfo]:
    """One :class:`LevelInfo` per distinct level, in order of first appearance; with
    frequency weights ``freq`` the counts are sums of weights."""
    rows: list[LevelInfo] = []
    seen: set[int] = set()
    for plan, term in zip(plans, terms, strict=True):
        if plan.distinct in seen:
            continue
        seen.add(plan.distinct)
        counts = np.bincount(term.groups, weights=freq, minlength=term.n_groups)
        counts = np.rint(counts).astype(np.int64)
        n = int(counts.sum())
        rows.append(
            LevelInfo(
                level=term.level,
                path=term.path,
                n_groups=term.n_groups,
                min=int(counts.min()) if counts.size else 0,
                avg=n / term.n_groups if term.n_groups else 0.0,
                max=int(counts.max()) if counts.size else 0,
            )
        )
    return rows
