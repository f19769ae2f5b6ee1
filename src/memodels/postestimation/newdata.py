"""Prediction on new data: ``res.predict(statistic, newdata=df)``.

Stata predicts for the observations in memory and matches the random effects of the
estimation groups through the estimation rows ("be sure that the data for these
predictions are in observations that augment the estimation data", [ME] mixed
postestimation, technical note after example 3); ``data=`` follows that rule.
``newdata=`` is the rule of lme4's ``predict(newdata, allow.new.levels = TRUE)``:

* the rows of ``newdata`` need not contain the estimation sample; each row's groups
  are matched to the estimation groups by the values of the level variables (and of
  all outer levels, for nested levels), kept with the results at estimation;
* a row in a group seen in estimation gets the group's empirical Bayes prediction (the
  BLUP after ``mixed``; the EB mean, or mode after meqr / ``conditional="ebmodes"``,
  after the me commands);
* a row in a group *not* seen in estimation gets random effects 0 at that level -- the
  fixed-portion prediction for that level, as ``conditional="fixedonly"``; statistics
  of the random effects themselves (``reffects``, ``reses``) are missing (NaN) for it;
* a row with a missing level identifier or covariate gives NaN;
* a value of a factor variable (``i.var``) not seen in estimation is an error
  (:class:`memodels.errors.DataError`): the model has no coefficient for it;
* ``scores`` and ``rstandard`` are quantities of the estimation sample: refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np
import pandas as pd

from ..design.types import Design
from ..errors import DataError

# the group tables (memodels.postestimation.groups.group_tables) while predicting on
# new data, else None
_NEWDATA: ContextVar[list[pd.DataFrame] | None] = ContextVar("memodels_newdata",
                                                             default=None)


@contextmanager
def newdata_mode(group_ids: list[pd.DataFrame]) -> Iterator[None]:
    token = _NEWDATA.set(group_ids)
    try:
        yield
    finally:
        _NEWDATA.reset(token)


def active_group_ids() -> list[pd.DataFrame] | None:
    """The estimation groups' identifiers when predicting on new data, else None."""
    return _NEWDATA.get()


def _level_value(level: str) -> float | None:
    try:
        return float(level.rstrip("bno"))
    except ValueError:
        return None


def check_factor_levels(design: Design, data: pd.DataFrame) -> None:
    """Refuse values of factor variables that the estimation did not see."""
    seen: dict[str, set] = {}
    for col in design.columns:
        if col.name == "_cons":
            continue
        labels = (col.level_labels or "").split("#")
        factors = [p for p in col.name.split("#") if "." in p and not p.startswith("c.")]
        for i, part in enumerate(factors):
            level, var = part.rsplit(".", 1)
            if var not in data.columns:
                continue
            lab = labels[i] if len(labels) == len(factors) else level
            seen.setdefault(var, set()).update({level, lab, _level_value(level)})
    for var, levels in seen.items():
        values = data[var]
        bad = []
        for v in pd.unique(values.astype(object)):
            if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA or v == "":
                continue
            num = float(v) if isinstance(v, (int, float, np.integer, np.floating)) else None
            if (num is not None and num in levels) or str(v) in levels:
                continue
            bad.append(v)
        if bad:
            shown = ", ".join(str(b) for b in bad[:5])
            known = sorted(str(x) for x in levels if isinstance(x, str))
            raise DataError(
                f"predict, newdata: factor variable {var} has level(s) {shown} not seen in "
                f"estimation (levels of the model: {', '.join(known)}); the model has no "
                "coefficient for them")


def map_groups(term_index: int, keys: list[tuple]) -> np.ndarray:
    """Engine group codes for the identifier tuples of one term's rows: the estimation
    group, -1 for a group not seen in estimation, -2 for a missing identifier."""
    tables = _NEWDATA.get()
    assert tables is not None
    table = tables[term_index]
    mapping = {tuple(_py(v) for v in row): i
               for i, row in enumerate(table.itertuples(index=False, name=None))}
    out = np.full(len(keys), -1, dtype=np.int64)
    for i, key in enumerate(keys):
        if any(_missing(v) for v in key):
            out[i] = -2
            continue
        out[i] = mapping.get(tuple(_py(v) for v in key), -1)
    return out


def _missing(v) -> bool:
    try:
        return bool(pd.isna(v)) or v == ""
    except (TypeError, ValueError):
        return False


def _py(v):
    if isinstance(v, (bool, np.bool_, int, float, np.integer, np.floating)):
        return float(v)
    return v




def predict_on(res, predict, statistic, newdata, options: dict):
    """``predict(statistic, data=newdata, **options)`` under the new-data rule of the
    module docstring; ``predict`` is the results' own predict method."""
    from ..errors import OptionError

    if not isinstance(newdata, pd.DataFrame):
        raise OptionError(f"predict: newdata must be a pandas DataFrame (got "
                          f"{type(newdata).__name__})")
    if options.get("data") is not None:
        raise OptionError("predict: options data= and newdata= may not be combined")
    options.pop("data", None)
    if str(statistic or "").lower().strip() in ("scores", "rstandard"):
        # observation-level quantities of the fit itself ([ME] mixed postestimation:
        # rstandard and scores are for the estimation sample)
        raise OptionError(f"predict, {statistic} with newdata=: defined for the "
                          "estimation sample only; use predict() without newdata")
    tables = (res.extra or {}).get("group_ids")
    if tables is None:
        if getattr(res, "design", None) is not None and res.design.terms:
            raise OptionError("predict, newdata: the estimation groups' identifiers were "
                              "not kept with these results")
        tables = []
    with newdata_mode(tables):
        return predict(statistic, data=newdata, **options)


def check_statistic(statistic) -> None:
    """A DataFrame given where the statistic goes (``res.predict(df)``): say how."""
    from ..errors import OptionError

    if isinstance(statistic, (pd.DataFrame, pd.Series, np.ndarray)):
        raise OptionError("predict: the first argument is the statistic (e.g. 'xb', "
                          "'mu'); pass new data as newdata=df (or data=df for rows that "
                          "augment the estimation data)")


__all__ = ["active_group_ids", "check_factor_levels", "check_statistic", "map_groups",
           "newdata_mode", "predict_on"]
