"""Observation-level weights."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from design_spec_helpers import plain, spec

from memodels.design import build_design
from memodels.errors import DataError
from memodels.spec import Weight


@pytest.fixture
def wdata() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "y": np.arange(6.0),
            "x": [1.0, 3.0, 2.0, 5.0, 4.0, 6.0],
            "id": [1, 1, 2, 2, 3, 3],
            "fw": [1.0, 2.0, 3.0, 1.0, 2.0, 3.0],
            "pw": [0.5, 1.5, 2.5, 0.5, 1.5, 2.5],
            "w2": [2.0, 2.0, 2.0, 4.0, 4.0, 4.0],
        }
    )


def build(data, weight, **kw):
    return build_design(spec("y", fixed=plain("x"), equations=["id"], weight=weight, **kw), data)


def test_unweighted(wdata):
    d = build(wdata, None)
    assert d.weights is None and d.weight_kind is None


def test_fweights(wdata):
    d = build(wdata, Weight("fweight", "fw"))
    assert d.weight_kind == "fweight"
    np.testing.assert_array_equal(d.weights, wdata["fw"].to_numpy())


def test_pweights(wdata):
    d = build(wdata, Weight("pweight", "pw"))
    assert d.weight_kind == "pweight"
    np.testing.assert_array_equal(d.weights, wdata["pw"].to_numpy())


def test_fractional_fweights_error(wdata):
    with pytest.raises(DataError, match="integer"):
        build(wdata, Weight("fweight", "pw"))


def test_negative_weights_error(wdata):
    data = wdata.assign(pw=-wdata["pw"])
    with pytest.raises(DataError, match="negative"):
        build(data, Weight("pweight", "pw"))


def test_missing_weight_drops_row(wdata):
    data = wdata.copy()
    data.loc[2, "fw"] = np.nan
    d = build(data, Weight("fweight", "fw"))
    assert d.y.size == 5 and d.n_dropped == 1
    assert not d.sample[2]


def test_zero_weight_drops_row(wdata):
    data = wdata.copy()
    data.loc[4, "fw"] = 0.0
    d = build(data, Weight("fweight", "fw"))
    assert d.y.size == 5 and not d.sample[4]


def test_weight_expression(wdata):
    pytest.importorskip("memodels.syntax.expressions")
    d = build(wdata, Weight("pweight", "pw/w2"))
    np.testing.assert_allclose(d.weights, wdata["pw"] / wdata["w2"])


def test_weight_expression_missing_drops(wdata):
    pytest.importorskip("memodels.syntax.expressions")
    data = wdata.copy()
    data.loc[0, "w2"] = 0.0  # division by zero is missing in Stata
    d = build(data, Weight("pweight", "pw/w2"))
    assert d.nobs == 5 and not d.sample[0]
