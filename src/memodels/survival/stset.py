"""``stset``: declare survival-time data ([ST] stset, as [ME] mestreg uses it).

``stset(data, time=..., failure=..., id=..., origin=..., enter=..., scale=...)`` returns a
:class:`StData`: a copy of the data (a pandas DataFrame subclass) with Stata's st
variables

* ``_t0`` -- entry time of the record's period ``(_t0, _t]`` (analysis time),
* ``_t``  -- exit time (analysis time ``(time - origin) / scale``),
* ``_d``  -- 1 if the record ends in failure, 0 if it is right-censored,
* ``_st`` -- 1 (every record of a StData is used; invalid records raise errors),

and the settings in ``.st`` (:class:`StSettings`), which mestreg prints
(``failure _d: infect``, ``analysis time _t: time``, ``id: tid``, ``origin: time tstart``).

Rules, as [ST] stset documents them (and the stset output echoed in [ME] mestreg):

* ``failure(var)``: a failure is ``var != 0 & var < .`` (a missing value is censoring);
  ``failure(var == numlist)`` (``failure=("var", [1, 3])`` or ``"var==1 3"``): a failure
  is ``var`` in the list.  Without ``failure`` every record is a failure.
* ``origin(time var|#)``: analysis time is measured from that origin.  ``scale(#)``
  divides it.
* ``id(var)``: multiple records per subject; records are ordered by time within the
  subject and each record's ``_t0`` is the previous record's ``_t`` (the first one's is
  the entry time, 0 by default); Stata's default ``exit(failure)`` ends follow-up at
  the first failure (later records raise an error here rather than being silently
  excluded).  Without ``id`` each record is a subject.
* ``enter(time var|#)``: delayed entry (left truncation) at that time.

Errors (:class:`memodels.errors.DataError`), where Stata would count exclusions, so that
no record is dropped silently: missing times, analysis time ``_t <= 0`` (Stata: "obs.
end on or before enter()"), entry on or after exit (``_t0 >= _t``), two records of a
subject with the same time, records after a subject's failure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError

ST_COLUMNS = ("_t0", "_t", "_d", "_st")


@dataclass(frozen=True)
class StSettings:
    """What ``stset`` declared (Stata's ``_dta[st_*]`` characteristics)."""

    time: str
    failure: str | None = None  # failure variable
    failure_values: tuple[float, ...] | None = None  # failure(var == numlist)
    id: str | None = None
    origin: str | float | None = None
    enter: str | float | None = None
    scale: float = 1.0
    n_failures: int = 0
    n_subjects: int = 0
    total_time: float = 0.0
    delayed_entry: bool = False  # some subject enters after _t = 0
    gaps: bool = False

    @property
    def failure_label(self) -> str:
        """``infect`` / ``status == 1 3`` / ``(none)`` -- "failure _d:" in the header."""
        if self.failure is None:
            return "1 (meaning all fail)"
        if self.failure_values is None:
            return self.failure
        vals = " ".join(_fmt(v) for v in self.failure_values)
        return f"{self.failure} == {vals}"

    @property
    def time_label(self) -> str:
        """``time`` / ``(tend-origin)`` / ``time/365.25`` -- "analysis time _t:"."""
        label = self.time
        if self.origin is not None:
            label = f"({self.time}-origin)"
        if self.scale != 1.0:
            label = f"{label}/{_fmt(self.scale)}"
        return label

    def header_lines(self) -> list[str]:
        """The st echo printed above mestreg's output (right-aligned labels)."""
        pairs = [("failure _d:", self.failure_label), ("analysis time _t:", self.time_label)]
        if self.origin is not None:
            pairs.append(("origin:", f"time {_fmt(self.origin)}"))
        if self.enter is not None:
            pairs.append(("enter on or after:", f"time {_fmt(self.enter)}"))
        if self.id is not None:
            pairs.append(("id:", self.id))
        return [f"{label:>20}  {value}" for label, value in pairs]


def _fmt(v: Any) -> str:
    if isinstance(v, str):
        return v
    v = float(v)
    return str(int(v)) if v.is_integer() else f"{v:g}"


class StData(pd.DataFrame):
    """A DataFrame declared with :func:`stset` (columns ``_t0``, ``_t``, ``_d``, ``_st``;
    settings in ``.st``).  Usable wherever a DataFrame is."""

    _metadata = ["st"]

    @property
    def _constructor(self):
        return StData

    @property
    def is_stset(self) -> bool:
        st = getattr(self, "st", None)
        return isinstance(st, StSettings) and all(c in self.columns for c in ST_COLUMNS)


def is_stset(data: Any) -> bool:
    return isinstance(data, StData) and data.is_stset


# ---------------------------------------------------------------------------- helpers
def _column(data: pd.DataFrame, name: str, what: str) -> np.ndarray:
    if name not in data.columns:
        raise DataError(f"variable {name} not found ({what})")
    s = data[name]
    try:
        return pd.to_numeric(s, errors="raise").to_numpy(dtype=float)
    except (TypeError, ValueError):
        raise DataError(f"{what} variable {name} must be numeric") from None


def _time_or_var(data: pd.DataFrame, value: Any, what: str) -> np.ndarray:
    """A number or a variable name (``origin(time tstart)``, ``enter(time 5)``)."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("time "):
            text = text[5:].strip()
        try:
            return np.full(len(data), float(text))
        except ValueError:
            return _column(data, text, what)
    return np.full(len(data), float(value))


def _parse_failure(failure: Any) -> tuple[str | None, tuple[float, ...] | None]:
    if failure is None:
        return None, None
    if isinstance(failure, tuple | list) and len(failure) == 2 and isinstance(failure[0], str):
        values = failure[1]
        values = [values] if np.isscalar(values) else list(values)
        return failure[0].strip(), tuple(float(v) for v in values)
    if not isinstance(failure, str):
        raise DataError("failure must be a variable name, 'var==numlist' or (var, values)")
    text = failure.strip()
    if "==" in text:
        name, rest = text.split("==", 1)
        try:
            vals = tuple(float(v) for v in rest.replace(",", " ").split())
        except ValueError:
            raise DataError(f"failure({text}): invalid numlist") from None
        if not vals:
            raise DataError(f"failure({text}): numlist required after ==")
        return name.strip(), vals
    return text, None


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _check(bad: np.ndarray, message: str) -> None:
    n = int(np.sum(bad))
    if n:
        raise DataError(f"{message} ({_plural(n, 'observation')})")


# ------------------------------------------------------------------------------ stset
def stset(
    data: pd.DataFrame,
    time: str,
    failure: str | tuple[str, Sequence[float]] | None = None,
    *,
    id: str | None = None,  # noqa: A002  (Stata's option name)
    origin: str | float | None = None,
    enter: str | float | None = None,
    scale: float = 1.0,
) -> StData:
    """Declare ``data`` to be survival-time data, as Stata's ``stset time, failure(...)``.

    ``time`` is the exit-time variable; ``failure`` a variable (failure when nonzero and
    nonmissing), ``"var==1 3"`` or ``("var", [1, 3])``; ``id`` the subject identifier of
    multiple-record data; ``origin`` and ``enter`` numbers or variable names (``"time
    tstart"`` is accepted); ``scale`` divides analysis time.  Returns a :class:`StData`
    copy of ``data`` with ``_t0``, ``_t``, ``_d`` and ``_st``; the input is not modified.

    Parameters
    ----------
    data : pandas.DataFrame
    time : str
        The exit-time variable.
    failure : str or (str, list of numbers), optional
        The failure variable (failure when nonzero), ``"var==1 3"`` or ``("var", [1, 3])``;
        without it every record is a failure.
    id, origin, enter, scale
        As Stata's options of the same names.

    Returns
    -------
    StData
        A copy of ``data`` with Stata's ``_t0``, ``_t``, ``_d``, ``_st`` columns.

    Examples
    --------
    >>> import memodels
    >>> cath = memodels.stset(memodels.datasets.load("catheter"), time="time",
    ...                       failure="infect")
    >>> int(cath["_d"].sum()), float(cath["_t"].sum())     # failures, total time
    (58, 7424.0)
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError("stset: data must be a pandas DataFrame")
    if not isinstance(time, str) or not time.strip():
        raise DataError("stset: time variable required")
    time = time.strip()
    scale = float(scale)
    if not np.isfinite(scale) or scale <= 0:
        raise DataError(f"scale({scale:g}) invalid: must be positive")
    n = len(data)
    tt = _column(data, time, "time")
    _check(~np.isfinite(tt), f"time variable {time} has missing values")

    orig = np.zeros(n) if origin is None else _time_or_var(data, origin, "origin()")
    _check(~np.isfinite(orig), "origin() has missing values")
    t = (tt - orig) / scale
    _check(t <= 0, "analysis time _t <= 0: records end on or before the origin/entry time")

    fvar, fvals = _parse_failure(failure)
    if fvar is None:
        d = np.ones(n)
    else:
        f = _column(data, fvar, "failure")
        ok = np.isfinite(f)
        if fvals is None:
            d = (ok & (f != 0)).astype(float)
        else:
            d = (ok & np.isin(f, np.asarray(fvals))).astype(float)

    if enter is not None:
        ent = (_time_or_var(data, enter, "enter()") - orig) / scale
        _check(~np.isfinite(ent), "enter() has missing values")
        entry = np.maximum(ent, 0.0)
    else:
        entry = np.zeros(n)

    t0 = entry.copy()
    gaps = False
    if id is not None:
        ids = data[_require(data, id)].to_numpy()
        if pd.isna(ids).any():
            raise DataError(f"id variable {id} has missing values")
        order = np.lexsort((t, pd.factorize(ids)[0]))
        ids_s, t_s, d_s = ids[order], t[order], d[order]
        first = np.r_[True, ids_s[1:] != ids_s[:-1]]
        same = ~first
        _check(same & (t_s == np.r_[np.nan, t_s[:-1]]),
               f"multiple records of a subject ({id}) end at the same time")
        prev_t = np.r_[0.0, t_s[:-1]]
        t0_s = np.where(first, entry[order], np.maximum(prev_t, entry[order]))
        gaps = bool(np.any(same & (t0_s > prev_t)))
        # exit(failure): nothing may follow a subject's failure
        before = np.cumsum(d_s) - d_s  # failures on earlier records (all subjects)
        group = np.cumsum(first) - 1
        after = (before - before[first][group]) > 0
        _check(after, f"records after the subject's failure ({id}); drop them or use one "
                      "failure per subject")
        t0 = np.empty(n)
        t0[order] = t0_s
        subjects = int(first.sum())
        delayed = bool(np.any(t0_s[first] > 0))
    else:
        subjects = n
        delayed = bool(np.any(t0 > 0))
    _check(t0 >= t, "entry time on or after exit time (_t0 >= _t)")

    out = StData(data.copy())
    out["_t0"] = t0
    out["_t"] = t
    out["_d"] = d.astype(np.int8)
    out["_st"] = np.ones(n, dtype=np.int8)
    out.st = StSettings(
        time=time, failure=fvar, failure_values=fvals, id=id, origin=origin, enter=enter,
        scale=scale, n_failures=int(d.sum()), n_subjects=subjects,
        total_time=float(np.sum(t - t0)), delayed_entry=delayed, gaps=gaps,
    )
    return out


def _require(data: pd.DataFrame, name: str) -> str:
    if name not in data.columns:
        raise DataError(f"variable {name} not found")
    return name


def st_settings(data: Any) -> StSettings:
    """The :class:`StSettings` of stset data, or an error naming stset."""
    if not is_stset(data):
        raise DataError("data not st; use memodels.stset() to declare survival-time data "
                        "(Stata: stset)")
    return data.st


def with_settings(data: StData, **changes: Any) -> StData:
    out = StData(data)
    out.st = replace(data.st, **changes)
    return out


__all__ = ["stset", "StData", "StSettings", "is_stset", "st_settings", "ST_COLUMNS"]
