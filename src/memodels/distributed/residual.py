"""``mixed ..., residuals()`` on Dask ([ME] mixed, Methods and formulas: "the data are
first transformed according to y*_j = Lambda_j^{-1/2} y_j, X*_j, Z*_j ... and the
likelihood-evaluation techniques described above are applied to y*_j, X*_j and Z*_j").

The residual panels are the lowest-level groups, which lie within one partition, so each
partition transforms its own panels with the in-memory
:meth:`~memodels.covariance.residual.ResidualStructure.transform` and returns the
cross-products of the transformed data (:func:`.lmm_stats.partition_stats`) and its
part of sum_j log|R_j|.  That is one pass per value of the residual parameters the
in-memory optimizer (:func:`memodels.lmm.fit_residual.fit_lmm_residual`) asks for.

What depends on the whole sample -- the distinct t() values (the parameters of
unstructured and banded structures, the default order of toeplitz and banded) and the
by() levels -- is found in one pass first and given to every partition.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..covariance.residual import ResidualStructure
from .partdesign import PartDesign


@dataclass
class ResidualInfo:
    """The sample-wide facts of a residuals() option."""

    kind: str
    order: int | None  # as the in-memory structure resolves it on the whole sample
    t: str | None
    by: str | None
    t_levels: np.ndarray
    by_values: np.ndarray  # sorted distinct by() values
    by_labels: tuple


def part_levels(d: PartDesign, t: str | None, by: str | None) -> tuple:
    """Worker: the distinct t() and by() values of the partition's sample."""
    ex = d.extra or {}
    tv = np.unique(np.asarray(ex[t], float)) if t and d.n else np.zeros(0)
    bv = np.unique(np.asarray(ex[by])) if by and d.n else np.zeros(0)
    return tv, bv


def by_labels(uniq: np.ndarray) -> tuple:
    """The labels of the by() levels, as the in-memory ``mixed`` makes them."""
    return tuple(str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)
                 for v in uniq)


def global_structure(info: ResidualInfo) -> ResidualStructure:
    """A structure with the sample's t() levels and by() labels and no rows of its own
    (one synthetic panel holding every t level): what the results and their display read."""
    if info.t:
        m = info.t_levels.size
        return ResidualStructure(info.kind, info.order, np.zeros(m, np.int64),
                                 t=info.t_levels.astype(float), by_labels=info.by_labels)
    if info.by:
        b = info.by_values.size
        return ResidualStructure(info.kind, info.order, np.zeros(b, np.int64),
                                 by=np.arange(b), by_labels=info.by_labels)
    return ResidualStructure(info.kind, info.order, np.zeros(1, np.int64))


def part_structure(d: PartDesign, info: ResidualInfo, panel_term: int) -> ResidualStructure:
    """The partition's structure over its own panels, with the sample-wide t levels,
    order and by() codes."""
    ex = d.extra or {}
    t = np.asarray(ex[info.t], float) if info.t else None
    by = None
    if info.by:
        by = np.searchsorted(info.by_values, np.asarray(ex[info.by]))
    rs = ResidualStructure(info.kind, info.order, np.asarray(d.groups[panel_term]), t=t,
                           by=by, by_labels=info.by_labels)
    rs.order = info.order
    if t is not None:
        rs.t_levels = info.t_levels
        rs.t_index = np.searchsorted(info.t_levels, rs.t_sorted)
    return rs


def transformed_design(d: PartDesign, keep: np.ndarray, info: ResidualInfo,
                       panel_term: int, sources: list[int], rho: np.ndarray):
    """Worker: the partition's design after C_j^{-1} (y*, X*, Z*), and sum_j log|R_j|."""
    if d.n == 0:
        return d, 0.0
    rs = part_structure(d, info, panel_term)
    X = d.X[:, keep]
    zs = [d.Z[i] for i in sources]
    out, logdet = rs.transform(np.asarray(rho, float), [d.y[:, None], X, *zs])
    new_z = list(d.Z)
    for i, z in zip(sources, out[2:], strict=True):
        new_z[i] = z
    full = np.zeros((d.n, keep.size))
    full[:, keep] = out[1]
    return replace(d, y=out[0][:, 0], X=full, Z=new_z), logdet


def resid_stats(d: PartDesign, keep: np.ndarray, info: ResidualInfo, panel_term: int,
                sources: list[int], rho: np.ndarray) -> tuple[dict, float]:
    """Worker: the cross-products of the transformed partition (y* not centred: the
    client centres them on the OLS fit of the transformed data) and its log|R_j| sum."""
    from .lmm_stats import partition_stats

    td, logdet = transformed_design(d, keep, info, panel_term, sources, rho)
    return partition_stats(td, keep, np.zeros(int(keep.sum())), sources), logdet
