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
    if "dask_resid" in res.extra:
        light.extra["dask_resid"] = res.extra["dask_resid"]
    if "dask_parts" in res.extra:  # the me commands: the engine's objects stay behind
        drop = ("model", "adaptive", "eb_cache", "constrained")
        light.fit = replace(res.fit, extra={k: v for k, v in res.fit.extra.items()
                                            if k not in drop})
    else:
        light.fit = replace(res.fit, model=None, evaluation=None)
    return light


def _part_design(d: PartDesign, g: Design, keep: np.ndarray) -> Design:
    terms = [replace(t, groups=d.groups[i], n_groups=d.n_groups[i], Z=d.Z[i])
             for i, t in enumerate(g.terms)]
    return Design(depvar=g.depvar, y=d.y, X=np.ascontiguousarray(d.X[:, keep]),
                  columns=g.columns, terms=terms, levels=[], index=d.index,
                  sample=d.sample, n_dropped=d.n_dropped, notes=[], extra=d.extra or {},
                  value_labels={})


def _aligned(pdf: pd.DataFrame, d: PartDesign, out: pd.Series) -> pd.Series:
    """The partition's predictions (sample rows, in order) on all its rows, by position
    (the index labels of a Parquet dataset need not be unique)."""
    vals = np.full(len(pdf), np.nan)
    vals[np.asarray(d.sample, bool)] = np.asarray(out, float)
    return pd.Series(vals, index=pdf.index, name=out.name)


def part_predict(pdf: pd.DataFrame, d: PartDesign, res, keep: np.ndarray, stat: str,
                 relevel: str | None, options: dict[str, Any], resid=None) -> pd.Series:
    """Worker: the in-memory predict on one partition's design."""
    from ..postestimation.predict import predict

    name = stat
    if d.n == 0:
        return pd.Series(np.nan, index=pdf.index, name=name, dtype=float)
    design = _part_design(d, res.design, keep)
    part = copy.copy(res)
    part.design = design
    part.fit = replace(res.fit, terms=engine_terms(design.terms))
    if resid is not None:  # residuals(): the partition's own panels
        from .residual import part_structure

        part.fit.resid = part_structure(d, resid[0], resid[1])
    out = predict(part, stat, relevel=relevel, **options)
    if isinstance(out, pd.DataFrame):
        raise OptionError(f"predict, {stat} on Dask: statistics with several columns (one "
                          "per random effect) are not supported; a single effect works")
    return _aligned(pdf, d, out)


def part_predict_me(pdf: pd.DataFrame, d: PartDesign, pg, ad, res, keep: np.ndarray,
                    stat: str, relevel: str | None, options: dict[str, Any]) -> pd.Series:
    """Worker: the in-memory predict after an me command on one partition, with the
    partition's likelihood object and adaptive parameters in the fit's place (the
    empirical Bayes predictions of a group depend on its rows and the estimates only)."""
    from ..postestimation.predict import predict

    if d.n == 0:
        return pd.Series(np.nan, index=pdf.index, name=stat, dtype=float)
    part = copy.copy(res)
    part.design = _part_design(d, res.design, keep)
    params = res.fit.extra["params_theta"]
    extra = dict(res.fit.extra, model=pg.quad, adaptive=ad)
    # as memodels.glmm.fit.assemble keeps them
    if hasattr(pg.quad, "posterior"):
        extra["eb_means"], extra["eb_cov"] = pg.quad.posterior(params, ad)
        extra["eb_modes"], extra["eb_mode_cov"] = pg.quad.posterior_modes(params, ad)
    part.fit = replace(res.fit, extra=extra)
    part.extra = dict(res.extra)
    out = predict(part, stat, relevel=relevel, **options)
    if isinstance(out, pd.DataFrame):
        raise OptionError(f"predict, {stat} on Dask: one statistic at a time")
    return _aligned(pdf, d, out)


def predict_dask(res, statistic: str | None = None, *, data=None, relevel: str | None = None,
                 **options: Any):
    """``predict`` after a fit on Dask: a Dask series aligned with
    ``res.extra["dask_frame"]``."""
    import dask.dataframe as dd
    from dask import delayed

    if data is not None:
        raise OptionError("predict after a fit on a Dask DataFrame: data= not supported; the "
                          "predictions are for the fit's frame (res.extra['dask_frame'])")
    me = "dask_parts" in res.extra
    stat = str(statistic or ("mu" if me else "xb")).lower().strip()
    ddf = res.extra["dask_frame"]
    light = _shipped(res)
    keep = res.extra["dask_keep"]
    parts = ddf.to_delayed()
    designs = res.extra["dask_designs"]
    if me:
        ads = res.fit.extra["adaptive"]
        tasks = [delayed(part_predict_me)(p, d, pg, ad, light, keep, stat, relevel, options)
                 for p, d, pg, ad in zip(parts, designs, res.extra["dask_parts"], ads,
                                         strict=True)]
    else:
        resid = res.extra.get("dask_resid")
        tasks = [delayed(part_predict)(p, d, light, keep, stat, relevel, options, resid)
                 for p, d in zip(parts, designs, strict=True)]
    meta = pd.Series(dtype=float, name=stat)
    return dd.from_delayed(tasks, meta=meta, divisions=ddf.divisions, verify_meta=False)
