"""Shared test fixtures: the manual's datasets (shipped with the package), the manual's
printed figures (tests/reference_data, in the repository), and a fit cache."""

from __future__ import annotations

import contextlib
import functools
import io
import json
import warnings
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
REFERENCE = Path(__file__).resolve().parent / "reference_data"

# the encoded hdp data (after the worked analysis's encode loop) is the shipped "hdp"
_ALIASES = {"hdp_encoded": "hdp"}


@functools.cache
def _load(name: str) -> pd.DataFrame:
    from memodels.datasets import load

    return load(_ALIASES.get(name, name))


def load_dataset(name: str) -> pd.DataFrame:
    """A shipped dataset (memodels.datasets.load: Stata's float columns rounded as in
    Stata's file), as a fresh copy so that no test can change another's data."""
    return _load(name).copy()


@functools.cache
def reference_examples(kind: str = "mixed") -> dict[str, dict]:
    path = REFERENCE / f"examples_{kind}.json"
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
        out.update({e["id"]: e for e in json.loads((REFERENCE / name).read_text())})
    return out


def run_logged(fit, *args, **kwargs):
    """``fit(*args, **kwargs)`` with what it prints and the ConvergenceWarnings it raises:
    (results, printed log, warning messages)."""
    from memodels.errors import ConvergenceWarning

    buf = io.StringIO()
    with warnings.catch_warnings(record=True) as seen, contextlib.redirect_stdout(buf):
        warnings.simplefilter("always")
        res = fit(*args, **kwargs)
    return res, buf.getvalue(), [str(w.message) for w in seen
                                 if issubclass(w.category, ConvergenceWarning)]
