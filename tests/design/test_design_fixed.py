"""Fixed-effects columns: names, order, bases, interactions, collinearity."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from design_spec_helpers import REFERENCE, c, factorial, i, names, plain, spec, statuses, t

from memodels.design import build_design
from memodels.errors import DataError
from memodels.spec import FactorVar, REEquation


@pytest.fixture
def fdata() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    n = 60
    return pd.DataFrame(
        {
            "y": rng.normal(size=n),
            "x": rng.normal(size=n),
            "a": np.tile([1, 2, 3], n // 3),
            "b": np.repeat([0, 1], n // 2),
            "f": np.r_[np.full(10, 1), np.full(30, 2), np.full(20, 3)],
            "id": np.repeat(np.arange(12), 5),
        }
    )


def build(data, fixed, **kw):
    return build_design(spec("y", fixed=fixed, equations=["id"], **kw), data)


def test_plain_and_constant(fdata):
    d = build(fdata, plain("x"))
    assert names(d) == ["x", "_cons"]
    np.testing.assert_array_equal(d.X[:, 0], fdata["x"].to_numpy())
    np.testing.assert_array_equal(d.X[:, 1], 1.0)
    assert d.columns[0].term == "x" and d.columns[0].level_labels == "x"
    assert d.kept_names == ["x", "_cons"]


def test_noconstant(fdata):
    d = build(fdata, plain("x"), noconstant=True)
    assert names(d) == ["x"]
    assert d.X.shape == (60, 1)


def test_constant_only(fdata):
    d = build(fdata, ())
    assert names(d) == ["_cons"]
    assert d.X.shape == (60, 1)


def test_no_fixed_at_all(fdata):
    d = build(fdata, (), noconstant=True)
    assert d.X.shape == (60, 0)
    assert d.columns == []


def test_factor_default_base(fdata):
    d = build(fdata, (t(i("a")),))
    assert names(d) == ["1.a", "2.a", "3.a", "_cons"]
    assert statuses(d)["1.a"] == "base"
    assert d.kept_names == ["2.a", "3.a", "_cons"]
    np.testing.assert_array_equal(d.X[:, 0], (fdata["a"] == 2).astype(float))
    assert [col.level_labels for col in d.columns[:3]] == ["1", "2", "3"]
    assert {col.term for col in d.columns[:3]} == {"a"}


def test_factor_base_noconstant_still_base(fdata):
    d = build(fdata, (t(i("a")),), noconstant=True)
    assert statuses(d)["1.a"] == "base"


@pytest.mark.parametrize(
    ("base", "expected"),
    [(2, "2.a"), ("last", "3.a"), ("first", "1.a")],
)
def test_factor_bases(fdata, base, expected):
    d = build(fdata, (t(i("a", base=base)),))
    assert names(d, "base") == [expected]


def test_factor_freq_base(fdata):
    d = build(fdata, (t(i("f", base="freq")),))
    assert names(d, "base") == ["2.f"]
    assert d.kept_names == ["1.f", "3.f", "_cons"]


def test_factor_freq_tie_takes_smallest(fdata):
    d = build(fdata, (t(i("a", base="freq")),))
    assert names(d, "base") == ["1.a"]


def test_ibn_no_base(fdata):
    d = build(fdata, (t(i("a", base="none")),), noconstant=True)
    assert d.kept_names == ["1.a", "2.a", "3.a"]
    assert d.notes == []


def test_ibn_with_constant_omits_last(fdata):
    d = build(fdata, (t(i("a", base="none")),))
    assert statuses(d)["3.a"] == "omitted"
    assert d.notes == ["note: 3.a omitted because of collinearity"]
    assert d.kept_names == ["1.a", "2.a", "_cons"]


def test_missing_base_value(fdata):
    with pytest.raises(DataError, match="level 7"):
        build(fdata, (t(i("a", base=7)),))


def test_selected_levels(fdata):
    d = build(fdata, (t(i("a", levels=(2.0, 3.0))),))
    assert names(d) == ["2.a", "3.a", "_cons"]
    assert d.kept_names == ["2.a", "3.a", "_cons"]


def test_levels_only_from_sample(fdata):
    d = build(fdata, (t(i("a")),), if_expr=(fdata["a"] != 3).to_numpy())
    assert names(d) == ["1.a", "2.a", "_cons"]


def test_factor_interaction_continuous_without_main_effect(fdata):
    # [ME] mixed ex. 6: i.girl#c.age with no c.age main effect -> both slopes estimated
    d = build(fdata, (t(i("b")), t(i("b"), c("x"))))
    assert names(d) == ["0.b", "1.b", "0.b#c.x", "1.b#c.x", "_cons"]
    assert d.kept_names == ["1.b", "0.b#c.x", "1.b#c.x", "_cons"]
    x = fdata["x"].to_numpy()
    b = fdata["b"].to_numpy()
    np.testing.assert_allclose(d.X[:, 1], x * (b == 0))
    np.testing.assert_allclose(d.X[:, 2], x * (b == 1))
    assert d.columns[2].term == "b#c.x"
    assert d.columns[2].level_labels == "0"


def test_factor_interaction_continuous_with_main_effect(fdata):
    d = build(fdata, (t(i("b")), t(c("x")), t(i("b"), c("x"))))
    assert statuses(d)["0.b#c.x"] == "base"
    assert d.kept_names == ["1.b", "x", "1.b#c.x", "_cons"]


def test_continuous_squared(fdata):
    d = build(fdata, (t(c("x")), t(c("x", True), c("x", True))))
    assert names(d) == ["x", "c.x#c.x", "_cons"]
    np.testing.assert_allclose(d.X[:, 1], fdata["x"].to_numpy() ** 2)
    assert d.columns[1].term == "c.x#c.x"
    assert d.columns[1].level_labels == "c.x#c.x"


def test_interaction_alone_is_cell_means(fdata):
    d = build(fdata, (t(i("a"), i("b")),))
    assert names(d, "base") == ["1.a#0.b"]
    assert d.kept_names == ["1.a#1.b", "2.a#0.b", "2.a#1.b", "3.a#0.b", "3.a#1.b", "_cons"]
    assert d.notes == []


def test_full_factorial(fdata):
    d = build(fdata, factorial(i("a"), i("b")))
    assert d.kept_names == ["2.a", "3.a", "1.b", "2.a#1.b", "3.a#1.b", "_cons"]
    assert names(d, "base") == ["1.a", "0.b", "1.a#0.b", "1.a#1.b", "2.a#0.b", "3.a#0.b"]
    assert [col.level_labels for col in d.columns if col.term == "a#b"] == [
        "1#0",
        "1#1",
        "2#0",
        "2#1",
        "3#0",
        "3#1",
    ]
    col = d.kept_names.index("3.a#1.b")
    expected = ((fdata["a"] == 3) & (fdata["b"] == 1)).astype(float)
    np.testing.assert_array_equal(d.X[:, col], expected)


def test_interaction_base_with_other_bases(fdata):
    d = build(fdata, factorial(i("a", base=3), i("b", base="last")))
    assert d.kept_names == ["1.a", "2.a", "0.b", "1.a#0.b", "2.a#0.b", "_cons"]


def test_empty_cells(fdata):
    data = fdata.copy()
    data.loc[(data.a == 3) & (data.b == 1), "a"] = 2
    d = build(data, factorial(i("a"), i("b")))
    assert statuses(d)["3.a#1.b"] == "empty"
    assert d.kept_names == ["2.a", "3.a", "1.b", "2.a#1.b", "_cons"]
    assert d.notes == []


def test_three_way_with_continuous(fdata):
    d = build(fdata, (t(c("x")), t(i("a"), i("b"), c("x"))))
    assert names(d)[1:4] == ["1.a#0.b#c.x", "1.a#1.b#c.x", "2.a#0.b#c.x"]
    assert names(d, "base") == ["1.a#0.b#c.x"]


def test_exercise_matches_stata_names(exercise):
    ref = {e["id"]: e for e in json.loads((REFERENCE / "examples_mixed.json").read_text())}
    ex = ref["mixed_ex9a"]
    data = exercise[exercise["day"].isin([0, 4, 6, 8, 12])]
    s = spec(
        "strength",
        fixed=factorial(i("program"), i("day")),
        equations=[REEquation("id", noconstant=True)],
    )
    d = build_design(s, data)
    assert d.nobs == ex["n_obs"]
    kept = [col for col in d.columns if col.status == "ok"]
    stata_rows = [r["term"] for r in ex["table"] if "Residual" not in r["term"]]
    ours = []
    for col in kept:
        if col.name == "_cons" or col.term == "program":
            ours.append(col.name)
        else:
            ours.append(f"{col.term}: {col.level_labels.replace('#', ' ')}")
    assert ours == stata_rows
    assert len(d.kept_names) - 1 == ex["other"]["wald_df"]


def test_clippings_collinearity_notes():
    # [ME] me, example 2: ibn.nitrogen##ibn.thatch ibn.block, noconstant
    nitrolab = ["urea", "ammonium sulphate", "IBDU", "Urea (SC)"]
    grid = pd.MultiIndex.from_product(
        [range(4), [2, 5, 8], [1, 2]], names=["n", "thatch", "block"]
    ).to_frame(index=False)
    grid["nitrogen"] = pd.Categorical.from_codes(grid["n"], categories=nitrolab)
    grid["chlorophyll"] = np.linspace(3, 9, len(grid))
    grid["wpunit"] = grid["n"] * 2 + grid["block"]
    fixed = (
        *factorial(i("nitrogen", base="none"), i("thatch", base="none")),
        t(i("block", base="none")),
    )
    s = spec("chlorophyll", fixed=fixed, equations=["wpunit"], noconstant=True)
    d = build_design(s, grid)
    assert d.notes == [
        "note: 8.thatch omitted because of collinearity",
        "note: 1.nitrogen#8.thatch omitted because of collinearity",
        "note: 2.nitrogen#8.thatch omitted because of collinearity",
        "note: 3.nitrogen#8.thatch omitted because of collinearity",
        "note: 4.nitrogen#2.thatch omitted because of collinearity",
        "note: 4.nitrogen#5.thatch omitted because of collinearity",
        "note: 4.nitrogen#8.thatch omitted because of collinearity",
        "note: 2.block omitted because of collinearity",
    ]
    assert len(d.kept_names) == 13  # Wald chi2(13)
    labels = [col.level_labels for col in d.columns if col.status == "ok"]
    assert labels[:4] == nitrolab
    assert labels[6:8] == ["urea#2", "urea#5"]


def test_duplicated_column_omitted(fdata):
    data = fdata.assign(x2=fdata["x"] * 2.0)
    d = build(data, plain("x", "x2"))
    assert statuses(d) == {"x": "ok", "x2": "omitted", "_cons": "ok"}
    assert d.notes == ["note: x2 omitted because of collinearity"]
    assert d.X.shape == (60, 2)


def test_constant_covariate_omitted(fdata):
    data = fdata.assign(k=5.0)
    d = build(data, plain("k", "x"))
    assert statuses(d)["k"] == "omitted"
    d = build(data, plain("k", "x"), noconstant=True)
    assert statuses(d)["k"] == "ok"


def test_linear_combination_omitted(fdata):
    data = fdata.assign(s=fdata["x"] + 3 * fdata["b"] - 1)
    d = build(data, (t(c("x")), t(i("b")), t(c("s"))))
    assert statuses(d)["s"] == "omitted"


def test_nearly_but_not_collinear_kept(fdata):
    rng = np.random.default_rng(5)
    data = fdata.assign(x2=fdata["x"] + 1e-6 * rng.normal(size=len(fdata)))
    d = build(data, plain("x", "x2"))
    assert statuses(d)["x2"] == "ok"


def test_string_factor_levels():
    data = pd.DataFrame(
        {
            "y": np.arange(8.0),
            "g": ["b", "a", "c", "b", "a", "c", "b", "a"],
            "id": [1, 1, 2, 2, 3, 3, 4, 4],
        }
    )
    d = build_design(spec("y", fixed=(t(i("g")),), equations=["id"]), data)
    assert names(d) == ["1.g", "2.g", "3.g", "_cons"]
    assert [col.level_labels for col in d.columns[:3]] == ["a", "b", "c"]
    # coding follows the whole column (like encode), even when a level leaves the sample
    d = build_design(
        spec("y", fixed=(t(i("g")),), equations=["id"], if_expr=(data.g != "a").to_numpy()),
        data,
    )
    assert names(d) == ["2.g", "3.g", "_cons"]
    assert statuses(d)["2.g"] == "base"


def test_categorical_value_labels():
    data = pd.DataFrame(
        {
            "y": np.arange(6.0),
            "girl": pd.Categorical(["boy", "girl"] * 3, categories=["boy", "girl"]),
            "age": [1.0, 2.0, 3.0, 1.5, 2.5, 0.5],
            "id": [1, 1, 2, 2, 3, 3],
        }
    )
    fixed = (t(i("girl")), t(i("girl"), c("age")))
    d = build_design(spec("y", fixed=fixed, equations=["id"]), data)
    assert names(d) == ["1.girl", "2.girl", "1.girl#c.age", "2.girl#c.age", "_cons"]
    assert [col.level_labels for col in d.columns[:4]] == ["boy", "girl", "boy", "girl"]


def test_non_integer_numeric_levels():
    """[U] 11.4.3: "factor variables may not contain noninteger values" (r(452))."""
    data = pd.DataFrame({"y": np.arange(6.0), "h": [0.5, 1.5, -1.0] * 2, "id": [1, 2] * 3})
    with pytest.raises(DataError, match="may not contain noninteger values: i.h") as info:
        build_design(spec("y", fixed=(t(i("h")),), equations=["id"]), data)
    assert info.value.rc == 452


def test_negative_integer_levels_named():
    data = pd.DataFrame({"y": np.arange(6.0), "h": [0.0, 2.0, -1.0] * 2, "id": [1, 2] * 3})
    d = build_design(spec("y", fixed=(t(i("h")),), equations=["id"]), data)
    assert names(d) == ["-1.h", "0.h", "2.h", "_cons"]


def test_string_depvar_error():
    data = pd.DataFrame({"y": ["a", "b"], "x": [1.0, 2.0], "id": [1, 2]})
    with pytest.raises(DataError, match="'y' is a string variable"):
        build_design(spec("y", fixed=plain("x"), equations=["id"]), data)


def test_string_covariate_suggests_factor():
    data = pd.DataFrame({"y": [1.0, 2.0], "s": ["a", "b"], "id": [1, 2]})
    with pytest.raises(DataError, match=r"'s' is a string variable.*i\.s"):
        build_design(spec("y", fixed=plain("s"), equations=["id"]), data)


def test_categorical_string_covariate_error():
    data = pd.DataFrame({"y": [1.0, 2.0], "s": pd.Categorical(["a", "b"]), "id": [1, 2]})
    with pytest.raises(DataError, match="string variable"):
        build_design(spec("y", fixed=plain("s"), equations=["id"]), data)


def test_bool_and_nullable_covariates():
    data = pd.DataFrame(
        {
            "y": np.arange(4.0),
            "flag": [True, False, True, False],
            "k": pd.array([1, 2, 3, 5], dtype="Int64"),
            "id": [1, 1, 2, 2],
        }
    )
    d = build_design(spec("y", fixed=plain("flag", "k"), equations=["id"]), data)
    np.testing.assert_array_equal(d.X[:, 0], [1, 0, 1, 0])
    np.testing.assert_array_equal(d.X[:, 1], [1, 2, 3, 5])


def test_factor_var_dataclass_defaults():
    assert FactorVar("x").kind == "c"
