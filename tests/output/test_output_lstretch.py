"""lstretch / nolstretch ([R] estimation options): with room on the line (set linesize
above 80) the first column of the coefficient table widens for long names, up to 32
characters; nolstretch keeps 12 columns and abbreviates (Stata's abbrev(): start, ~,
last character).  At the default linesize 80 the 78-column table cannot widen."""

from __future__ import annotations

import pytest

import memodels
from memodels.output.display_opts import linesize
from memodels.session import Session, SessionError
from support import load_dataset

LONG = "weeks_since_weaning"  # 19 characters


def _session() -> Session:
    d = load_dataset("pig")
    d[LONG] = d["week"]
    s = Session(d)
    s.run(f"quietly mixed weight {LONG} || id:, nolog")
    return s


def _row(text: str, start: str) -> str:
    return next(line for line in text.splitlines() if line.lstrip().startswith(start))


def test_default_linesize_abbreviates_either_way():
    s = _session()
    for opts in ("", ", nolstretch"):
        out = s.run(f"mixed{opts}")
        assert _row(out, "weeks_sinc~g").index("|") == 13
        assert LONG not in out.split("Random-effects")[0]


def test_wider_line_stretches_the_first_column():
    s = _session()
    s.run("set linesize 120")
    out = s.run("mixed")
    row = _row(out, LONG)
    assert row.index("|") == len(LONG) + 1  # right-aligned in 19 columns, then " |"
    lines = out.split("\n")
    k = lines.index(row)
    assert lines[k - 1] == "-" * (len(LONG) + 1) + "+" + "-" * 64
    assert lines[k - 3] == "-" * (len(LONG) + 2 + 64)  # the rule widens with the column
    cons = _row(out, "_cons")
    assert cons.index("|") == row.index("|")
    # nolstretch: the standard table
    plain = s.run("mixed, nolstretch")
    assert _row(plain, "weeks_sinc~g").index("|") == 13


def test_stretch_limited_by_the_line_size():
    s = _session()
    s.run("set linesize 85")  # 5 more columns: 17 characters
    row = _row(s.run("mixed"), "weeks_since_wea~g")
    assert row.index("|") == 18


def test_me_table_and_python_context():
    b = load_dataset("bangladesh")
    b["urban_residence"] = b["urban"]  # 15 characters
    res = memodels.fit("melogit c_use urban_residence || district:", b, nolog=True)
    assert "urban_resi~e |" in str(res)
    with linesize(100):
        wide = res.summary()
        narrow = res.summary(nolstretch=True)
    assert "urban_residence |" in wide and "urban_resi~e |" in narrow
    assert max(map(len, wide.splitlines())) == 78 + 3


def test_bad_linesize_refused():
    s = _session()
    with pytest.raises(SessionError, match="linesize"):
        s.run("set linesize 20")
