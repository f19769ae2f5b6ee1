"""Column access with Stata's notions of *string*, *numeric* and *missing*.

Stata has two storage kinds ([U] 12 Data): numeric variables, whose missing values are
``.`` and ``.a``-``.z`` (read into pandas as NaN / None / ``pd.NA``), and string
variables, whose missing value is the empty string ``""``.  A pandas Categorical is
what a ``.dta`` file with value labels becomes; its labels are Stata's value labels.

Every helper here works on whole columns (no Python loops over rows).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from ..errors import DataError, VariableNotFoundError

ALL = "_all"


def require_columns(data: pd.DataFrame, names: Iterable[str], role: str = "variable") -> None:
    """Raise :class:`VariableNotFoundError` for the first name that is not a column, and
    :class:`DataError` (Stata's r(110), "already defined") for a name that several
    columns share: which of them is meant is ambiguous."""
    names = list(names)
    for name in names:
        if name not in data.columns:
            raise VariableNotFoundError(f"{role} '{name}' not found in the data")
    if not data.columns.is_unique:
        shared = set(data.columns[data.columns.duplicated()])
        for name in names:
            if name in shared:
                err = DataError(f"variable {name} defined more than once: the data have "
                                f"several columns named '{name}'; rename or drop all but "
                                "one")
                err.rc = 110  # type: ignore[attr-defined]
                raise err


def is_categorical(series: pd.Series) -> bool:
    return isinstance(series.dtype, pd.CategoricalDtype)


def is_string(series: pd.Series) -> bool:
    """True for a Stata *string* variable: object/str columns and Categoricals whose
    categories are not numbers (value-labelled variables count as numeric in Stata, but
    the numeric codes are not kept by pandas, so they can only be used as factors)."""
    if isinstance(series.dtype, np.dtype) and series.dtype.kind in "biuf":
        return False  # plain numpy numbers (the common case, checked first: cheap)
    if is_categorical(series):
        return not pd.api.types.is_numeric_dtype(series.cat.categories.dtype)
    if pd.api.types.is_bool_dtype(series.dtype):
        return False
    return not pd.api.types.is_numeric_dtype(series.dtype)


def missing_mask(series: pd.Series) -> np.ndarray:
    """Stata's missing values of a column: NaN/None/NA, and ``""`` in string columns."""
    kind = series.dtype.kind if isinstance(series.dtype, np.dtype) else ""
    if kind in ("b", "i", "u"):  # numpy integers and booleans have no missing values
        return np.zeros(len(series), dtype=bool)
    if kind == "f":
        return np.isnan(series.to_numpy())
    miss = np.array(series.isna(), dtype=bool)  # a writable copy (pandas CoW views)
    if is_categorical(series):
        cats = series.cat.categories
        if not pd.api.types.is_numeric_dtype(cats.dtype):
            empty = np.asarray(cats.astype(str) == "")
            if empty.any():
                codes = series.cat.codes.to_numpy()
                miss |= (codes >= 0) & empty[np.maximum(codes, 0)]
        return miss
    if is_string(series):
        miss |= empty_strings(series, miss)
    return miss


def empty_strings(series: pd.Series, missing: np.ndarray | None = None) -> np.ndarray:
    """Where a string column holds ``""`` (NaN/None/``pd.NA`` elements, given by
    ``missing`` when known, are not compared: ``pd.NA == ""`` has no truth value)."""
    text = series.astype(object).to_numpy()
    if missing is None:
        missing = np.array(pd.isna(text), dtype=bool)
    out = np.zeros(text.shape[0], dtype=bool)
    ok = ~missing
    out[ok] = np.array(text[ok] == "", dtype=bool)
    return out


def numeric_values(series: pd.Series, name: str, role: str) -> np.ndarray:
    """The column as float64, NaN for missing; :class:`DataError` for a string column.
    A Categorical outcome of texts (a labelled outcome) gives its category positions
    0..k-1, in the categories' order.

    ``role`` words the message (``"outcome variable"``, ``"covariate"``...).
    """
    if isinstance(series.dtype, np.dtype) and series.dtype.kind in "biuf":
        return np.array(series.to_numpy(), dtype=float, copy=True)  # plain numpy numbers
    if pd.api.types.is_datetime64_any_dtype(series.dtype) or \
            pd.api.types.is_timedelta64_dtype(series.dtype):
        raise DataError(f"{role} '{name}' is a date/time variable; convert it to a number "
                        "first (e.g. days since a fixed date), as Stata stores dates")
    if pd.api.types.is_complex_dtype(series.dtype):
        raise DataError(f"{role} '{name}' has complex values; Stata variables are real")
    if role == "outcome variable" and is_categorical(series) and is_string(series):
        # a labelled outcome (pandas Categorical of texts): its category positions
        # 0..k-1 are the codes, in the categories' order -- the first category is the
        # failure of a binary outcome and the lowest of an ordinal one
        codes = series.cat.codes.to_numpy().astype(float)
        codes[codes < 0] = np.nan
        return codes
    if is_string(series):
        hint = ""
        if role in ("covariate", "independent variable"):
            hint = f"; use i.{name} to include it as a factor variable"
        raise DataError(f"{role} '{name}' is a string variable{hint}")
    if is_categorical(series):
        series = series.astype(series.cat.categories.dtype)
    return np.array(series.to_numpy(dtype=float, na_value=np.nan), dtype=float, copy=True)


MAX_MAGNITUDE = 1e150  # squares and cross-products of larger values overflow


def check_magnitude(values: np.ndarray, name: str, role: str) -> None:
    """Refuse infinite values (Stata has none: its largest double is about 8.99e307 and
    anything beyond is missing) and values so large that their squares overflow; both
    are :class:`DataError` naming the variable.  Missing values (NaN) are not checked:
    the estimation sample has none."""
    finite = np.isfinite(values)
    if not finite.all() and np.isinf(values).any():
        raise DataError(f"{role} {name} has infinite values, which Stata does not have; "
                        "set them to missing first")
    big = np.abs(values[finite]).max(initial=0.0)
    if big > MAX_MAGNITUDE:
        raise DataError(f"{role} {name} has values too large to fit (|{name}| up to "
                        f"{big:.3g}; the limit is {MAX_MAGNITUDE:g}); rescale it")


def python_value(value: object) -> object:
    """A level value as a plain Python scalar: ``int`` for integral numbers."""
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        if np.isfinite(f) and f == int(f):
            return int(f)
        return f
    return value


def format_level(value: object) -> str:
    """Stata's display of a numeric level value in names: ``2``, ``-1``, ``2.5``."""
    v = python_value(value)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return np.format_float_positional(v, trim="-")
    return str(v)
