"""The design of one partition, built on the worker that holds it.

Every partition holds whole top-level groups (the frame was shuffled on the top-level
identifier), so the in-memory design builder (:func:`memodels.design.build_design`) is run
on the partition itself, with two changes that make the partitions agree with one another:

* the *prototype rows* -- one in-sample row per distinct combination of the factor
  variables found in the whole sample (pass 1) -- are put in front of the partition's
  rows, so that every partition codes the factor variables with the global levels and
  base levels and produces the same columns of X; they are removed again afterwards;
* the sample-wide decisions (collinearity, the location check) are skipped
  (``collinearity=False``): the client takes them once from the cross-products of the
  whole sample (:mod:`.columns`).

No function here imports dask: these run inside the Dask tasks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..design import build_design
from ..design.hierarchy import group_codes, plan_levels
from ..errors import DataError
from ..spec import ModelSpec


@dataclass
class PartDesign:
    """The estimation-sample rows of one partition, in data order.

    ``X`` has every candidate column of the global template (before collinearity);
    per random-effects equation: ``groups`` (local codes, sorted as in memory), ``keys``
    (the level-variable values of each local group: a DataFrame, one row per group) and
    ``Z``."""

    y: np.ndarray
    X: np.ndarray
    columns: list  # FixedColumn list of the template (status before collinearity)
    groups: list[np.ndarray]
    n_groups: list[int]
    keys: list[pd.DataFrame]
    Z: list[np.ndarray]
    index: pd.Index
    sample: np.ndarray  # over the partition's rows
    n_dropped: int
    extra: dict | None = None  # option variables (offset, exposure, ...), sample rows

    @property
    def n(self) -> int:
        return int(self.y.size)


def empty_sample(exc: DataError) -> bool:
    """Is this the in-memory "no observations" error (an empty partition)?"""
    return str(exc).startswith("no observations")


def partition_design(spec: ModelSpec, pdf: pd.DataFrame, proto: pd.DataFrame) -> PartDesign:
    """The design of ``pdf``'s rows, coded like the whole sample (module docstring)."""
    k = len(proto)
    data = pd.concat([proto, pdf]) if k else pdf
    try:
        d = build_design(spec, data, collinearity=False)
    except DataError as exc:
        if not empty_sample(exc):
            raise
        return _empty(spec, pdf, proto)
    if not bool(np.all(d.sample[:k])):  # cannot happen: prototype rows are sample rows
        raise DataError("internal error: a prototype row left the estimation sample")
    sample = np.asarray(d.sample[k:], bool)
    plans = plan_levels(spec.equations)
    groups, n_groups, keys, zs = [], [], [], []
    for term, plan in zip(d.terms, plans, strict=True):
        codes, ng = group_codes(pdf, sample, plan.keys)
        groups.append(codes)
        n_groups.append(ng)
        cols = list(plan.keys)
        if cols:
            kf = pdf.loc[sample, cols].drop_duplicates()
            kf = kf.sort_values(cols, kind="stable").reset_index(drop=True)
        else:
            kf = pd.DataFrame(index=range(1 if sample.any() else 0))
        keys.append(kf)
        n_s = int(sample.sum())
        z = np.asarray(term.Z, float)[k:] if term.Z is not None else np.zeros((n_s, 0))
        zs.append(z)
    return PartDesign(
        y=np.asarray(d.y, float)[k:], X=np.asarray(d.X, float)[k:], columns=d.columns,
        groups=groups, n_groups=n_groups, keys=keys, Z=zs, index=pdf.index[sample],
        sample=sample, n_dropped=int(d.n_dropped),
        extra={name: np.asarray(v)[k:] for name, v in d.extra.items()})


def _empty(spec: ModelSpec, pdf: pd.DataFrame, proto: pd.DataFrame) -> PartDesign:
    plans = plan_levels(spec.equations)
    if len(proto):  # the template's columns, so that the shapes agree
        d = build_design(spec, proto, collinearity=False)
        p, cols, qs = d.X.shape[1], d.columns, [
            0 if t.Z is None else t.Z.shape[1] for t in d.terms]
    else:
        p, cols, qs = 0, [], [0] * len(plans)
    return PartDesign(
        y=np.zeros(0), X=np.zeros((0, p)), columns=cols,
        groups=[np.zeros(0, np.int64) for _ in plans], n_groups=[0] * len(plans),
        keys=[pd.DataFrame(columns=list(pl.keys)) for pl in plans],
        Z=[np.zeros((0, q)) for q in qs], index=pdf.index[:0],
        sample=np.zeros(len(pdf), bool), n_dropped=_dropped(spec, pdf))


def _dropped(spec: ModelSpec, pdf: pd.DataFrame) -> int:
    """Observations of an all-dropped partition that listwise deletion removed (those
    that passed ``if``)."""
    if not len(pdf):
        return 0
    from ..design.evaluate import if_mask

    if spec.if_expr is None:
        return len(pdf)
    return int(np.asarray(if_mask(spec.if_expr, pdf)).sum())


def pass_one(spec: ModelSpec, pdf: pd.DataFrame, factor_vars: list[str]) -> dict:
    """Pass 1 on a partition: its sample size, dropped count and prototype candidates
    (one sample row per distinct combination of the factor variables)."""
    try:
        d = build_design(spec, pdf, collinearity=False)
    except DataError as exc:
        if not empty_sample(exc):
            raise
        return {"n": 0, "dropped": _dropped(spec, pdf), "proto": pdf.iloc[:0],
                "error": str(exc)}
    rows = pdf.loc[np.asarray(d.sample, bool)]
    proto = rows.drop_duplicates(subset=factor_vars) if factor_vars else rows.iloc[:1]
    return {"n": int(d.y.size), "dropped": int(d.n_dropped), "proto": proto, "error": None}
