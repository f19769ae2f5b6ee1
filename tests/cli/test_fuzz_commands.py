"""Property test: the twelve estimation commands on fuzzed command lines and awkward data
shapes (tiny groups, singletons, constant or missing outcomes, string ids, shifted or
collinear covariates) either fit or raise a :class:`memodels.errors.MemodelsError` --
never an internal exception -- and never modify the caller's DataFrame (reliability
audit, finding 4; project rule "Never IndexError/KeyError/TypeError/LinAlgError escaping
to a user").  Examples are fixed by tests/conftest.py (derandomized)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import memodels
from memodels.errors import MemodelsError
from memodels.session import Session, SessionError

COMMANDS = ["mixed", "meglm", "melogit", "meprobit", "mecloglog", "mepoisson", "menbreg",
            "meologit", "meoprobit", "mestreg", "meqrlogit", "meqrpoisson"]
OUTCOMES = {"mixed": "y", "meglm": "y", "melogit": "b", "meprobit": "b", "mecloglog": "b",
            "mepoisson": "c", "menbreg": "c", "meologit": "o", "meoprobit": "o",
            "mestreg": "", "meqrlogit": "b", "meqrpoisson": "c"}
FIXED = ["", "x", "x z", "i.f", "c.x##c.z", "i.f#c.x", "x xs", "x x2", "i.f x", "s"]
RANDOM = ["|| g:", "|| g: x", "|| g: x, covariance(unstructured)", "|| h: || g:",
          "|| g: x, noconstant", "|| _all: R.f || g:", "", "|| s:", "|| g: || h:"]
OPTIONS = ["", "", "", "", "", "", "reml", "or", "intpoints(2)", "laplace", "nosuchoption",
           "noconstant", "level(90)"]


@st.composite
def datasets(draw) -> pd.DataFrame:
    n_groups = draw(st.integers(1, 6))
    sizes = draw(st.lists(st.integers(1, 6), min_size=n_groups, max_size=n_groups))
    g = np.repeat(np.arange(n_groups), sizes)
    n = g.size
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    y = 0.5 * x + rng.normal(size=n_groups)[g] + rng.normal(size=n)
    df = pd.DataFrame({
        "y": y, "x": x, "z": rng.normal(size=n), "g": g, "h": g // 2,
        "b": (y > 0).astype(int), "c": rng.poisson(np.exp(0.3 * x)),
        "o": np.digitize(y, [-0.5, 0.5]) + 1, "f": rng.integers(1, 4, size=n),
    })
    df["xs"] = df["x"] + draw(st.sampled_from([0.0, 1e4, 1e9]))
    df["x2"] = 2 * df["x"] + 1
    df["s"] = np.array(["a", "b", "c"])[df["f"] - 1]
    quirk = draw(st.sampled_from(["none", "const_y", "const_b", "nan_y", "string_g",
                                  "na_string_g", "float_f", "zero_c", "one_row",
                                  "singletons", "cat_g", "inf_y", "dup_x", "bool_b",
                                  "all_missing_x", "int_g_na"]))
    if quirk == "const_y":
        df["y"] = 1.0
    elif quirk == "const_b":
        df["b"] = 1
    elif quirk == "nan_y":
        df.loc[df.index[::2], ["y", "b", "c"]] = np.nan
    elif quirk == "string_g":
        df["g"] = "grp" + df["g"].astype(str)
    elif quirk == "na_string_g":
        df["g"] = pd.array(["grp" + str(v) for v in df["g"]], dtype="string")
        df.loc[df.index[0], "g"] = pd.NA
    elif quirk == "float_f":
        df["f"] = df["f"] + 0.5
    elif quirk == "zero_c":
        df["c"] = 0
    elif quirk == "one_row":
        df = df.iloc[:1]
    elif quirk == "singletons":
        df["g"] = np.arange(len(df))
    elif quirk == "cat_g":
        df["g"] = pd.Categorical(df["g"])
    elif quirk == "inf_y":
        df["c"] = df["c"].astype(float)
        df.loc[df.index[0], ["y", "c"]] = np.inf
    elif quirk == "dup_x":
        df = pd.concat([df, df[["x"]]], axis=1)
    elif quirk == "bool_b":
        df["b"] = df["b"].astype(bool)
    elif quirk == "all_missing_x":
        df["x"] = np.nan
    elif quirk == "int_g_na":
        df["g"] = pd.array(df["g"], dtype="Int64")
        df.loc[df.index[-1], "g"] = pd.NA
    return df


@st.composite
def command_lines(draw) -> str:
    cmd = draw(st.sampled_from(COMMANDS))
    fixed = draw(st.sampled_from(FIXED))
    random = draw(st.sampled_from(RANDOM))
    option = draw(st.sampled_from(OPTIONS))
    outcome = OUTCOMES[cmd]
    body = " ".join(p for p in (outcome, fixed, random) if p)
    opts = ", ".join(o for o in ("nolog iterate(5)", option) if o)
    sep = " " if random and "," in random else ", "
    return f"{cmd} {body}{sep}{opts}".replace(", , ", ", ")


def _fit_or_memodels_error(line: str, data: pd.DataFrame) -> None:
    before = data.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            res = memodels.fit(line, data)
        except MemodelsError:
            pass
        else:
            assert np.isfinite(res.llf) or not res.converged, line
    pd.testing.assert_frame_equal(data, before)


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(line=command_lines(), data=datasets())
def test_commands_fit_or_raise_memodels_errors(line, data):
    _fit_or_memodels_error(line, data)


@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@given(line=command_lines(), data=datasets(),
       prefix=st.sampled_from(["", "quietly ", "capture ", "capture noisily "]))
def test_session_raises_only_session_errors(line, data, prefix):
    s = Session(data)
    try:
        s.run(prefix + line)
    except MemodelsError:
        assert not prefix.startswith("capture")
    if prefix.startswith("capture"):
        assert isinstance(s.rc, int)
    assert issubclass(SessionError, MemodelsError)
