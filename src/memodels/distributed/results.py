"""Results of a fit on Dask, and ``predict`` on the workers.

The result is the in-memory results object (same rows, VCE, ``test``, ``lincom``,
``nlcom``, ``estat ic``...); its design's row arrays are :class:`.remote.RemoteRows`.
``res.extra["dask_frame"]`` is the shuffled, persisted frame the fit used, and
``predict`` returns a Dask series with that frame's partitions and index (NaN outside
the estimation sample), computed partition by partition with the in-memory ``predict``:
the best linear unbiased predictions of a group depend only on its own rows and the
estimates, and every top-level group lies in one partition.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from ..design.types import Design
from ..errors import OptionError
from ..lmm.terms import engine_terms
from .frame import Prepared
from .partdesign import PartDesign


def attach(res, prep: Prepared, *, keep: np.ndarray, b0: np.ndarray):
    """Keep what predict needs on the result (the dask objects stay in ``extra``)."""
    res.extra["dask_frame"] = prep.ddf
    res.extra["dask_designs"] = prep.designs
    res.extra["dask_keep"] = keep
    res.extra["dask_predict"] = predict_dask
    res.notes = list(res.notes)
    return res


def _shipped(res):
    """A light copy of the result for the workers: no dask objects, no client-side
    likelihood object (its statistics can be large)."""
    light = copy.copy(res)
    light.extra = {k: v for k, v in res.extra.items() if not k.startswith("dask_")}
    light.fit = replace(res.fit, model=None, evaluation=None)
    return light


def part_predict(pdf: pd.DataFrame, d: PartDesign, res, keep: np.ndarray, stat: str,
                 relevel: str | None, options: dict[str, Any]) -> pd.Series:
    """Worker: the in-memory predict on one partition's design."""
    from ..postestimation.predict import predict

    name = stat
    if d.n == 0:
        return pd.Series(np.nan, index=pdf.index, name=name, dtype=float)
    g = res.design
    terms = [replace(t, groups=d.groups[i], n_groups=d.n_groups[i], Z=d.Z[i])
             for i, t in enumerate(g.terms)]
    design = Design(depvar=g.depvar, y=d.y, X=np.ascontiguousarray(d.X[:, keep]),
                    columns=g.columns, terms=terms, levels=[], index=d.index,
                    sample=d.sample, n_dropped=d.n_dropped, notes=[], extra={},
                    value_labels={})
    part = copy.copy(res)
    part.design = design
    part.fit = replace(res.fit, terms=engine_terms(terms))
    out = predict(part, stat, relevel=relevel, **options)
    return pd.Series(out.reindex(pdf.index).to_numpy(float), index=pdf.index,
                     name=out.name)


def predict_dask(res, statistic: str | None = None, *, data=None, relevel: str | None = None,
                 **options: Any):
    """``predict`` after a fit on Dask: a Dask series aligned with
    ``res.extra["dask_frame"]``."""
    import dask.dataframe as dd
    from dask import delayed

    if data is not None:
        raise OptionError("predict after a fit on a Dask DataFrame: data= not supported; the "
                          "predictions are for the fit's frame (res.extra['dask_frame'])")
    stat = str(statistic or "xb").lower().strip()
    ddf = res.extra["dask_frame"]
    light = _shipped(res)
    keep = res.extra["dask_keep"]
    parts = ddf.to_delayed()
    tasks = [delayed(part_predict)(p, d, light, keep, stat, relevel, options)
             for p, d in zip(parts, res.extra["dask_designs"], strict=True)]
    meta = pd.Series(dtype=float, name=stat)
    return dd.from_delayed(tasks, meta=meta, divisions=ddf.divisions, verify_meta=False)
