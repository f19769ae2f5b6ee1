"""stset: the declared variables (_t0, _t, _d), the settings echoed by mestreg, and the
errors for invalid survival data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from memodels.errors import DataError
from memodels.survival import StData, is_stset, stset


def _df(**cols):
    return pd.DataFrame(cols)


def test_basic_single_record():
    df = _df(time=[8.0, 16, 23], infect=[1, 0, 1], x=[1, 2, 3])
    st = stset(df, "time", "infect")
    assert isinstance(st, StData) and is_stset(st)
    assert st["_t"].tolist() == [8, 16, 23]
    assert st["_t0"].tolist() == [0, 0, 0]
    assert st["_d"].tolist() == [1, 0, 1]
    assert st.st.n_failures == 2 and st.st.total_time == 47
    assert st.st.header_lines() == ["         failure _d:  infect",
                                    "   analysis time _t:  time"]
    assert "_t" not in df.columns  # input untouched
    assert not is_stset(df)


def test_failure_rule_nonzero_nonmissing():
    # Stata: failure event: infect != 0 & infect < .
    df = _df(time=[1.0, 2, 3, 4], status=[0, 2, np.nan, -1])
    st = stset(df, "time", failure="status")
    assert st["_d"].tolist() == [0, 1, 0, 1]
    st2 = stset(df, "time", failure="status==2")
    assert st2["_d"].tolist() == [0, 1, 0, 0]
    st3 = stset(df, "time", failure=("status", [2, -1]))
    assert st3["_d"].tolist() == [0, 1, 0, 1]
    assert st2.st.failure_label == "status == 2"
    assert stset(df, "time")["_d"].tolist() == [1, 1, 1, 1]


def test_origin_scale_enter():
    df = _df(tend=[10.0, 20], tstart=[4.0, 5], ent=[6.0, 0])
    st = stset(df, "tend", "tend", origin="time tstart", scale=2)
    assert st["_t"].tolist() == [3, 7.5]
    assert st.st.time_label == "(tend-origin)/2"
    st2 = stset(df, "tend", enter="ent")
    assert st2["_t0"].tolist() == [6, 0] and st2.st.delayed_entry


def test_multiple_records_per_subject():
    df = _df(id=[1, 1, 2, 1], t=[5.0, 2, 4, 9], f=[0, 0, 1, 1])
    st = stset(df, "t", "f", id="id")
    # records of subject 1 sorted by time: (0,2], (2,5], (5,9]; original row order kept
    assert st["_t0"].tolist() == [2, 0, 0, 5]
    assert st["_d"].tolist() == [0, 0, 1, 1]
    assert st.st.n_subjects == 2 and not st.st.delayed_entry
    assert "id:  id" in st.st.header_lines()[-1]


@pytest.mark.parametrize(
    "kwargs, data, match",
    [
        ({}, {"t": [1.0, np.nan]}, "missing"),
        ({}, {"t": [1.0, 0.0]}, "_t <= 0"),
        ({}, {"t": [1.0, -2.0]}, "_t <= 0"),
        ({"enter": "e"}, {"t": [1.0, 2.0], "e": [0.5, 2.0]}, "entry time on or after exit"),
        ({"enter": "e"}, {"t": [1.0, 2.0], "e": [0.5, np.nan]}, "enter"),
        ({"origin": "o"}, {"t": [1.0, 2.0], "o": [0.0, 3.0]}, "_t <= 0"),
        ({"id": "i"}, {"t": [1.0, 1.0], "i": [1, 1]}, "same time"),
        ({"id": "i", "failure": "f"}, {"t": [1.0, 2.0], "i": [1, 1], "f": [1, 0]},
         "after the subject's failure"),
        ({"failure": "nope"}, {"t": [1.0, 2.0]}, "not found"),
    ],
)
def test_errors(kwargs, data, match):
    with pytest.raises(DataError, match=match):
        stset(pd.DataFrame(data), "t", **kwargs)


def test_string_failure_is_an_error():
    with pytest.raises(DataError, match="numeric"):
        stset(_df(t=[1.0, 2.0], f=["a", "b"]), "t", "f")
