"""Datasets of the Stata [ME] manual's examples shipped with memodels.

``load("pig")`` returns the data as a DataFrame with Stata's variable names.
"""

from __future__ import annotations

from importlib import resources

import pandas as pd

from ..errors import DataError


def names() -> list[str]:
    """Names of the shipped datasets."""
    files = resources.files(__name__).iterdir()
    return sorted(f.name[:-4] for f in files if f.name.endswith(".csv"))


def load(name: str) -> pd.DataFrame:
    """Load a shipped dataset by name (e.g. ``"pig"``, ``"productivity"``)."""
    res = resources.files(__name__).joinpath(f"{name}.csv")
    if not res.is_file():
        raise DataError(f"no shipped dataset '{name}'; available: {', '.join(names())}")
    with res.open("r") as fh:
        return pd.read_csv(fh)
