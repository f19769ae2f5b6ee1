"""Shared fixtures for the design-layer tests."""

from __future__ import annotations

import pandas as pd
import pytest
from design_spec_helpers import DATA


def load(name: str) -> pd.DataFrame:
    path = DATA / f"{name}.csv"
    if not path.exists():
        pytest.skip(f"{path} not available")
    return pd.read_csv(path)


@pytest.fixture
def pig() -> pd.DataFrame:
    return load("pig")


@pytest.fixture
def productivity() -> pd.DataFrame:
    return load("productivity")


@pytest.fixture
def exercise() -> pd.DataFrame:
    return load("exercise")
