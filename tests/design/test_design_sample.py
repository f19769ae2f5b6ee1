"""Estimation-sample rules: in, if, listwise deletion, no mutation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from design_spec_helpers import c, i, plain, spec, t

from memodels.design import build_design
from memodels.errors import DataError, VariableNotFoundError
from memodels.spec import InRange, REEquation, Weight


@pytest.fixture
def small() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "y": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0],
            "x": [0.5, 1.5, 2.0, 3.0, 1.0, 2.5, 3.5, 4.0, 0.0, 1.0],
            "z": [1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0],
            "f": [1, 2, 3, 1, 2, 3, 1, 2, 3, 1],
            "g": ["a", "a", "b", "b", "c", "c", "d", "d", "e", "e"],
            "w": [1.0, 2.0, 1.0, 2.0, 1.0, 2.0, 1.0, 2.0, 1.0, 2.0],
            "o": [0.1] * 10,
        }
    )


def base_spec(**kw):
    return spec("y", fixed=plain("x"), equations=["g"], **kw)


def test_full_sample(small):
    d = build_design(base_spec(), small)
    assert d.nobs == 10
    assert d.n_dropped == 0
    assert d.sample.dtype == bool and d.sample.all()
    assert list(d.index) == list(range(10))


@pytest.mark.parametrize(
    ("column", "make_spec"),
    [
        ("y", lambda: base_spec()),
        ("x", lambda: base_spec()),
        ("f", lambda: spec("y", fixed=(t(i("f")),), equations=["g"])),
        ("z", lambda: spec("y", fixed=plain("x"), equations=[REEquation("g", ("z",))])),
        ("g", lambda: base_spec()),
        ("f", lambda: spec("y", equations=[REEquation("_all", rfactor="f", noconstant=True)])),
        ("o", lambda: base_spec(extra_vars=("o",))),
    ],
)
def test_missing_in_each_kind_of_variable(small, column, make_spec):
    data = small.copy()
    data[column] = data[column].astype(object)
    data.loc[3, column] = "" if column == "g" else np.nan
    data.loc[7, column] = None
    if column != "g":
        data[column] = pd.to_numeric(data[column])
    d = build_design(make_spec(), data)
    assert d.nobs == 8
    assert d.n_dropped == 2
    assert not d.sample[3] and not d.sample[7]
    assert list(d.index) == [0, 1, 2, 4, 5, 6, 8, 9]


def test_nullable_integer_missing(small):
    data = small.copy()
    data["f"] = pd.array([1, 2, None, 1, 2, 3, 1, 2, 3, 1], dtype="Int64")
    d = build_design(spec("y", fixed=(t(i("f")),), equations=["g"]), data)
    assert d.nobs == 9 and d.n_dropped == 1


def test_string_level_missing_as_empty_string(small):
    data = small.copy()
    data.loc[0, "g"] = ""
    d = build_design(base_spec(), data)
    assert d.nobs == 9
    assert d.levels[0].n_groups == 5


def test_unused_variable_missing_is_ignored(small):
    data = small.copy()
    data.loc[0, "z"] = np.nan
    d = build_design(base_spec(), data)
    assert d.nobs == 10 and d.n_dropped == 0


def test_all_level_is_not_a_column(small):
    d = build_design(spec("y", fixed=plain("x"), equations=["_all"]), small)
    assert d.nobs == 10
    assert d.terms[0].n_groups == 1


def test_in_range_positive_and_negative(small):
    d = build_design(base_spec(in_range=InRange(2, 5)), small)
    assert list(d.index) == [1, 2, 3, 4]
    d = build_design(base_spec(in_range=InRange(-3, -1)), small)
    assert list(d.index) == [7, 8, 9]
    d = build_design(base_spec(in_range=InRange(4, None)), small)
    assert list(d.index) == [3]


def test_in_range_out_of_bounds(small):
    with pytest.raises(DataError, match="out of range"):
        build_design(base_spec(in_range=InRange(1, 11)), small)


def test_in_then_missing_counts_only_selected(small):
    data = small.copy()
    data.loc[[0, 8], "x"] = np.nan
    d = build_design(base_spec(in_range=InRange(1, 5)), data)
    assert d.nobs == 4 and d.n_dropped == 1


def test_if_mask_array(small):
    mask = (small["x"] > 1).to_numpy()
    d = build_design(base_spec(if_expr=mask), small)
    assert d.nobs == int(mask.sum())
    assert d.n_dropped == 0


def test_if_and_in_combine(small):
    mask = (small["z"] == 1).to_numpy()
    d = build_design(base_spec(if_expr=mask, in_range=InRange(1, 6)), small)
    assert list(d.index) == [0, 2, 4]


def test_if_expression_via_syntax(small):
    expressions = pytest.importorskip("memodels.syntax.expressions")
    ast = expressions.parse_expression("x > 1 & z == 1")
    d = build_design(base_spec(if_expr=ast, if_text="x > 1 & z == 1"), small)
    expected = small.index[(small.x > 1) & (small.z == 1)]
    assert list(d.index) == list(expected)


def test_if_missing_is_true(small):
    expressions = pytest.importorskip("memodels.syntax.expressions")
    data = small.copy()
    data.loc[0, "o"] = np.nan
    ast = expressions.parse_expression("o")
    d = build_design(base_spec(if_expr=ast), data)
    assert d.nobs == 10  # missing is nonzero, hence true


def test_empty_after_if(small):
    with pytest.raises(DataError, match="no observations.*if"):
        build_design(base_spec(if_expr=np.zeros(10, dtype=bool)), small)


def test_empty_after_missing(small):
    data = small.copy()
    data["x"] = np.nan
    with pytest.raises(DataError, match="no observations.*missing"):
        build_design(base_spec(), data)


def test_unknown_variable(small):
    with pytest.raises(VariableNotFoundError, match="nosuch"):
        build_design(spec("y", fixed=plain("nosuch"), equations=["g"]), small)
    with pytest.raises(VariableNotFoundError, match="lev"):
        build_design(spec("y", fixed=plain("x"), equations=["lev"]), small)


def test_input_not_mutated(productivity):
    data = productivity.copy()
    data.loc[3, "gsp"] = np.nan
    data["region"] = data["region"].astype(str)
    before = data.copy()
    s = spec(
        "gsp",
        fixed=(*plain("private", "emp"), t(i("region")), t(i("region"), c("hwy"))),
        equations=["region", REEquation("state", ("unemp",))],
        weight=Weight("fweight", "year"),
        extra_vars=("water",),
        if_expr=(data["year"] > 1971).to_numpy(),
    )
    build_design(s, data)
    pd.testing.assert_frame_equal(data, before)


def test_extra_vars(small):
    d = build_design(base_spec(extra_vars=("o", "g")), small)
    assert d.extra["o"].dtype == float
    np.testing.assert_allclose(d.extra["o"], 0.1)
    assert list(d.extra["g"][:3]) == ["a", "a", "b"]


def test_y_values_and_dtype(small):
    d = build_design(base_spec(in_range=InRange(3, 4)), small)
    np.testing.assert_array_equal(d.y, [3.0, 4.0])
    assert d.y.dtype == float
