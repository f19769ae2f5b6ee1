"""Coding one factor variable (``i.var``) on the estimation sample.

[U] 11.4.3 Factor variables: ``i.group`` makes one indicator per level of ``group``
present in the estimation sample, in ascending order of the level values; one level is
the *base* ([U] 11.4.3.2 Base levels): ``ib(first).`` (the default, smallest value),
``ib(last).`` (largest), ``ib(freq).`` (most frequent; ties go to the smallest value),
``ib#.`` (the level ``#``) and ``ibn.`` (no base).  ``i(2 3).x`` restricts the
indicators to the listed levels ([U] 11.4.3.4 Selecting levels).

Stata requires nonnegative integer levels; a noninteger value is refused as Stata
refuses it (r(452) "factor variables may not contain noninteger values"), while
negative integers are accepted (named ``-1.x``), and so are string and Categorical
columns, which Stata would need ``encode``d first:

* a numeric variable with a Stata value label (``df.attrs["value_labels"]``, as
  ``read_data`` makes of a ``.dta`` file) keeps its codes as level values; the labels
  are applied at display (``Design.value_labels``, ``nofvlabel``);
* a Categorical uses its category order; level
  ``j`` (1-based position among the categories) is named ``j`` and labelled with the
  category text, as ``encode`` would code it;
* a string column is coded 1..k in sorted order of its distinct nonmissing values over
  the whole column (what ``encode`` gives), labelled with the strings.

A Categorical's levels are named by their positions (1..k), as ``encode`` would code them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataError
from ..spec import FactorVar, LevelBase
from .variables import (
    empty_strings,
    format_level,
    is_categorical,
    is_string,
    python_value,
)


@dataclass
class FactorCoding:
    """A factor's levels in the sample.

    ``codes`` gives each sample observation's index into ``values`` (-1 when its level
    was excluded by ``i(numlist).``); ``values`` are the level identifiers used in
    coefficient names, ``labels`` the printed row labels, ``counts`` observations per
    level and ``base`` the index of the base level in ``values`` (None: no base).
    """

    name: str
    codes: np.ndarray
    values: tuple
    labels: tuple[str, ...]
    counts: np.ndarray
    base: int | None

    @property
    def k(self) -> int:
        return len(self.values)

    def value_name(self, j: int) -> str:
        return format_level(self.values[j])


def _levels(series: pd.Series, sample: np.ndarray) -> tuple[np.ndarray, list, list[str]]:
    """Per-sample-observation codes into the sample's levels, level ids and labels."""
    sub = series[sample]
    if is_categorical(series):
        cats = series.cat.categories
        cat_codes = sub.cat.codes.to_numpy().astype(np.int64)
        present = np.unique(cat_codes[cat_codes >= 0])
        remap = np.full(len(cats), -1, dtype=np.int64)
        remap[present] = np.arange(present.size)
        codes = remap[cat_codes]
        if pd.api.types.is_numeric_dtype(cats.dtype):
            _require_integers(series.name, np.asarray(cats[present], dtype=float))
            values = [python_value(cats[i]) for i in present]
            labels = [format_level(v) for v in values]
        else:
            values = [int(i) + 1 for i in present]
            labels = [str(cats[i]) for i in present]
        return codes, values, labels
    if is_string(series):
        full = series.astype(object).to_numpy()
        na = np.array(pd.isna(full), dtype=bool)
        ok = ~(na | empty_strings(series, na))
        all_levels = np.unique(full[ok].astype(str))
        sub_vals = sub.astype(object).to_numpy().astype(str)
        pos = np.searchsorted(all_levels, sub_vals)
        present, codes = np.unique(pos, return_inverse=True)
        values = [int(p) + 1 for p in present]
        labels = [str(all_levels[p]) for p in present]
        return codes.astype(np.int64), values, labels
    arr = sub.to_numpy(dtype=float, na_value=np.nan)
    _require_integers(series.name, arr)
    uniq, codes = np.unique(arr, return_inverse=True)
    values = [python_value(v) for v in uniq]
    return codes.astype(np.int64), values, [format_level(v) for v in values]


def _require_integers(name: object, values: np.ndarray) -> None:
    """[U] 11.4.3 Factor variables: "factor variables may not contain noninteger values"
    (Stata's r(452)); a continuous covariate given as ``i.x`` would otherwise make one
    indicator per distinct value."""
    finite = values[np.isfinite(values)]
    bad = finite[finite != np.round(finite)]
    if bad.size:
        err = DataError(f"factor variables may not contain noninteger values: i.{name} "
                        f"has the value {format_level(bad[0])} (use c.{name} for a "
                        "continuous variable)")
        err.rc = 452  # type: ignore[attr-defined]
        raise err
    if np.isinf(values).any():
        err = DataError(f"factor variable i.{name} has infinite values")
        err.rc = 452  # type: ignore[attr-defined]
        raise err


def _base_index(
    fv: FactorVar, values: list, counts: np.ndarray, labels: list[str] | None = None
) -> int | None:
    base = fv.base
    if isinstance(base, LevelBase):  # lme4 formula: C(f, Treatment(reference=...))
        want = base.value
        for j, v in enumerate(values):
            if isinstance(want, (int, float)) and isinstance(v, (int, float)) and float(
                    v) == float(want):
                return j
        for j, lab in enumerate(labels or []):
            if lab == str(want):
                return j
        raise DataError(f"C({fv.name}, Treatment(reference={want!r})): level {want!r} of "
                        f"'{fv.name}' not found in the estimation sample")
    if base == "none" or not values:
        return None
    if base == "first":
        return 0
    if base == "last":
        return len(values) - 1
    if base == "freq":
        return int(np.argmax(counts))  # first maximum = smallest value among ties
    for j, v in enumerate(values):
        if isinstance(v, (int, float)) and float(v) == float(base):
            return j
    raise DataError(
        f"ib{format_level(base)}.{fv.name}: level {format_level(base)} of '{fv.name}' "
        "not found in the estimation sample"
    )


def code_factor(series: pd.Series, sample: np.ndarray, fv: FactorVar) -> FactorCoding:
    """Code ``fv`` (an ``i.`` variable) on the sample rows of ``series``."""
    codes, values, labels = _levels(series, sample)
    counts = np.bincount(codes, minlength=len(values)) if codes.size else np.zeros(0, int)
    base = _base_index(fv, values, counts, labels)
    if fv.levels is not None:
        wanted = {float(x) for x in fv.levels}
        keep = [j for j, v in enumerate(values) if float(v) in wanted]
        missing = wanted - {float(values[j]) for j in keep}
        if missing:
            lev = format_level(min(missing))
            raise DataError(f"level {lev} of factor variable '{fv.name}' not found in sample")
        remap = np.full(len(values), -1, dtype=np.int64)
        remap[keep] = np.arange(len(keep))
        codes = remap[codes]
        base = int(remap[base]) if base is not None and remap[base] >= 0 else None
        values = [values[j] for j in keep]
        labels = [labels[j] for j in keep]
        counts = counts[keep]
    return FactorCoding(
        name=fv.name,
        codes=codes,
        values=tuple(values),
        labels=tuple(labels),
        counts=np.asarray(counts),
        base=base,
    )
