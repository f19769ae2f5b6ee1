"""Perfect predictors of a binary outcome, as Stata's logit and probit find them
([ME] melogit, meprobit, mecloglog, meglm, Options: ``asis``; [R] logit and [R] probit,
Model identification).

Without ``asis`` each fixed-effects covariate is examined in coefficient order, on the
observations still in the sample:

* a covariate with two distinct values a < b whose observations at one value all have
  the same outcome: ``note: x != a predicts success perfectly`` (or failure); the
  covariate is dropped (shown as omitted) and those observations are not used;
* a covariate with more values that separates the outcomes completely (all successes
  above c, all failures at or below c, or the reverse): ``outcome = x > c predicts data
  perfectly``, an error (r(2000)), as there is no finite estimate;
* the same separation except for observations at x == c (quasi-complete):
  ``note: outcome = x > c predicts data perfectly except for x == c subsample: x dropped
  and N obs not used``.

The scan repeats until nothing more is found; if the outcome then no longer varies the
fit stops with "outcome does not vary" (r(2000)).  ``asis`` keeps every covariate and
observation (the coefficient of a perfect predictor then diverges).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..design import build_design
from ..design.types import Design
from ..errors import DataError
from .me_checks import BINARY_REMINDER


@dataclass
class PerfectPrediction:
    """What the scan found: observations (design rows) to leave out, covariates to
    drop (e(b) names) and Stata's notes."""

    drop_rows: np.ndarray
    columns: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return bool(self.columns)


def _fmt(v: float) -> str:
    return f"{v:.8g}"


def _obs(n: int) -> str:
    return f"{n} obs"


def _two_valued(name: str, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, str] | None:
    """Rows perfectly predicted by a two-valued covariate, and the note."""
    lo, hi = np.unique(x)
    for at, other in ((hi, lo), (lo, hi)):
        rows = x == at
        ys = y[rows]
        if np.all(ys == ys[0]):
            what = "success" if ys[0] == 1 else "failure"
            return rows, (f"note: {name} != {_fmt(other)} predicts {what} perfectly; "
                          f"{name} dropped and {_obs(int(rows.sum()))} not used")
    return None


def _continuous(name: str, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, str] | None:
    """Complete separation (an error) or quasi-complete separation at one value."""
    x1, x0 = x[y == 1], x[y == 0]
    for sign, ones, zeros in ((">", x1, x0), ("<", -x1, -x0)):
        c = float(zeros.max())
        m = float(ones.min())
        value = c if sign == ">" else -c
        if m > c:
            raise DataError(f"outcome = {name} {sign} {_fmt(value)} predicts data perfectly "
                            "(r(2000))")
        if m == c:  # all successes above c, all failures below: only x == c is informative
            rows = x != value
            return rows, (f"note: outcome = {name} {sign} {_fmt(value)} predicts data "
                          f"perfectly except for {name} == {_fmt(value)} subsample: "
                          f"{name} dropped and {_obs(int(rows.sum()))} not used")
    return None


def find_perfect_predictors(design: Design, y: np.ndarray) -> PerfectPrediction:
    """Scan the kept covariates of ``design`` (``y`` the 0/1 outcome of its rows)."""
    weights = design.weights if design.weight_kind == "fweight" else None
    n = y.shape[0]
    used = np.ones(n, dtype=bool)
    X = np.asarray(design.X, dtype=float)
    names = design.kept_names
    dropped: list[str] = []
    notes: list[str] = []
    changed = True
    while changed:
        changed = False
        for j, name in enumerate(names):
            if name == "_cons" or name in dropped:
                continue
            x, ys = X[used, j], y[used]
            if np.all(ys == ys[0]):
                break
            values = np.unique(x)
            if values.size < 2:
                continue
            hit = _two_valued(name, x, ys) if values.size == 2 else _continuous(name, x, ys)
            if hit is None:
                continue
            rows, note = hit
            idx = np.flatnonzero(used)[rows]
            if weights is not None:  # frequency weights: the observations they stand for
                note = note.replace(f"and {int(rows.sum())} obs",
                                    f"and {int(round(float(weights[idx].sum())))} obs")
            used[idx] = False
            dropped.append(name)
            notes.append(note)
            changed = True
    if dropped and (not used.any() or np.all(y[used] == y[used][0])):
        raise DataError(f"{notes[-1][len('note: '):]}; then outcome {design.depvar} does "
                        f"not vary; {BINARY_REMINDER} (r(2000))")
    return PerfectPrediction(drop_rows=~used, columns=dropped, notes=notes)


def omit_columns(design: Design, names: list[str]) -> Design:
    """``design`` with the kept columns ``names`` marked omitted and removed from X."""
    cols = [dataclasses.replace(c) for c in design.columns]
    keep, pos = [], 0
    for c in cols:
        if c.status != "ok":
            continue
        if c.name in names:
            c.status = "omitted"
        else:
            keep.append(pos)
        pos += 1
    X = np.asarray(design.X)[:, keep]
    return dataclasses.replace(design, X=X, columns=cols)


def _restore_vanished(original: Design, rebuilt: Design, names: list[str]) -> Design:
    """A dropped factor level absent from the remaining sample (``3.cat`` when every
    observation with cat == 3 was perfectly predicted) is still a column of e(b), shown as
    omitted, at its original place."""
    have = {c.name for c in rebuilt.columns}
    missing = [c for c in original.columns if c.name in names and c.name not in have]
    if not missing:
        return rebuilt
    cols = list(rebuilt.columns)
    order = [c.name for c in original.columns]
    for col in missing:
        before = order[: order.index(col.name)]
        pos = 0
        for k, c in enumerate(cols):
            if c.name in before:
                pos = k + 1
        cols.insert(pos, dataclasses.replace(col, status="omitted"))
    return dataclasses.replace(rebuilt, columns=cols)


def drop_perfect_predictors(model: Any, data: pd.DataFrame, design: Design) -> Design:
    """The design after Stata's perfect-prediction rules (module docstring): rebuilt on the
    remaining observations (factor levels and collinearity as Stata's estimation sample
    then has them), the dropped covariates shown as omitted, with Stata's notes.  The
    caller's DataFrame is not modified."""
    y = np.asarray(design.y, dtype=float)
    if not np.all(np.isfinite(y)) or y.size < 2:
        return design  # the family's and the outcome checks report these
    y = (y != 0).astype(float)
    if np.all(y == y[0]):
        return design
    found = find_perfect_predictors(design, y)
    if not found.found:
        return design
    outcome = pd.to_numeric(data[design.depvar], errors="coerce").to_numpy(dtype=float,
                                                                         copy=True)
    outcome[np.flatnonzero(design.sample)[found.drop_rows]] = np.nan
    rebuilt = build_design(model, data.assign(**{design.depvar: outcome}))
    n_perfect = int(found.drop_rows.sum())
    present = {c.name for c in rebuilt.columns if c.status == "ok"}
    rebuilt = omit_columns(rebuilt, [c for c in found.columns if c in present])
    rebuilt = _restore_vanished(design, rebuilt, found.columns)
    dropped = set(found.columns)
    notes = [nt for nt in rebuilt.notes
             if not any(nt.startswith(f"note: {c} omitted") for c in dropped)]
    return dataclasses.replace(rebuilt, n_dropped=rebuilt.n_dropped - n_perfect,
                               notes=found.notes + notes)


__all__ = ["PerfectPrediction", "find_perfect_predictors", "drop_perfect_predictors",
           "omit_columns"]
