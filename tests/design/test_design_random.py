"""Random-effects terms, nesting, repeated levels and the group table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from design_spec_helpers import plain, spec

from memodels.design import build_design
from memodels.errors import DataError, OptionError, StataSyntaxError, VariableNotFoundError
from memodels.spec import REEquation, Weight

PROD_X = ("private", "emp", "hwy", "water", "other", "unemp")


def test_two_level_pig(pig):
    d = build_design(spec("weight", fixed=plain("week"), equations=["id"]), pig)
    (term,) = d.terms
    assert term.level == "id" and term.path == "id"
    assert term.n_groups == 48
    assert term.names == ("_cons",)
    assert term.covariance == "identity"
    assert term.Z.shape == (432, 1)
    assert term.q == 1
    np.testing.assert_array_equal(term.groups, pig["id"].to_numpy() - 1)
    (lev,) = d.levels
    assert (lev.n_groups, lev.min, lev.avg, lev.max) == (48, 9, 9.0, 9)


def test_random_slope_default_independent(pig):
    d = build_design(
        spec("weight", fixed=plain("week"), equations=[REEquation("id", ("week",))]), pig
    )
    term = d.terms[0]
    assert term.names == ("week", "_cons")
    assert term.covariance == "independent"
    np.testing.assert_array_equal(term.Z[:, 0], pig["week"].to_numpy())
    np.testing.assert_array_equal(term.Z[:, 1], 1.0)


@pytest.mark.parametrize(
    ("given", "expected"),
    [("unstructured", "unstructured"), ("un", "unstructured"), ("exchangeable", "exchangeable")],
)
def test_covariance_choice(pig, given, expected):
    eq = REEquation("id", ("week",), covariance=given)
    d = build_design(spec("weight", fixed=plain("week"), equations=[eq]), pig)
    assert d.terms[0].covariance == expected


def test_unstructured_with_one_effect_is_fine(pig):
    eq = REEquation("id", covariance="unstructured")
    d = build_design(spec("weight", fixed=plain("week"), equations=[eq]), pig)
    assert d.terms[0].covariance == "unstructured"


def test_nested_productivity(productivity):
    s = spec("gsp", fixed=plain(*PROD_X), equations=["region", "state"])
    d = build_design(s, productivity)
    assert [t.path for t in d.terms] == ["region", "region>state"]
    assert [t.n_groups for t in d.terms] == [9, 48]
    region, state = d.levels
    assert (region.level, region.n_groups, region.min, region.max) == ("region", 9, 51, 136)
    assert round(region.avg, 1) == 90.7
    assert (state.level, state.path, state.n_groups) == ("state", "region>state", 48)
    assert (state.min, state.avg, state.max) == (17, 17.0, 17)


def test_nesting_enforced_when_codes_repeat(productivity):
    data = productivity.copy()
    # renumber states within region: codes now repeat across regions
    data["state"] = data.groupby("region")["state"].rank(method="dense").astype(int)
    assert data["state"].nunique() < 48
    s = spec("gsp", fixed=plain(*PROD_X), equations=["region", "state"])
    d = build_design(s, data)
    assert d.terms[1].n_groups == 48
    assert d.levels[1].min == 17


def test_group_codes_sorted_outer_first():
    data = pd.DataFrame(
        {
            "y": np.arange(6.0),
            "school": [2, 2, 1, 1, 2, 1],
            "cls": ["b", "a", "b", "a", "b", "a"],
        }
    )
    d = build_design(spec("y", equations=["school", "cls"]), data)
    np.testing.assert_array_equal(d.terms[0].groups, [1, 1, 0, 0, 1, 0])
    # (1,a)=0 (1,b)=1 (2,a)=2 (2,b)=3
    np.testing.assert_array_equal(d.terms[1].groups, [3, 2, 1, 0, 3, 0])
    assert d.terms[1].path == "school>cls"


def test_all_rfactor_pig(pig):
    eq = REEquation("_all", rfactor="id", noconstant=True)
    d = build_design(spec("weight", fixed=plain("week"), equations=[eq]), pig)
    (term,) = d.terms
    assert term.level == "_all" and term.path == "_all"
    assert term.n_groups == 1
    np.testing.assert_array_equal(term.groups, 0)
    assert term.rfactor == "id"
    assert term.names == ("R.id",)
    assert term.Z is None
    assert term.rfactor_levels == tuple(range(1, 49))
    assert term.q == 48
    np.testing.assert_array_equal(term.rfactor_codes, pig["id"].to_numpy() - 1)
    assert term.covariance == "identity"
    (lev,) = d.levels
    assert (lev.level, lev.n_groups, lev.min, lev.avg, lev.max) == ("_all", 1, 432, 432.0, 432)


def test_all_then_nested_level(pig):
    eqs = [REEquation("_all", rfactor="week", noconstant=True), REEquation("id")]
    d = build_design(spec("weight", fixed=plain("week"), equations=eqs), pig)
    assert [t.path for t in d.terms] == ["_all", "id"]
    assert d.terms[1].n_groups == 48
    assert [lv.level for lv in d.levels] == ["_all", "id"]


def test_crossed_all_twice_counts_one_level(pig):
    eqs = [
        REEquation("_all", rfactor="week", noconstant=True),
        REEquation("_all", rfactor="id", noconstant=True),
    ]
    d = build_design(spec("weight", fixed=plain("week"), equations=eqs), pig)
    assert len(d.terms) == 2 and len(d.levels) == 1
    assert d.terms[0].q == 9 and d.terms[1].q == 48


def test_rfactor_within_level(productivity):
    eq = REEquation("region", rfactor="state", noconstant=True, covariance="exchangeable")
    d = build_design(spec("gsp", fixed=plain(*PROD_X), equations=[eq]), productivity)
    term = d.terms[0]
    assert term.n_groups == 9 and term.q == 48
    assert term.covariance == "exchangeable"


def test_rfactor_bad_covariance(pig):
    eq = REEquation("_all", rfactor="id", noconstant=True, covariance="unstructured")
    with pytest.raises(OptionError, match="R.id"):
        build_design(spec("weight", equations=[eq]), pig)


def test_repeated_levels_constant_in_last(productivity):
    eqs = [
        REEquation("region", ("hwy", "unemp"), covariance="identity"),
        REEquation("region"),
        REEquation("state"),
    ]
    d = build_design(spec("gsp", fixed=plain(*PROD_X), equations=eqs), productivity)
    assert [t.names for t in d.terms] == [("hwy", "unemp"), ("_cons",), ("_cons",)]
    assert [t.path for t in d.terms] == ["region", "region", "region>state"]
    np.testing.assert_array_equal(d.terms[0].groups, d.terms[1].groups)
    assert [t.covariance for t in d.terms] == ["identity", "identity", "identity"]
    assert [(lv.level, lv.n_groups) for lv in d.levels] == [("region", 9), ("state", 48)]


def test_repeated_levels_both_noconstant():
    data = pd.DataFrame(
        {
            "y": np.arange(8.0),
            "id": [1, 1, 2, 2, 3, 3, 4, 4],
            "boy": [1.0, 1, 0, 0, 1, 1, 0, 0],
            "girl": [0.0, 0, 1, 1, 0, 0, 1, 1],
        }
    )
    eqs = [
        REEquation("id", ("boy",), noconstant=True),
        REEquation("id", ("girl",), noconstant=True),
    ]
    d = build_design(spec("y", equations=eqs), data)
    assert [t.names for t in d.terms] == [("boy",), ("girl",)]
    assert len(d.levels) == 1


def test_repeated_level_last_noconstant_moves_constant():
    data = pd.DataFrame({"y": np.arange(4.0), "id": [1, 1, 2, 2], "x": [1.0, 2, 3, 5]})
    eqs = [REEquation("id"), REEquation("id", ("x",), noconstant=True)]
    d = build_design(spec("y", equations=eqs), data)
    assert [t.names for t in d.terms] == [("_cons",), ("x",)]


def test_non_consecutive_repeat_is_error(productivity):
    eqs = [REEquation("region"), REEquation("state"), REEquation("region")]
    with pytest.raises(StataSyntaxError, match="region"):
        build_design(spec("gsp", equations=eqs), productivity)


def test_empty_equation(exercise):
    eq = REEquation("id", noconstant=True)
    d = build_design(spec("strength", equations=[eq]), exercise)
    term = d.terms[0]
    assert term.Z.shape == (d.nobs, 0)
    assert term.names == ()
    assert term.n_groups == 37
    assert term.q == 0


def test_factor_operator_in_re_equation(pig):
    with pytest.raises(StataSyntaxError, match="i.week"):
        build_design(spec("weight", equations=[REEquation("id", ("i.week",))]), pig)


def test_string_re_covariate_error():
    data = pd.DataFrame({"y": [1.0, 2.0], "s": ["a", "b"], "id": [1, 2]})
    with pytest.raises(DataError, match="'s' is a string"):
        build_design(spec("y", equations=[REEquation("id", ("s",))]), data)


def test_unknown_re_variable(pig):
    with pytest.raises(VariableNotFoundError, match="nosuch"):
        build_design(spec("weight", equations=[REEquation("id", ("nosuch",))]), pig)


def test_collinear_re_covariate_dropped_unless_collinear(pig):
    data = pig.assign(week2=pig["week"] * 2.0)
    eq = REEquation("id", ("week", "week2"))
    d = build_design(spec("weight", equations=[eq]), data)
    assert d.terms[0].names == ("week", "_cons")
    assert any("week2 omitted" in note for note in d.notes)
    eq = REEquation("id", ("week", "week2"), collinear=True)
    d = build_design(spec("weight", equations=[eq]), data)
    assert d.terms[0].names == ("week", "week2", "_cons")


def test_string_level_variable():
    data = pd.DataFrame({"y": np.arange(6.0), "g": ["x", "y", "x", "z", "z", "z"]})
    d = build_design(spec("y", equations=["g"]), data)
    np.testing.assert_array_equal(d.terms[0].groups, [0, 1, 0, 2, 2, 2])
    lev = d.levels[0]
    assert (lev.n_groups, lev.min, lev.max) == (3, 1, 3)


def test_crossed_lme4_terms():
    data = pd.DataFrame(
        {"y": np.arange(8.0), "a": [1, 1, 2, 2, 1, 1, 2, 2], "b": [1, 2, 1, 2, 3, 4, 3, 4]}
    )
    eqs = [REEquation("a", nested=False), REEquation("b", nested=False)]
    d = build_design(spec("y", equations=eqs), data)
    assert [t.n_groups for t in d.terms] == [2, 4]
    assert [t.path for t in d.terms] == ["a", "b"]


def test_level_weights(productivity):
    data = productivity.assign(rw=productivity["region"] * 1.5, bad=productivity["year"] * 1.0)
    eq = REEquation("region", weight=Weight("pweight", "rw"))
    d = build_design(spec("gsp", fixed=plain("hwy"), equations=[eq]), data)
    term = d.terms[0]
    assert term.level_weight_kind == "pweight"
    np.testing.assert_array_equal(term.level_weights, data["rw"].to_numpy())
    eq = REEquation("region", weight=Weight("pweight", "bad"))
    with pytest.raises(DataError, match="not constant within groups of level 'region'"):
        build_design(spec("gsp", fixed=plain("hwy"), equations=[eq]), data)


def test_level_weight_missing_drops_rows(productivity):
    data = productivity.assign(rw=productivity["region"] * 1.0)
    data.loc[data["region"] == 1, "rw"] = np.nan
    eq = REEquation("region", weight=Weight("fweight", "rw"))
    d = build_design(spec("gsp", fixed=plain("hwy"), equations=[eq]), data)
    assert d.terms[0].n_groups == 8
    assert d.n_dropped == int((productivity["region"] == 1).sum())
