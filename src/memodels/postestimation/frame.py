"""The observations a prediction is made for: X, Z and group codes on a DataFrame.

By default predictions are for the estimation sample (indexed by ``design.index``).
With ``data=`` they are for every row of ``data`` (aligned with its index):

* the fixed-effects columns are re-evaluated from Stata's coefficient names
  (``week``, ``2.f``, ``1.sex#c.age``, ``c.age#c.age``, ``_cons``); a factor level is
  matched by its value (numeric variables) or its label (strings, Categoricals);
  a missing covariate gives a missing row (NaN), never an error;
* random-effects groups are matched to the estimation groups by their identifiers.
  As in Stata ([ME] mixed postestimation, technical note after example 3: "be sure
  that the data for these predictions are in observations that augment the
  estimation data"), the identifiers of the estimation groups are read from the rows
  of ``data`` that carry the estimation sample's index labels; groups not seen in
  estimation get code -1 (their random effects are unknown: NaN).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..design.derived import derive_again
from ..design.types import Design
from ..design.variables import ALL, is_categorical
from ..errors import DataError
from ..lmm.terms import EngineTerm, engine_terms
from .newdata import active_group_ids, check_factor_levels, map_groups


@dataclass
class Frame:
    index: pd.Index
    X: np.ndarray  # kept fixed-effect columns; NaN rows where a covariate is missing
    y: np.ndarray | None  # outcome (NaN where missing), None if not in data
    groups: list[np.ndarray]  # per engine term: estimation group code, -1 unknown
    Z: list[np.ndarray]  # per engine term: n x q covariates (NaN where missing)
    in_sample: bool
    offset: np.ndarray | None = None
    # new data (memodels.postestimation.newdata): groups not seen in estimation (code -1)
    # contribute random effects 0
    new_groups_zero: bool = False

    @property
    def n(self) -> int:
        return len(self.index)


def _numeric(series: pd.Series) -> np.ndarray:
    if is_categorical(series):
        cats = series.cat.categories
        if pd.api.types.is_numeric_dtype(cats.dtype):
            return series.astype(float).to_numpy()
        return np.where(series.cat.codes.to_numpy() >= 0, series.cat.codes.to_numpy() + 1.0,
                        np.nan)
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _column(data: pd.DataFrame, name: str) -> pd.Series:
    if name not in data.columns:
        raise DataError(f"variable {name} not found in the prediction data")
    return data[name]


def _factor_indicator(series: pd.Series, value: str, label: str) -> np.ndarray:
    """1 where the variable is at the level, 0 elsewhere, NaN where missing."""
    numeric_levels = pd.api.types.is_numeric_dtype(series.dtype) and not is_categorical(series)
    if is_categorical(series) and pd.api.types.is_numeric_dtype(series.cat.categories.dtype):
        numeric_levels = True
    if numeric_levels:
        vals = _numeric(series)
        try:
            target = float(value.rstrip("bno"))
        except ValueError:
            return np.where(np.isnan(vals), np.nan, 0.0)
        return np.where(np.isnan(vals), np.nan, (vals == target).astype(float))
    obj = series.astype(object).to_numpy()
    miss = pd.isna(obj) | (obj == "")
    hit = np.array([str(v) == label for v in obj], dtype=float)
    return np.where(miss, np.nan, hit)


def fixed_matrix(design: Design, data: pd.DataFrame) -> np.ndarray:
    """X of the kept coefficient columns evaluated on ``data`` (NaN rows where missing)."""
    derived = getattr(design, "derived", None)
    if derived:  # lme4 formula transforms, with the estimation data's states
        data = derive_again(derived, data)
    n = len(data)
    cols = []
    for col in design.columns:
        if col.status != "ok":
            continue
        if col.name == "_cons":
            cols.append(np.ones(n))
            continue
        parts = col.name.split("#")
        labels = (col.level_labels or "").split("#")
        factor_parts = [p for p in parts if "." in p and not p.startswith("c.")]
        lab_of = dict(zip(factor_parts, labels, strict=False)) if len(labels) == len(
            factor_parts) else {}
        val = np.ones(n)
        for part in parts:
            if part.startswith("c."):
                val = val * _numeric(_column(data, part[2:]))
            elif part in data.columns:  # a name with a dot: np.log(x), I(x * 0.5)
                val = val * _numeric(data[part])
            elif "." in part:
                level, var = part.rsplit(".", 1)
                val = val * _factor_indicator(_column(data, var), level, lab_of.get(part, level))
            else:
                val = val * _numeric(_column(data, part))
        cols.append(val)
    return np.column_stack(cols) if cols else np.zeros((n, 0))


def _term_keys(term) -> list[str]:
    if term.path == ALL or term.level == ALL:
        return []
    return term.path.split(">")


def _key_frame(data: pd.DataFrame, keys: list[str]) -> list[tuple]:
    if not keys:
        return [()] * len(data)
    arrs = [data[k].to_numpy(dtype=object) for k in keys]
    return list(zip(*arrs, strict=True))


def _is_missing(v) -> bool:
    try:
        return bool(pd.isna(v)) or v == ""
    except (TypeError, ValueError):
        return False


def engine_frame(design: Design, data: pd.DataFrame | None):
    """Engine terms of the design and, for ``data``, each row's engine group and Z."""
    eterms = engine_terms(design.terms)
    if data is None:
        return eterms, [et.groups for et in eterms], [et.Z for et in eterms]
    if active_group_ids() is not None:
        return eterms, *_new_data_groups(design, data, eterms)
    missing = design.index.difference(data.index)
    n = len(data)
    groups_out, z_out = [], []
    for et in eterms:
        term = design.terms[et.source]
        keys = _term_keys(term)
        for k in keys:
            _column(data, k)
        # estimation observations' identifiers -> engine group codes
        mapping: dict[tuple, int] = {}
        if keys and len(missing):
            raise DataError(
                "predictions involving random effects need the estimation data: pass a "
                "DataFrame that contains (augments) the estimation sample's rows"
            )
        est_keys = _key_frame(data.loc[design.index], keys) if keys else [()] * design.y.size
        rvals_est = None
        if term.rfactor is not None:
            lev = np.asarray(term.rfactor_levels, dtype=object)
            rvals_est = lev[np.asarray(term.rfactor_codes)]
        identity_r = term.rfactor is not None and term.covariance == "identity"
        for i, key in enumerate(est_keys):
            full = key + ((rvals_est[i],) if identity_r else ())
            mapping.setdefault(tuple(_py(v) for v in full), int(et.groups[i]))
        new_keys = _key_frame(data, keys)
        rnew = None
        if term.rfactor is not None:
            rnew = _column(data, term.rfactor).to_numpy(dtype=object)
        g = np.full(n, -1, dtype=np.int64)
        for i, key in enumerate(new_keys):
            if any(_is_missing(v) for v in key):
                continue
            full = key
            if identity_r:
                if _is_missing(rnew[i]):
                    continue
                full = key + (_py(rnew[i]),)
            g[i] = mapping.get(tuple(_py(v) for v in full), -1)
        groups_out.append(g)
        z_out.append(term_covariates(term, data))
    return eterms, groups_out, z_out


