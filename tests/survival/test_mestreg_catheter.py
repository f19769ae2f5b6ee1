"""[ME] mestreg examples 1-2 on catheter (exact data: shared/data/README.md) against the
printed figures (shared/reference/examples_count_ordinal_surv.json): log likelihood to
1e-3 absolute, coefficients and ancillary parameters to 1e-4 relative, SEs and variance
components to 1e-3 relative; hazard ratios as printed (exp(b), SE exp(b) se(b))."""

from __future__ import annotations

import functools
import json

import numpy as np
import pytest

from memodels.commands.mestreg import mestreg
from memodels.survival import stset
from support import REFERENCE, load_dataset


@functools.cache
def _examples():
    return {e["id"]: e for e in json.loads((REFERENCE / "examples_count_ordinal_surv.json")
                                           .read_text())}


@functools.cache
def _st():
    return stset(load_dataset("catheter"), "time", "infect")


@functools.cache
def _fit(options: str):
    return mestreg(f"age female || patient:, {options} nolog", _st())


CASES = {
    "mestreg_ex1": ("distribution(weibull)", {}),
    "mestreg_ex2_nohr": ("distribution(weibull)", {"nohr": True}),
    "mestreg_ex2_weibull_aft": ("distribution(weibull) time", {}),
    "mestreg_ex2_gamma": ("distribution(gamma)", {}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_manual_figures(case):
    ex = _examples()[case]
    options, replay = CASES[case]
    res = _fit(options)
    if replay:
        res = res.replay(**replay)
    assert res.llf == pytest.approx(ex["loglik"], abs=1e-3)
    assert res.nobs == ex["n_obs"]
    assert res.title == ex["title"]
    table = res.table()
    for name, (est, se) in ex["fixed"].items():
        assert table.loc[name, "estimate"] == pytest.approx(est, rel=1e-4), name
        assert table.loc[name, "se"] == pytest.approx(se, rel=1e-3), name
    for name, (est, se) in ex["ancillary"].items():
        assert res.params[name] == pytest.approx(est, rel=1e-4), name
        assert res.bse[name] == pytest.approx(se, rel=1e-3), name
    for key, (est, se) in ex["random"].items():
        level, inner = key.split(": ")
        name = inner[:-1] + f"[{level}])"
        assert res.params[name] == pytest.approx(est, rel=1e-3), name
        assert res.bse[name] == pytest.approx(se, rel=1e-3), name
    for row in ex["table"]:
        term = row["term"]
        name = term.split(": ")[1][:-1] + f"[{term.split(': ')[0]}])" if ": " in term else term
        lo, hi = table.loc[name, ["ci_lower", "ci_upper"]]
        assert lo == pytest.approx(row["ci"][0], rel=2e-3, abs=1e-5)
        assert hi == pytest.approx(row["ci"][1], rel=2e-3, abs=1e-5)
    other = ex["other"]
    assert res.wald_chi2 == pytest.approx(other["wald_chi2"], abs=0.006)
    assert res.wald_df == other["wald_df"]
    lr = other["lr_test"]
    assert res.lr_test.label == lr["label"]
    assert res.lr_test.kind == lr["type"]
    assert res.lr_test.stat == pytest.approx(lr["stat"], abs=0.006)
    if "ll_fixed_effects_model" in other:
        assert res.ll_fixed == pytest.approx(other["ll_fixed_effects_model"], abs=1e-3)


def test_weibull_ph_aft_relation():
    """b_PH = -p b_AFT and var_PH = p^2 var_AFT (manual, example 2)."""
    ph, aft = _fit("distribution(weibull)"), _fit("distribution(weibull) time")
    p = np.exp(aft.params["/ln_p"])
    b_aft = aft.fe_params
    np.testing.assert_allclose(ph.fe_params, -p * b_aft, rtol=2e-5)
    var = "var(_cons[patient])"
    assert ph.params[var] == pytest.approx(p * p * aft.params[var], rel=5e-5)
    assert ph.llf == pytest.approx(aft.llf, abs=1e-6)


def test_gamma_fixed_effects_ll():
    assert _fit("distribution(gamma)").ll_fixed == pytest.approx(-335.09115, abs=1e-4)


def test_display():
    text = str(_fit("distribution(weibull)"))
    assert text.splitlines()[:2] == ["         failure _d:  infect",
                                     "   analysis time _t:  time"]
    assert "Mixed-effects Weibull regression" in text
    assert "_t | Haz. Ratio" in text
    assert "/ln_p |   .2243" in text
    assert "LR test vs. Weibull model: chibar2(01) = 9.40" in text
    nohr = str(_fit("distribution(weibull)").replay(nohr=True, noshow=True))
    assert "_t |      Coef." in nohr and "failure _d" not in nohr
    tr = str(_fit("distribution(gamma)").replay(tratio=True))
    assert "_t |  Tm. Ratio" in tr
    assert "Mixed-effects gamma regression " in tr and "-- AFT" not in tr
    assert "Mixed-effects Weibull regression -- AFT" in str(
        _fit("distribution(weibull) time"))


def test_st_header_printed_once():
    """The st header heads mestreg's output once: above the iteration log, or above the
    table when there is no log (and on replay)."""
    import memodels
    from support import load_dataset

    s = memodels.Session(load_dataset("catheter"))
    s.run("stset time, failure(infect)")
    for cmd in ("mestreg age female || patient:, distribution(weibull)",
                "mestreg age female || patient:, distribution(weibull) nolog",
                "mestreg, nohr"):
        assert s.run(cmd).count("failure _d:  infect") == 1, cmd
