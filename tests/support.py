"""Shared test fixtures: where the shared reference material lives, and a fit cache."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
DATA = SHARED / "data"
REFERENCE = SHARED / "reference"


def shared_available() -> bool:
    return (DATA / "pig.csv").exists() and (REFERENCE / "examples_mixed.json").exists()


# Variables that Stata's copy of a dataset stores as float (single precision).  The CSVs
# hold the double-precision values; the manual's log likelihoods are computed on the
# float-rounded ones (productivity: 1430.50167 on float data vs 1430.50159 on doubles,
# printed 1430.5017), so the tests round these columns as Stata's storage type does.
STATA_FLOAT_COLUMNS = {
    "productivity": ["public", "hwy", "water", "other", "private", "gsp", "emp", "unemp"],
}


@functools.cache
def load_dataset(name: str) -> pd.DataFrame:
    path = DATA / f"{name}.csv"
    if not path.exists():
        pytest.skip(f"dataset {name} not in {DATA}")
    df = pd.read_csv(path)
    for col in STATA_FLOAT_COLUMNS.get(name, []):
        df[col] = df[col].astype(np.float32).astype(np.float64)
    return df


@functools.cache
def reference_examples(kind: str = "mixed") -> dict[str, dict]:
    path = REFERENCE / f"examples_{kind}.json"
    if not path.exists():
        return {}
    return {e["id"]: e for e in json.loads(path.read_text())}


@functools.cache
def fitted(dataset: str, cmdline: str):
    """Fit once per (dataset, command) for the whole test session."""
    import memodels

    return memodels.fit(cmdline, load_dataset(dataset), nolog=True)


@functools.cache
def me_examples() -> dict[str, dict]:
    """The GLMM, count, ordinal and survival examples (examples_glmm.json and
    examples_count_ordinal_surv.json), by id."""
    out: dict[str, dict] = {}
    for name in ("examples_glmm.json", "examples_count_ordinal_surv.json"):
        path = REFERENCE / name
        if path.exists():
            out.update({e["id"]: e for e in json.loads(path.read_text())})
    return out
