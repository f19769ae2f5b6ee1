"""The do-files in examples/ that use the do-file language run to the end, with the
manual's figures where it prints them ([ME] me, example 6)."""

from __future__ import annotations

import re

import pytest

from memodels.session import Session
from support import REPO


def _run(name: str) -> tuple[Session, str]:
    s = Session()
    return s, s.run_script((REPO / "examples" / name).read_text())


def test_meta_analysis_do_file():
    s, log = _run("meta_analysis.do")
    assert s.e.params["_cons"] == pytest.approx(-.5166151, rel=1e-5)
    assert s.e.bse["_cons"] == pytest.approx(.2059448, rel=1e-4)
    m = re.search(r"^difference in log likelihood: +(\S+)", log, re.MULTILINE)
    assert m is not None and abs(float(m.group(1))) < 1e-6


def test_dofile_language_example():
    s, log = _run("dofile_language.do")
    assert "model 1 (week): ll = -1014.9268" in log
    assert "the lagged model uses 384 of 432 observations" in log
    assert "Pairwise comparisons of marginal linear predictions" in log
    assert s.data["first"].sum() == 48
