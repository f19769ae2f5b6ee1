"""Reading data files: CSV, Stata .dta (numeric codes kept, value labels alongside) and
Parquet.

A file that cannot be read (empty, ragged rows, undecodable text, a corrupt .dta or
Parquet file) is a :class:`memodels.errors.DataError` naming the file and the problem,
never a reader's internal exception (:func:`load_data_file`; the ``memodels`` command and
the session's ``use`` read files through it).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .errors import DataError


def read_data(path: str | Path) -> pd.DataFrame:
    """Read a data file by its extension: ``.csv``, ``.dta`` or ``.parquet``/``.pq``.

    A ``.dta`` file's labelled variables keep their numeric codes, as in Stata (so
    ``ib1.trt`` means code 1 and a labelled 0/1 outcome is a 0/1 outcome); their value
    labels go to ``df.attrs["value_labels"]`` (variable -> {code: label}) and label the
    rows of factor variables in the output.

    Parameters
    ----------
    path : str or pathlib.Path
        A ``.csv``, ``.dta`` or ``.parquet`` file.

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> import tempfile, pathlib, memodels
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "pig.csv"
    >>> memodels.datasets.load("pig").to_csv(path, index=False)
    >>> memodels.read_data(path).shape
    (432, 3)
    """
    p = Path(path)
    if not p.exists():
        raise DataError(f"file '{p}' not found")
    ext = p.suffix.lower()
    if ext in (".csv", ".txt"):
        return _read_csv(p)
    if ext == ".dta":
        return _read_dta(p)
    if ext in (".parquet", ".pq"):
        try:
            return pd.read_parquet(p)
        except ImportError as exc:  # pragma: no cover - depends on optional pyarrow
            msg = "reading Parquet needs pyarrow: pip install 'memodels[parquet]'"
            raise DataError(msg) from exc
    raise DataError(f"unknown data file type '{ext}' (use .csv, .dta or .parquet)")


def write_data(data: pd.DataFrame, path: str | Path) -> None:
    """Write a DataFrame by the file's extension: ``.csv``, ``.dta`` (value labels from
    ``data.attrs["value_labels"]`` written as Stata value labels) or ``.parquet``."""
    p = Path(path)
    ext = p.suffix.lower()
    try:
        if ext == ".csv":
            data.to_csv(p, index=False)
        elif ext == ".dta":
            labels = data.attrs.get("value_labels") or {}
            data.to_stata(p, write_index=False, value_labels=labels or None)
        elif ext in (".parquet", ".pq"):
            try:
                data.to_parquet(p, index=False)
            except ImportError as exc:  # pragma: no cover - depends on optional pyarrow
                msg = "writing Parquet needs pyarrow: pip install 'memodels[parquet]'"
                raise DataError(msg) from exc
        else:
            raise DataError(f"unknown data file type '{ext}' (use .csv, .dta or .parquet)")
    except OSError as exc:
        raise DataError(f"could not write '{p}': {exc.strerror or exc}") from exc


def _read_dta(path: Path) -> pd.DataFrame:
    """A ``.dta`` file with its numeric codes, and its value labels in ``attrs``."""
    try:
        codes = pd.read_stata(path, convert_categoricals=False)
    except Exception as exc:  # pandas raises ValueError, struct.error, UnicodeError...
        raise DataError(f"file '{path}' could not be read as a Stata .dta file: {exc}") from exc
    try:
        labelled = pd.read_stata(path, convert_categoricals=True, order_categoricals=False)
    except Exception:  # duplicate label texts and the like: codes without their labels
        return codes
    labels: dict[str, dict[int, str]] = {}
    for col in labelled.columns:
        lab = labelled[col]
        if not isinstance(lab.dtype, pd.CategoricalDtype):
            continue
        pairs = pd.DataFrame({"code": codes[col], "label": lab.astype(object)}).dropna()
        mapping = {}
        for code, text in pairs.drop_duplicates("code").itertuples(index=False):
            if isinstance(text, str):  # unlabelled codes come back as numbers
                mapping[int(code) if float(code).is_integer() else code] = text
        if mapping:
            labels[str(col)] = mapping
    if labels:
        codes.attrs["value_labels"] = labels
    return codes


_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


def _read_csv(p: Path) -> pd.DataFrame:
    """A CSV file, UTF-8 (with or without a byte-order mark) or UTF-16 with its mark;
    clear errors for an empty file, rows of varying length and undecodable text."""
    with p.open("rb") as fh:
        head = fh.read(4)
    encoding = next((enc for bom, enc in _BOMS if head.startswith(bom)), "utf-8")
    try:
        return pd.read_csv(p, encoding=encoding)
    except pd.errors.EmptyDataError:
        raise DataError(f"file '{p}' is empty: no variables or observations") from None
    except pd.errors.ParserError as exc:
        detail = str(exc).strip().splitlines()[-1] if str(exc).strip() else "parse error"
        raise DataError(f"file '{p}' is not a well-formed CSV file ({detail}); every "
                        "row needs as many fields as the header") from None
    except UnicodeDecodeError as exc:
        raise DataError(f"file '{p}' is not UTF-8 text ({exc.reason}); save it as "
                        "UTF-8 CSV") from None


def load_data_file(path: str | Path) -> pd.DataFrame:
    """:func:`read_data`, with every failure of the underlying reader (a corrupt or
    truncated .dta or Parquet file, a file that is not what its extension says) turned
    into a :class:`DataError` naming the file."""
    try:
        return read_data(path)
    except DataError:
        raise
    except MemoryError:
        raise DataError(f"file '{path}' is too large to read into memory") from None
    except Exception as exc:  # noqa: BLE001 - pandas/pyarrow readers raise many kinds
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"cannot read data file '{path}': {detail} (is it a valid "
                        f"{Path(path).suffix.lower() or 'data'} file?)") from exc
