"""Reading data files: CSV, Stata .dta (value labels become categoricals) and Parquet."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .errors import DataError


def read_data(path: str | Path) -> pd.DataFrame:
    """Read a data file by its extension: ``.csv``, ``.dta`` or ``.parquet``/``.pq``.

    Stata value labels are kept: labelled variables become ordered pandas
    categoricals whose categories are the labels (their order is the codes' order).
    """
    p = Path(path)
    if not p.exists():
        raise DataError(f"file '{p}' not found")
    ext = p.suffix.lower()
    if ext in (".csv", ".txt"):
        return pd.read_csv(p)
    if ext == ".dta":
        return pd.read_stata(p, convert_categoricals=True, order_categoricals=True)
    if ext in (".parquet", ".pq"):
        try:
            return pd.read_parquet(p)
        except ImportError as exc:  # pragma: no cover - depends on optional pyarrow
            msg = "reading Parquet needs pyarrow: pip install 'memodels[parquet]'"
            raise DataError(msg) from exc
    raise DataError(f"unknown data file type '{ext}' (use .csv, .dta or .parquet)")
