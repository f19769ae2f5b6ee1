"""Issue #17, item 2: ``memodels.compare`` and the do-file's ``estimates table``
(Stata's [R] estimates table with ``b se p stats(N ll aic bic)``)."""

from __future__ import annotations

import numpy as np
import pytest

import memodels
from memodels.errors import MemodelsError
from support import fitted, load_dataset

INT = "mixed weight week || id:"
SLOPE = "mixed weight week || id: week"


def test_compare_frame_holds_each_models_numbers():
    a, b = fitted("pig", INT), fitted("pig", SLOPE)
    t = memodels.compare(a, b, names=["randint", "randslope"], se=True, p=True,
                         stats=("N", "ll", "aic", "bic"))
    f = t.frame
    assert list(f.columns) == ["randint", "randslope"]
    for res, col in ((a, "randint"), (b, "randslope")):
        for name in res.params.index:
            assert f.loc[(name, "b"), col] == res.params[name]
            assert f.loc[(name, "se"), col] == res.bse[name]
        assert f.loc[("N", ""), col] == res.nobs
        assert f.loc[("ll", ""), col] == res.llf
        # AIC/BIC by their definitions
        assert f.loc[("aic", ""), col] == pytest.approx(-2 * res.llf + 2 * res.n_params)
        assert f.loc[("bic", ""), col] == pytest.approx(
            -2 * res.llf + np.log(res.nobs) * res.n_params)
    # a parameter of one model only is missing in the other
    assert np.isnan(f.loc[("var(week[id])", "b"), "randint"])
    assert f.loc[("week", "p"), "randint"] == a.pvalues["week"]


def test_compare_text_is_statas_layout():
    a, b = fitted("pig", INT), fitted("pig", SLOPE)
    text = str(memodels.compare(a, b, names=["randint", "randslope"], se=True, p=True))
    lines = text.splitlines()
    assert lines[1].split() == ["Variable", "|", "randint", "randslope"]
    week = next(i for i, ln in enumerate(lines) if ln.strip().startswith("week |"))
    assert lines[week].split()[2:] == ["6.209896", "6.209896"]
    assert lines[week + 1].split()[1:] == [".0390124", ".0906818"]  # the manual's SEs
    assert lines[week + 2].split()[1:] == ["0.000", "0.000"]
    assert lines[-1].strip() == "legend: b/se/p"
    assert any(ln.split()[:2] == ["N", "|"] and ln.split()[2:] == ["432", "432"]
               for ln in lines)
    assert "<table>" in memodels.compare(a, b)._repr_html_()


def test_compare_refusals():
    a = fitted("pig", INT)
    with pytest.raises(MemodelsError, match="stats"):
        memodels.compare(a, stats=("r2",))
    with pytest.raises(MemodelsError, match="names"):
        memodels.compare(a, names=["x", "y"])
    with pytest.raises(MemodelsError, match="not an estimation result"):
        memodels.compare(a, 3)


def test_estimates_table_in_a_session():
    s = memodels.Session(load_dataset("pig"))
    s.run_script(f"quietly {INT}\nestimates store randint\nquietly {SLOPE}\n"
                 "estimates store randslope")
    out = s.run("estimates table randint randslope, b se p stats(N ll aic bic)")
    want = str(memodels.compare(s.estimates["randint"], s.estimates["randslope"],
                                names=["randint", "randslope"], se=True, p=True))
    assert out.strip() == want.strip()
    plain = s.run("estimates table randint")
    assert "legend: b" in plain and "ll" not in plain.split("legend")[0].split("+")[-1]
    with pytest.raises(MemodelsError, match="display formats"):
        s.run("estimates table randint, b(%9.3f)")
