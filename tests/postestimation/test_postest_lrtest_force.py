"""lrtest, force ([R] lrtest: "force testing even when apparently invalid"): every check
of the test's validity is skipped, the REML refusals included; the statistic is
2 (ll_full - ll_nested) computed here from the two fits' log likelihoods."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import memodels
from memodels.errors import MemodelsError
from memodels.postestimation.lrtest import REML_NOTE
from support import fitted

ML = "mixed weight week || id:"
REML = "mixed weight week || id:, reml"
REML_SLOPE = "mixed weight week || id: week, reml"
REML_NOFE = "mixed weight || id:, reml"
ROBUST = "mixed weight week || id: week, vce(robust)"


def _expected(full, nested):
    chi2 = 2.0 * (full.llf - nested.llf)
    df = full.n_params - nested.n_params
    return chi2, df, stats.chi2.sf(chi2, df)


def test_force_overrides_reml_against_ml():
    ml, reml_slope = fitted("pig", ML), fitted("pig", REML_SLOPE)
    with pytest.raises(MemodelsError, match="REML model with an ML model"):
        memodels.lrtest(ml, reml_slope)
    r = memodels.lrtest(ml, reml_slope, force=True)
    chi2, df, p = _expected(reml_slope, ml)
    assert r.chi2 == pytest.approx(chi2, rel=1e-12) and r.df == df
    assert r.p == pytest.approx(p, rel=1e-12)


def test_force_overrides_reml_different_fixed_effects():
    reml, nofe = fitted("pig", REML_SLOPE), fitted("pig", REML_NOFE)
    with pytest.raises(MemodelsError, match="REML criterion is not comparable"):
        memodels.lrtest(reml, nofe)
    r = memodels.lrtest(reml, nofe, force=True)
    # the model with more parameters is the unrestricted one, whatever the sign
    full, nested = (nofe, reml) if nofe.n_params > reml.n_params else (reml, nofe)
    chi2, df, _ = _expected(full, nested)
    assert r.chi2 == pytest.approx(chi2, rel=1e-12) and r.df == abs(df)
    assert REML_NOTE not in str(r)  # Stata prints the REML note only without force


def test_reml_note_without_force():
    r = memodels.lrtest(fitted("pig", REML), fitted("pig", REML_SLOPE))
    chi2, df, _ = _expected(fitted("pig", REML_SLOPE), fitted("pig", REML))
    assert r.chi2 == pytest.approx(chi2, rel=1e-12) and r.df == df
    assert str(r).endswith(REML_NOTE)


def test_robust_refused_unless_forced():
    rob, ml = fitted("pig", ROBUST), fitted("pig", ML)
    with pytest.raises(MemodelsError, match="robust vce"):
        memodels.lrtest(rob, ml)
    r = memodels.lrtest(rob, ml, force=True)
    assert r.chi2 == pytest.approx(2 * (rob.llf - ml.llf), rel=1e-12)


def test_session_force_reaches_the_test():
    s = memodels.Session() if hasattr(memodels, "Session") else None
    if s is None:
        from memodels.session import Session
        s = Session()
    s.estimates["ml"] = fitted("pig", ML)
    s.estimates["reml"] = fitted("pig", REML_SLOPE)
    with pytest.raises(MemodelsError):
        s.run("lrtest ml reml")
    out = s.run("lrtest ml reml, force")
    chi2, df, _ = _expected(fitted("pig", REML_SLOPE), fitted("pig", ML))
    assert f"LR chi2({df})" in out and f"{chi2:.2f}" in out
    assert np.isclose(s.r["chi2"], chi2)
