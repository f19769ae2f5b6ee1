"""Preparing a Dask DataFrame for a fit (client side).

1. The model is checked against the frame's metadata before anything is computed:
   unknown variables, a string outcome, bad factor variables give the in-memory errors
   (the in-memory design builder runs on Dask's non-empty metadata frame).
2. ``in`` is refused (row numbers are not defined across partitions), and so are the
   models that do not decompose by top-level group.
3. The frame is shuffled once on the top-level identifier (so that every top-level
   group lies in one partition) and persisted on the workers.
4. Pass 1 (one pass): per partition, the estimation sample and one sample row per
   distinct combination of the factor variables; the client pools them into the
   *prototype* rows that give every partition the global factor levels
   (:mod:`.partdesign`) and builds the template of X's columns from them.
5. The partition designs are built once and persisted on the workers: each later pass
   (moments, cross-products, likelihood evaluations, predictions) reuses them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..design import build_design
from ..design.hierarchy import plan_levels
from ..design.variables import ALL
from ..errors import DataError, OptionError
from ..spec import ModelSpec
from .partdesign import empty_sample, partition_design, pass_one


def is_dask_frame(obj: Any) -> bool:
    """A dask DataFrame, recognised without importing dask."""
    mod = type(obj).__module__ or ""
    return mod.startswith("dask") and hasattr(obj, "to_delayed") and hasattr(obj, "columns")


def factor_variables(spec: ModelSpec) -> list[str]:
    out: list[str] = []
    for term in spec.fixed:
        for f in term.factors:
            if f.kind == "i" and f.name not in out:
                out.append(f.name)
    return out


def top_level(spec: ModelSpec, command: str) -> str:
    """The top-level identifier; refuse the models that do not decompose by it."""
    if not spec.equations:
        raise OptionError(f"{command} on a Dask DataFrame needs at least one random-effects "
                          "equation: the data are partitioned by the top-level group")
    for eq in spec.equations:
        if eq.level == ALL or not eq.nested:
            raise OptionError(
                f"crossed random effects ({eq.level}: ...) are not supported on a Dask "
                "DataFrame: their likelihood does not decompose by top-level group (fit "
                "them in memory)")
        if eq.rfactor is not None:
            raise OptionError(f"R.{eq.rfactor} random effects are not supported on a Dask "
                              "DataFrame (fit them in memory)")
    return plan_levels(spec.equations)[0].keys[0]


def check_metadata(spec: ModelSpec, ddf) -> object:
    """The in-memory design checks on Dask's metadata (no data computed); returns that
    design (its terms and columns describe the model's structure)."""
    if spec.in_range is not None:
        raise OptionError("in range not allowed with a Dask DataFrame: observation numbers "
                          "are not defined across partitions; use an if condition")
    if spec.if_text and any(w in spec.if_text for w in ("_n", "_N")):
        raise OptionError("_n and _N not allowed in if with a Dask DataFrame: observation "
                          "numbers are not defined across partitions")
    meta = ddf._meta_nonempty
    try:
        return build_design(spec, meta, collinearity=False)
    except DataError as exc:
        if empty_sample(exc):
            return None
        raise


@dataclass
class Prepared:
    spec: ModelSpec
    ddf: Any  # the shuffled, persisted frame
    designs: list  # persisted delayed PartDesign, one per partition
    proto: pd.DataFrame
    n: int
    n_dropped: int
    columns: list  # template FixedColumn list (before collinearity)
    meta_design: Any
    template: Any  # the in-memory design of the prototype rows (structure of the model)
    info: dict = field(default_factory=dict)


def prepare(spec: ModelSpec, ddf, command: str, *, partitioned: bool = False) -> Prepared:
    import dask
    from dask import delayed

    meta_design = check_metadata(spec, ddf)
    top = top_level(spec, command)
    used = [c for c in ddf.columns]
    if not partitioned:
        ddf = ddf.shuffle(on=top)
    ddf = ddf.persist()
    parts = ddf.to_delayed()
    fvars = factor_variables(spec)
    firsts = dask.compute(*[delayed(pass_one)(spec, p, fvars) for p in parts])
    n = sum(f["n"] for f in firsts)
    dropped = sum(f["dropped"] for f in firsts)
    if n == 0:
        msg = next((f["error"] for f in firsts if f["error"]), "no observations")
        raise DataError(msg)
    protos = [f["proto"] for f in firsts if len(f["proto"])]
    proto = pd.concat(protos)
    proto = proto.drop_duplicates(subset=fvars) if fvars else proto.iloc[:1]
    proto = proto.reset_index(drop=True)[used]
    template = build_design(spec, proto, collinearity=False)
    designs = [delayed(partition_design)(spec, p, proto) for p in parts]
    designs = list(dask.persist(*designs))
    return Prepared(spec, ddf, designs, proto, n, dropped, template.columns, meta_design,
                    template)


def check_columns(prep: Prepared, part_columns: list[list]) -> None:
    """Every partition must have coded X like the template (same names and statuses)."""
    want = [(c.name, c.status) for c in prep.columns]
    for cols in part_columns:
        if cols and [(c.name, c.status) for c in cols] != want:
            raise OptionError(
                "the factor-variable coding differs between partitions (a base level "
                "chosen by frequency, ib(freq).?): not supported on a Dask DataFrame; "
                "specify the base level explicitly, e.g. ib2.var")


def ok_mask(columns: list) -> np.ndarray:
    return np.array([c.status == "ok" for c in columns], bool)
