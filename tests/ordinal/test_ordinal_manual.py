"""meologit, meoprobit and meglm family(ordinal) against the manual's printed figures
(shared/reference: examples_count_ordinal_surv.json meologit_ex1/ex2, meoprobit_ex1/ex2;
examples_glmm.json meglm_ex3; examples_mixed.json me_ex7) on tvsfpors.csv (exact copy).

Log likelihood to 1e-3 absolute, coefficients and cutpoints to 1e-4 relative, standard
errors and variance components to 1e-3 relative.  Each model is fitted once per session.
"""

from __future__ import annotations

import functools
import json
import math

import numpy as np
import pandas as pd
import pytest

from memodels.commands.me_ordinal import meologit, meoprobit
from memodels.commands.meglm import meglm
from memodels.errors import DataError, OptionError
from support import REFERENCE, fitted, load_dataset

CASES = {
    "meologit_ex1": "examples_count_ordinal_surv.json",
    "meologit_ex2": "examples_count_ordinal_surv.json",
    "meoprobit_ex1": "examples_count_ordinal_surv.json",
    "meoprobit_ex2": "examples_count_ordinal_surv.json",
    "meglm_ex3": "examples_glmm.json",
    "me_ex7": "examples_mixed.json",
}


@functools.cache
def _data() -> pd.DataFrame:
    return load_dataset("tvsfpors")


@functools.cache
def _example(case: str) -> dict:
    entries = json.loads((REFERENCE / CASES[case]).read_text())
    return next(e for e in entries if e["id"] == case)


def _cmdline(ex: dict) -> str:
    cmd = ex["command"]
    return cmd[0] if isinstance(cmd, list) else cmd


def _fit(cmdline: str):
    """The session-wide cached fit (shared with the postestimation tests)."""
    return fitted("tvsfpors", cmdline)


def _result(case: str):
    ex = _example(case)
    return ex, _fit(_cmdline(ex))


def _name(key: str) -> str:
    """Reference keys -> e(b) names: 'school>class: var(_cons)' -> 'var(_cons[school>class])',
    'cc#tv: 1 1' -> '1.cc#1.tv'."""
    if key.startswith("cc#tv"):
        return "1.cc#1.tv"
    if ": " in key:
        level, inner = key.split(": ", 1)
        return inner[:-1] + f"[{level}])"
    return key


def _fixed_and_cuts(ex: dict) -> dict:
    out = dict(ex["fixed"])
    out.update(ex.get("ancillary") or {})
    return out


@pytest.mark.parametrize("case", list(CASES))
def test_manual_figures(case):
    ex, res = _result(case)
    assert res.converged
    assert res.nobs == ex["n_obs"] == 1600
    assert res.llf == pytest.approx(ex["loglik"], abs=1e-3)
    for key, (est, se) in _fixed_and_cuts(ex).items():
        name = _name(key)
        assert res.params[name] == pytest.approx(est, rel=1e-4, abs=1e-7), name
        assert res.bse[name] == pytest.approx(se, rel=1e-3), name
    for key, (est, se) in ex["random"].items():
        name = _name(key)
        assert res.params[name] == pytest.approx(est, rel=1e-3), name
        assert res.bse[name] == pytest.approx(se, rel=1e-3), name
    other = ex["other"]
    chi2, df = res.wald
    assert df == other["wald_df"] == 4  # the cutpoints are not tested
    assert chi2 == pytest.approx(other["wald_chi2"], abs=0.006)
    lr = other["lr_test"]
    assert res.lr_test.label == lr["label"]
    assert res.lr_test.kind == lr["type"]
    assert res.lr_test.stat == pytest.approx(lr["stat"], abs=0.006)
    ll_fixed = other.get("ll_fixed_effects_model")
    if ll_fixed is None and other.get("iterlog_fixed_only"):
        ll_fixed = other["iterlog_fixed_only"][-1]
    if ll_fixed is not None:
        assert res.ll_fixed == pytest.approx(ll_fixed, abs=1e-3)