def _new_data_groups(design: Design, data: pd.DataFrame, eterms):
    """Groups and Z of each engine term on new data, matched through the estimation
    groups' identifiers (:mod:`memodels.postestimation.newdata`)."""
    groups_out, z_out = [], []
    for k, et in enumerate(eterms):
        term = design.terms[et.source]
        keys = _term_keys(term)
        for key in keys:
            _column(data, key)
        identity_r = term.rfactor is not None and term.covariance == "identity"
        if not keys and not identity_r:
            g = np.zeros(len(data), dtype=np.int64)  # _all: one group
        else:
            rows = _key_frame(data, keys)
            if identity_r:  # the engine's groups are the level x R.var cells
                rnew = _column(data, term.rfactor).to_numpy(dtype=object)
                rows = [key + (rnew[i],) for i, key in enumerate(rows)]
            g = map_groups(k, rows)
        groups_out.append(g)
        z_out.append(term_covariates(term, data))
    return groups_out, z_out


def term_covariates(term, data: pd.DataFrame) -> np.ndarray:
    """The random-effects covariates Z of one design term on ``data`` (NaN where missing)."""
    n = len(data)
    if term.rfactor is not None:
        if term.covariance == "identity":
            return np.ones((n, 1))
        rnew = _column(data, term.rfactor).to_numpy(dtype=object)
        levels = list(term.rfactor_levels)
        z = np.zeros((n, len(levels)))
        pos = {_py(v): j for j, v in enumerate(levels)}
        for i in range(n):
            j = pos.get(_py(rnew[i]))
            if _is_missing(rnew[i]):
                z[i] = np.nan
            elif j is not None:
                z[i, j] = 1.0
        return z
    if not term.names:
        return np.zeros((n, 0))
    return np.column_stack([
        np.ones(n) if nm == "_cons" else _numeric(_column(data, nm)) for nm in term.names
    ])


def _py(v):
    """Hashable comparable form: numbers as float, others as they are."""
    if isinstance(v, (bool, np.bool_)):
        return float(v)
    if isinstance(v, (int, float, np.integer, np.floating)):
        return float(v)
    return v


def build_frame(design: Design, data: pd.DataFrame | None, *, need_groups: bool,
                offset_spec: tuple[str, str] | None = None,
                need_z: bool = False) -> tuple[Frame, list[EngineTerm]]:
    """The observations to predict for: the estimation sample, or every row of ``data``.
    ``need_z``: the random-effects covariates even when the groups are not needed
    (marginal predictions)."""
    if data is None:
        eterms = engine_terms(design.terms)
        y = np.asarray(design.y, float)
        off = None
        if offset_spec is not None:
            kind, var = offset_spec
            vals = np.asarray(design.extra.get(var), float) if var in design.extra else None
            if vals is not None:
                off = np.log(vals) if kind == "exposure" else vals
        fr = Frame(design.index, design.X, y, [et.groups for et in eterms],
                   [et.Z for et in eterms], True, off)
        return fr, eterms
    if getattr(design, "derived", None):  # offset(log(x)) and other formula transforms
        data = derive_again(design.derived, data)
    new_data = active_group_ids() is not None
    if new_data:
        check_factor_levels(design, data)
    X = fixed_matrix(design, data)
    y = _numeric(data[design.depvar]) if design.depvar in data.columns else None
    if need_groups:
        eterms, groups, zs = engine_frame(design, data)
    else:
        eterms = engine_terms(design.terms)
        groups = [np.full(len(data), -1, dtype=np.int64) for _ in eterms]
        zs = [term_covariates(design.terms[et.source], data) if need_z
              else np.full((len(data), et.Z.shape[1]), np.nan) for et in eterms]
    off = None
    if offset_spec is not None:
        kind, var = offset_spec
        vals = _numeric(_column(data, var))
        with np.errstate(divide="ignore", invalid="ignore"):
            off = np.where(vals > 0, np.log(np.where(vals > 0, vals, 1.0)), np.nan) \
                if kind == "exposure" else vals
    return Frame(data.index, X, y, groups, zs, False, off, new_groups_zero=new_data), eterms
