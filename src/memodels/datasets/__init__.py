"""Datasets of the Stata [ME] manual's examples, shipped with memodels.

``load("pig")`` returns a dataset as a DataFrame with Stata's variable names and codes;
``names()`` lists them; ``describe("hdp")`` says where a copy comes from and whether it is
exact or near. In a do-file, ``webuse NAME`` loads the same data.

Stata's value labels travel with the data in ``df.attrs["value_labels"]`` (variable ->
{code: label}): the variables keep their numeric codes, as in Stata, and the labels are
used for display (``i.cancerstage`` rows read ``II``, ``III``, ``IV``).
"""

from __future__ import annotations

import re
from importlib import resources

import numpy as np
import pandas as pd

from ..errors import DataError
from .catalog import ALIASES, CATALOG, DatasetInfo

__all__ = ["DatasetInfo", "describe", "info", "load", "names"]

_NAME = re.compile(r"[a-z][a-z0-9_]*")


def names() -> list[str]:
    """Names of the shipped datasets."""
    return sorted(CATALOG)


def info(name: str) -> DatasetInfo:
    """The catalog entry of a shipped dataset (aliases such as ``tvsfpor`` resolved).

    Only the catalog's names are accepted: a name is never used as a path.
    """
    key = str(name).strip().lower().removesuffix(".dta")
    key = ALIASES.get(key, key)
    if not _NAME.fullmatch(key) or key not in CATALOG:
        raise DataError(f"no shipped dataset '{name}'; available: {', '.join(names())}")
    return CATALOG[key]


def load(name: str) -> pd.DataFrame:
    """Load a shipped dataset by name (e.g. ``"pig"``, ``"hdp"``, ``"tvsfpors"``).

    Variables that Stata stores as ``float`` are rounded to single precision, as in
    Stata's file; value labels are in ``df.attrs["value_labels"]``.
    """
    entry = info(name)
    res = resources.files(__name__).joinpath("data", f"{entry.name}.csv.gz")
    with res.open("rb") as fh:
        df = pd.read_csv(fh, compression="gzip")
    for col in entry.float_columns:
        df[col] = df[col].astype(np.float32).astype(np.float64)
    if entry.value_labels:
        df.attrs["value_labels"] = {v: dict(lab) for v, lab in entry.value_labels.items()}
    return df


def describe(name: str | None = None) -> str:
    """Where a dataset comes from and how faithful the copy is (all of them by default)."""
    entries = [info(name)] if name is not None else [CATALOG[n] for n in names()]
    blocks = []
    for e in entries:
        lines = [f"{e.name}: {e.title}",
                 f"  examples: {e.examples}",
                 f"  size:     {e.size}",
                 f"  copy:     {e.status}",
                 f"  source:   {e.source}"]
        if e.note:
            lines.append(f"  note:     {e.note}")
        for var, lab in e.value_labels.items():
            text = ", ".join(f"{k} {v}" for k, v in lab.items())
            lines.append(f"  labels:   {var}: {text}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
