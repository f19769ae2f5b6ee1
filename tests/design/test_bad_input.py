"""Ordinary but awkward input (reliability audit, finding 4 and the bad-data case table):
each case is a clear memodels error with Stata's wording and return code, or a fit that
an independent computation confirms -- never an internal exception."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import memodels
from memodels.design.collinear import MAX_LOCATION_RATIO_CENTRED, collinear_columns
from memodels.errors import DataError


def _data(n_groups: int = 40, per: int = 10, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(n_groups), per)
    x = rng.normal(size=g.size)
    y = 1 + 0.5 * x + rng.normal(size=n_groups)[g] + rng.normal(size=g.size)
    return pd.DataFrame({"y": y, "x": x, "z": rng.normal(size=g.size), "g": g,
                         "b": (y > 1).astype(int)})


def _fit(cmd: str, df: pd.DataFrame):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return memodels.fit(cmd + ", nolog", df)


# ------------------------------------------------------------- factor variables
@pytest.mark.parametrize("cmd", ["mixed y i.x || g:", "mixed y c.z##i.x || g:",
                                 "mixed y i.x#c.z || g:", "melogit b i.x || g:"])
def test_factor_of_noninteger_values_is_r452(cmd):
    df = _data()
    with pytest.raises(DataError, match="factor variables may not contain noninteger "
                                        "values: i.x") as info:
        _fit(cmd, df)
    assert info.value.rc == 452


def test_factor_of_integer_valued_floats_is_fine():
    df = _data().assign(f=lambda d: (d["g"] % 3).astype(float))
    res = _fit("mixed y x i.f || g:", df)
    assert {"1.f", "2.f"} <= set(res.params.index)


# ---------------------------------------------------------- duplicated columns
@pytest.mark.parametrize(("dup", "cmd"), [("x", "mixed y x || g:"), ("g", "melogit b x || g:"),
                                          ("b", "melogit b x || g:")])
def test_duplicated_column_name_is_named(dup, cmd):
    df = _data()
    twice = pd.concat([df, df[[dup]]], axis=1)
    before = twice.copy()
    with pytest.raises(DataError, match=f"variable {dup} defined more than once") as info:
        _fit(cmd, twice)
    assert info.value.rc == 110
    pd.testing.assert_frame_equal(twice, before)


def test_duplicated_column_not_used_by_the_model_is_ignored():
    df = _data()
    twice = pd.concat([df, df[["z"]]], axis=1)
    a, b = _fit("mixed y x || g:", twice), _fit("mixed y x || g:", df)
    np.testing.assert_allclose(a.params.to_numpy(), b.params.to_numpy(), rtol=1e-10)


# ------------------------------------------------- pd.NA in string group ids
@pytest.mark.parametrize("dtype", ["string", "string[pyarrow]", "object"])
def test_missing_string_group_ids_are_dropped(dtype):
    """pd.NA (or None) in a string group id is Stata's missing: those observations are
    left out, exactly as if they had been deleted first."""
    if dtype == "string[pyarrow]":
        pytest.importorskip("pyarrow")
    df = _data()
    ids = pd.array([f"s{v}" for v in df["g"]], dtype=None if dtype == "object" else dtype)
    with_na = df.assign(g=ids)
    drop = [3, 17, 250]
    for r in drop:
        with_na.loc[r, "g"] = pd.NA if dtype != "object" else None
    with_na.loc[5, "g"] = ""  # the empty string is missing too
    kept = with_na.drop(index=[*drop, 5]).assign(
        g=lambda d: d["g"].astype(object).astype(str))
    for cmd in ("mixed y x || g:", "melogit b x || g:", "mixed y x i.g || g:"):
        a, b = _fit(cmd, with_na), _fit(cmd, kept)
        assert a.nobs == len(df) - 4
        np.testing.assert_allclose(a.llf, b.llf, rtol=1e-8)
        np.testing.assert_allclose(a.params.to_numpy(), b.params.to_numpy(), rtol=1e-5,
                                   atol=1e-8)


# ------------------------------------------------------- infinite / huge values
@pytest.mark.parametrize("bad", [np.inf, -np.inf, 1e300])
@pytest.mark.parametrize("cmd", ["mixed y x || g:", "melogit y x || g:"])
def test_infinite_or_huge_outcome_refused(bad, cmd):
    df = _data()
    df.loc[7, "y"] = bad
    word = "infinite values" if np.isinf(bad) else "values too large"
    with pytest.raises(DataError, match=f"outcome variable y has {word}"):
        _fit(cmd, df)


@pytest.mark.parametrize("bad", [np.inf, 1e300])
def test_infinite_or_huge_covariate_refused(bad):
    df = _data()
    df.loc[7, "x"] = bad
    with pytest.raises(DataError, match="infinite|too large"):
        _fit("mixed y x || g:", df)


def test_large_but_ordinary_outcome_fits():
    """1e12 is ordinary: the fit is the unit-scale fit rescaled (mixed is equivariant)."""
    df = _data()
    a = _fit("mixed y x || g:", df)
    b = _fit("mixed y x || g:", df.assign(y=df["y"] * 1e12))
    np.testing.assert_allclose(b.params["x"], a.params["x"] * 1e12, rtol=1e-6)


# ----------------------------------------------------------- degenerate samples
def test_all_singleton_groups_refused_by_mixed():
    df = _data().assign(g=np.arange(400))
    with pytest.raises(DataError, match="every group of g has a single observation"):
        _fit("mixed y x || g:", df)


@pytest.mark.parametrize("rows", [[0, 1], [0, 10]])
def test_two_observations_is_insufficient(rows):
    with pytest.raises(DataError, match="insufficient observations") as info:
        _fit("mixed y x || g:", _data().iloc[rows])
    assert info.value.rc == 2001


def test_some_singleton_groups_still_fit():
    df = _data()
    df.loc[df.index[:20], "g"] = 1000 + np.arange(20)  # 20 singletons, the rest in tens
    res = _fit("mixed y x || g:", df)
    assert res.converged and np.isfinite(res.llf)


# -------------------------------------------------------------- collinearity
def test_collinearity_check_is_centring_aware():
    rng = np.random.default_rng(3)
    x = rng.normal(size=500)
    z = rng.normal(size=500)
    for shift in (0.0, 1e4, 1e8, 1e12):
        X = np.column_stack([x + shift, z, 2 * z + 3])  # the third is z's twin
        assert collinear_columns(X, constant=True).tolist() == [False, False, True]
        assert collinear_columns(np.column_stack([x + shift, np.full(500, shift + 1)]),
                                 constant=True).tolist() == [False, True]


def test_shifted_covariate_same_slope():
    """x + 1e4 carries the same information as x: same slope and log likelihood (the
    constant absorbs the shift), as ordinary least squares algebra says."""
    df = _data()
    a = _fit("mixed y x || g:", df)
    b = _fit("mixed y x || g:", df.assign(x=df["x"] + 1e4))
    np.testing.assert_allclose(b.params["x"], a.params["x"], rtol=1e-6)
    np.testing.assert_allclose(b.llf, a.llf, rtol=1e-9)
    np.testing.assert_allclose(b.params["_cons"], a.params["_cons"] - 1e4 * a.params["x"],
                               rtol=1e-6)


@pytest.mark.parametrize("shift", [1e11, 1e12])
def test_covariate_far_from_zero_refused_not_dropped(shift):
    """Not "omitted because of collinearity" (it is not collinear) and not a crash: a
    clear error asking to centre it (beyond 1e10 sd, where even internal centring in
    double precision loses the slope; x + 1e9 is fitted: tests/lmm/test_lmm_centering.py)."""
    df = _data()
    assert shift / df["x"].std() > MAX_LOCATION_RATIO_CENTRED
    with pytest.raises(DataError, match="covariate x cannot be estimated accurately.*"
                                        "centre it"):
        _fit("mixed y x || g:", df.assign(x=df["x"] + shift))


# ------------------------------------------- nested model, one top-level group
@pytest.mark.parametrize("command", ["melogit", "meqrlogit"])
def test_nested_with_single_top_group_is_not_crossed(command):
    """One school, many classes: nested, fitted with the top variance at zero and the
    two-level log likelihood (the top level adds nothing a single constant does not)."""
    df = _data().assign(h=1)
    three = _fit(f"{command} b x || h: || g:", df)
    two = _fit(f"{command} b x || g:", df)
    assert three.converged
    np.testing.assert_allclose(three.llf, two.llf, rtol=1e-6)
    np.testing.assert_allclose(three.params["x"], two.params["x"], rtol=1e-4)


# ------------------------------------------------------- other column types
def test_datetime_covariate_named_as_such_and_datetime_groups_fit():
    df = _data()
    df["t"] = pd.Timestamp("2020-01-01") + pd.to_timedelta(df.index % 7, unit="D")
    with pytest.raises(DataError, match="covariate 't' is a date/time variable"):
        _fit("mixed y x t || g:", df)
    as_dates = df.assign(g=pd.Timestamp("2020-01-01") + pd.to_timedelta(df["g"], unit="D"))
    np.testing.assert_allclose(_fit("mixed y x || g:", as_dates).llf,
                               _fit("mixed y x || g:", df).llf, rtol=1e-10)


def test_complex_covariate_refused():
    df = _data().assign(x=lambda d: d["x"] + 0.5j)
    with pytest.raises(DataError, match="covariate 'x' has complex values"):
        _fit("mixed y x || g:", df)


# ------------------------------------------- numerical failures of the engines
def test_numerical_failure_is_an_estimation_error(monkeypatch):
    """Whatever an engine's linear algebra raises on data it cannot handle reaches the
    user as an EstimationError naming the command (r(430)), from memodels.fit and from
    the command functions alike."""
    from memodels.commands import dispatch
    from memodels.errors import EstimationError

    def singular(*args, **kwargs):
        raise np.linalg.LinAlgError("Singular matrix")

    monkeypatch.setitem(dispatch.COMMANDS, "mixed", singular)
    with pytest.raises(EstimationError, match="mixed: the model could not be computed") as e:
        memodels.fit("mixed y x || g:", _data())
    assert e.value.rc == 430
    assert isinstance(e.value.__cause__, np.linalg.LinAlgError)
    assert memodels.melogit.__wrapped__.__name__ == "melogit"
    with pytest.raises(EstimationError, match="meqrlogit: the model could not be computed"):
        dispatch.guarded("meqrlogit", singular)("b x || g:", _data())


def test_singleton_groups_with_random_slope_only_fit():
    """y = x*u + e with a u per observation: var(y|x) = s2_u x^2 + s2_e, so both
    variances are identified even though every group is a single observation."""
    rng = np.random.default_rng(5)
    n = 2000
    x = rng.normal(size=n)
    y = x * rng.normal(size=n) + 0.5 * rng.normal(size=n)
    res = _fit("mixed y x || g: x, noconstant", pd.DataFrame({"y": y, "x": x, "g": np.arange(n)}))
    var = res.params.filter(like="var(").to_numpy()
    np.testing.assert_allclose(var, [1.0, 0.25], atol=0.12)


def test_categorical_outcome_uses_its_category_order():
    """A labelled outcome as pandas makes it (a Categorical of texts) is an outcome, not a
    "string variable" (reliability audit: valid input refused): the categories' order
    gives the codes, so melogit and meologit fit the same model as on 0/1 and 0/1/2."""
    import memodels

    rng = np.random.default_rng(11)
    g = np.repeat(np.arange(40), 8)
    x = rng.normal(size=g.size)
    lat = 0.8 * x + rng.normal(size=40)[g] + rng.logistic(size=g.size)
    y3 = np.searchsorted([-0.5, 1.0], lat)
    df = pd.DataFrame({"x": x, "g": g, "y3": y3, "yb": (lat > 0).astype(int)})
    lab = df.assign(
        yb=pd.Categorical.from_codes(df.yb, ["no", "yes"]),
        y3=pd.Categorical.from_codes(df.y3, ["low", "mid", "high"], ordered=True))
    a = memodels.melogit("yb x || g:", lab, nolog=True)
    b = memodels.melogit("yb x || g:", df, nolog=True)
    assert a.llf == pytest.approx(b.llf, abs=1e-8)
    c = memodels.meologit("y3 x || g:", lab, nolog=True)
    d = memodels.meologit("y3 x || g:", df, nolog=True)
    assert c.llf == pytest.approx(d.llf, abs=1e-8)
