"""``predict, scores`` after ``intmethod(laplace)`` ([ME] meglm postestimation): the
one-node scores hold the modes and curvatures fixed, so -- unlike after adaptive
quadrature, where they sum to the zero gradient at the estimates -- they do not add up
to the Laplace gradient; the result is flagged with a warning, and crossed (sparse
Laplace) fits are refused with a message."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest

from memodels.errors import MemodelsError, MemodelsWarning
from memodels.session import Session


@functools.cache
def _data() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    g = np.repeat(np.arange(30), 8)
    x = rng.normal(size=g.size)
    y = (x + rng.normal(size=30)[g] + rng.logistic(size=g.size) > 0).astype(int)
    return pd.DataFrame({"g": g, "h": np.tile(np.arange(8), 30), "x": x, "y": y})


def _score_sums(method: str) -> np.ndarray:
    s = Session(_data())
    s.run(f"melogit y x || g:, {method} nolog")
    s.run("predict double sc*, scores")
    return s.data[[c for c in s.data.columns if c.startswith("sc")]].sum().to_numpy()


def test_quadrature_scores_sum_to_zero_laplace_scores_are_flagged():
    np.testing.assert_allclose(_score_sums("intpoints(7)"), 0, atol=1e-5)
    with pytest.warns(MemodelsWarning, match="do not add up"):
        sums = _score_sums("intmethod(laplace)")
    assert np.abs(sums).max() > 1e-3  # why the warning is there


def test_crossed_scores_refused():
    s = Session(_data())
    s.run("melogit y x || _all:R.h || g:, nolog")
    with pytest.raises(MemodelsError, match="scores"):
        s.run("predict sc*, scores")