@pytest.mark.parametrize("case", ["meologit_ex1", "meologit_ex2", "meglm_ex3"])
def test_iteration_zero_and_grid_node(case):
    """Fixed-effects iteration 0 is the model with only the cutpoints (start at the
    logit of the cumulative shares), and the grid-node value matches Stata's."""
    ex, res = _result(case)
    other = ex["other"]
    stages = res.fit.log
    first = stages[0]
    assert first[0] == "Fitting fixed-effects model:" and first[1] == 0
    assert first[2] == pytest.approx(-2212.775, abs=1e-3)
    grid = other.get("ll_grid_node0", other.get("grid_node_0"))
    node = next(v for s, _, v in stages if s == "Refining starting values:")
    assert node == pytest.approx(grid, abs=1e-3)


def test_table_layout_and_titles():
    _, res = _result("meologit_ex2")
    text = res.summary()
    lines = text.splitlines()
    assert lines[0].startswith("Mixed-effects ologit regression")
    cut_rows = [i for i, line in enumerate(lines) if line.strip().startswith("/cut")]
    assert len(cut_rows) == 3
    assert lines[cut_rows[0] - 1].startswith("-------------+")  # separator before the cuts
    assert lines[cut_rows[-1] + 1].startswith("-------------+")
    assert "/cut2 |   1.177478   .1704946     6.91   0.000     .8433151    1.511642" in text
    assert "LR test vs. ologit model: chi2(2) = 21.03" in text
    assert "_cons" not in [r.name for r in res.rows if r.section == "fixed"]
    assert list(res.params.index[4:7]) == ["/cut1", "/cut2", "/cut3"]
    assert res.k_cat == 4
    np.testing.assert_array_equal(res.family_obj.categories, [1, 2, 3, 4])

    _, res = _result("meoprobit_ex1")
    assert res.title == "Mixed-effects oprobit regression"
    assert "LR test vs. oprobit model: chibar2(01) = 11.98" in res.summary()

    _, res = _result("meglm_ex3")
    text = res.summary()
    assert text.startswith("Mixed-effects GLM")
    assert "Family:                 ordinal" in text and "Link:                     logit" in text


def test_odds_ratios_leave_cutpoints_alone():
    _, res = _result("meologit_ex1")
    tab = res.table(eform=True)
    assert tab.loc["prethk", "estimate"] == pytest.approx(math.exp(0.4032892), rel=1e-5)
    assert tab.loc["/cut2", "estimate"] == pytest.approx(1.153364, rel=1e-5)
    res_or = meologit("thk prethk cc##tv || school:, or", _data(), nolog=True)
    assert res_or.eform == "or" and "Odds Ratio" in res_or.summary()
    with pytest.raises(OptionError):
        meoprobit("thk prethk || school:, or", _data(), nolog=True)


def test_outcome_values_need_not_be_consecutive():
    """Relabelling the outcome (1,2,3,4 -> -5,0,10,11) changes nothing."""
    df = _data().copy()
    df["thk2"] = df["thk"].map({1: -5, 2: 0, 3: 10, 4: 11})
    a = _fit("meologit thk prethk cc##tv || school:")
    b = meologit("thk2 prethk cc##tv || school:", df, nolog=True)
    assert b.llf == pytest.approx(a.llf, abs=1e-8)
    np.testing.assert_allclose(b.params.to_numpy(), a.params.to_numpy(), rtol=1e-6)
    np.testing.assert_array_equal(b.family_obj.categories, [-5, 0, 10, 11])


def test_bad_outcomes_are_refused():
    df = _data().copy()
    df["one"] = 3.0
    with pytest.raises(DataError, match="one"):
        meologit("one prethk || school:", df, nolog=True)
    df["word"] = df["thk"].map({1: "a", 2: "b", 3: "c", 4: "d"})
    with pytest.raises(DataError, match="word"):
        meoprobit("word prethk || school:", df, nolog=True)
    with pytest.raises(DataError, match="one"):
        meglm("one prethk || school:, family(ordinal) link(probit)", df, nolog=True)
