"""Shared fixtures for the design-layer tests."""

from __future__ import annotations

import pandas as pd
import pytest

from support import load_dataset


def load(name: str) -> pd.DataFrame:
    return load_dataset(name)


@pytest.fixture
def pig() -> pd.DataFrame:
    return load("pig")


@pytest.fixture
def productivity() -> pd.DataFrame:
    return load("productivity")


@pytest.fixture
def exercise() -> pd.DataFrame:
    return load("exercise")
