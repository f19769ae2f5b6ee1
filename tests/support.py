"""Shared test fixtures: where the shared reference material lives, and a fit cache."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
DATA = SHARED / "data"
REFERENCE = SHARED / "reference"


def shared_available() -> bool:
    return (DATA / "pig.csv").exists() and (REFERENCE / "examples_mixed.json").exists()


@functools.cache
def load_dataset(name: str) -> pd.DataFrame:
    path = DATA / f"{name}.csv"
    if not path.exists():
        pytest.skip(f"dataset {name} not in {DATA}")
    return pd.read_csv(path)


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
