"""``mixed``: option combinations Stata refuses, internal crashes turned into memodels
errors, and fits that must not stop at a stationary point that is not a maximum
(audit rows B4, B13, A28, C13-C15, C17-C19, D15, F5, I3)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from scipy import stats

import memodels
from memodels.errors import EstimationError, OptionError
from memodels.lmm.fit_residual import _escape_saddles
from memodels.lmm.polish import NRSCALE
from memodels.optimize.maximize import Maximize
from memodels.session import Session
from support import fitted, load_dataset

EX = "if inlist(day, 0, 4, 6, 8, 12)"


# ------------------------------------------------------------------ B4: saddle
def test_ar1_with_gapped_times_reaches_the_maximum():
    """B4: with only even lags observed (days 0 4 6 8 12) the AR(1) likelihood is even in
    rho, so rho = 0 is a stationary point (ll -453.92).  The maximum equals the manual's
    exponential fit (example 9: ll -307.83324, rho .9786462 per day), which AR(1) on
    integer times reproduces exactly."""
    res = fitted("exercise", f"mixed strength i.program##i.day {EX} || id:, noconstant "
                 "residuals(ar 1, t(day))")  # (the manual's exponential model, as AR(1))
    assert res.llf == pytest.approx(-307.83324, abs=5e-6)
    assert res.params["rho"] == pytest.approx(0.9786462, abs=2e-6)
    assert res.fit.converged and res.fit.hessian_ok
    expo = fitted("exercise", "mixed strength i.program##i.day if inlist(day,0,4,6,8,12) "
                  "|| id:, noconstant residuals(exponential, t(day)) nolog nofetable")
    np.testing.assert_allclose(res.fit.beta, expo.fit.beta, rtol=1e-5)


# the Newton stage's settings as mixed uses them (Stata's nrtolerance with mixed's scale)
MX = Maximize(nrtolerance=1e-7, nrscale=NRSCALE)


def test_saddle_escape_finds_the_maximum():
    """f = -x0^2 + x1^2 - x1^4 has a saddle at 0 and maxima at x1 = +-1/sqrt(2)."""
    def f(x):
        return -x[0] ** 2 + x[1] ** 2 - x[1] ** 4

    phi = np.zeros(2)
    hess = np.diag([-2.0, 2.0])
    out, _, ok, _, saddle = _escape_saddles(f, phi, hess, np.ones(2, bool), MX, True, 0)
    assert ok and not saddle
    assert abs(out[1]) == pytest.approx(1 / np.sqrt(2), abs=1e-5)


def test_stationary_point_not_a_maximum_is_not_converged():
    """A positive Hessian eigenvalue that no step can exploit: reported not converged."""
    def f(x):
        return -float(x @ x)

    _, _, ok, _, saddle = _escape_saddles(f, np.zeros(2), np.diag([-2.0, 2.0]),
                                          np.ones(2, bool), MX, True, 0)
    assert saddle and not ok


# ------------------------------------------------------- dfmethod() and replay
T43 = "mixed score i.drug || person:, reml dfmethod(repeated)"


def _row(text: str, label: str) -> list[str]:
    line = next(ln for ln in text.splitlines() if re.match(rf"^\s*{re.escape(label)}\s+\|", ln))
    return line.split("|", 1)[1].split()


def _session(res, dataset: str = "t43") -> Session:
    """A session whose active results are ``res`` (a cached fit)."""
    s = Session(load_dataset(dataset))
    s.e = res
    return s


def test_plain_replay_after_dfmethod_is_large_sample():
    """D16, [ME] mixed example 13: plain ``mixed`` replays the large-sample results --
    Wald chi2(3) = 74.28, z, p(4.drug) 0.004, CI 1.799489 .. 9.400511 -- while ``mixed,
    small`` keeps F(3, 12.00) and p 0.014."""
    res = fitted("t43", T43)
    s = _session(res)
    out = s.run("mixed")
    assert "Wald chi2(3)      =      74.28" in out
    assert "DF method" not in out and "z    P>|z|" in out
    assert _row(out, "4") == ["5.6", "1.939072", "2.89", "0.004", "1.799489", "9.400511"]
    # the same interval computed here: 5.6 -+ z(.975) * se
    se = float(_row(out, "4")[1])
    assert 5.6 + stats.norm.ppf(0.975) * se == pytest.approx(9.400511, abs=2e-6)
    small = s.run("mixed, small")
    assert "F(3, 12.00)" in small and "t    P>|t|" in small
    assert _row(small, "4")[3] == "0.014"
    assert s.e is res and res.extra["ddf"] is not None  # the replay changed nothing


def test_kroger_large_sample_replay_shows_conventional_standard_errors():
    """Plain replay after dfmethod(kroger): the unadjusted OIM standard errors (Kenward-
    Roger's adjusted ones belong to the small-sample display)."""
    cmd = ("mixed gcf followup base_gcf cda age || patient: followup, cov(un) || tooth:, "
           "reml dfmethod(kroger)")
    res = fitted("veneer", cmd)
    out = _session(res, "veneer").run("mixed, noretable")
    conventional = np.sqrt(np.diag(res.fit.vcov_beta))
    shown = [float(_row(out, nm)[1]) for nm in ("followup", "base_gcf", "cda", "age", "_cons")]
    np.testing.assert_allclose(shown, conventional, rtol=1e-6)
    # the estimation display keeps the adjusted SE (manual example 14: age .2350491)
    assert float(_row(res.summary(), "age")[1]) == pytest.approx(.2350491, abs=5e-7)


def test_dftable_pvalue_and_ci_at_estimation_and_on_replay():
    """D12: dftable(pvalue) shows DF, t and P>|t| (manual example 13: 12.0, -0.41, 0.687;
    _cons 4.0, 8.38, 0.001); dftable(ci) DF and the t-based interval."""
    res = fitted("t43", T43 + " dftable(pvalue)")
    out = res.summary()
    assert re.search(r"Std\. Err\.\s+DF\s+t\s+P>\|t\|", out)
    assert _row(out, "2") == ["-.8", "1.939072", "12.0", "-0.41", "0.687"]
    assert _row(out, "_cons")[2:] == ["4.0", "8.38", "0.001"]
    ci = fitted("t43", T43 + " dftable(ci)").summary()
    row = _row(ci, "4")
    assert row[2] == "12.0"
    half = stats.t.ppf(0.975, 12) * 1.939072
    assert float(row[3]) == pytest.approx(5.6 - half, abs=2e-6)
    assert float(row[4]) == pytest.approx(5.6 + half, abs=2e-6)
    replay = _session(fitted("t43", T43)).run("mixed, dftable(pvalue) norettable")
    assert _row(replay, "4") == ["5.6", "1.939072", "12.0", "2.89", "0.014"]
    assert "Random-effects Parameters" not in replay


def test_small_and_dftable_refused_where_stata_refuses():
    """D15: small is a replay-only option; dftable() needs dfmethod()."""
    t43 = load_dataset("t43")
    with pytest.raises(OptionError, match="small"):
        memodels.fit(T43 + " small", t43, nolog=True)
    with pytest.raises(OptionError, match="dftable"):
        memodels.fit("mixed score i.drug || person:, reml dftable(ci)", t43, nolog=True)
    s = Session(t43)
    s.e = fitted("t43", "mixed score i.drug || person:, reml")
    with pytest.raises(OptionError, match="dftable"):
        s.run("mixed, dftable(pvalue)")


def test_model_test_is_chi2_when_coefficient_ddfs_differ():
    """D4, [ME] mixed, Methods and formulas: "If the single-hypothesis DDF differs, then
    nu_ddf,m is not defined, and the large-sample chi2 test is reported instead"."""
    res = fitted("veneer", "mixed gcf followup base_gcf cda age || patient: followup, "
                 "cov(un) || tooth:, reml dfmethod(anova)")
    out = res.summary()
    assert "DF method: ANOVA" in out and "F(" not in out
    b = res.fit.beta[:4]
    chi2 = float(b @ np.linalg.solve(res.fit.vcov_beta[:4, :4], b))
    assert f"Wald chi2(4)      = {chi2:>10.2f}" in out
    assert f"Prob > chi2       = {stats.chi2.sf(chi2, 4):>10.4f}" in out


# ----------------------------------------------- weights, vce and dfmethod()
@pytest.fixture(scope="module")
def pigw():
    pig = load_dataset("pig")
    return pig.assign(w=1 + pig.id % 3)


@pytest.mark.parametrize("cmd,match", [
    ("mixed weight week [fw=w] || id:, reml", "weights not allowed with reml"),  # C17
    ("mixed weight week || id:, pweight(w) reml", "weights not allowed with reml"),
    ("mixed weight week [fw=w] || id:, dfmethod(residual)", "weights not allowed with "
     "dfmethod"),  # C18
    ("mixed weight week || id:, dfmethod(residual) vce(robust)", "only vce\\(oim\\)"),  # C19
    ("mixed weight week || id:, dfmethod(residual) vce(cluster id)", "only vce\\(oim\\)"),
])
def test_weights_and_vce_refused_with_reml_or_dfmethod(pigw, cmd, match):
    with pytest.raises(OptionError, match=match):
        memodels.fit(cmd, pigw, nolog=True)


def test_bootstrap_refuses_weights(pigw):
    """I3: "Weights are not allowed with the bootstrap prefix"."""
    with pytest.raises(OptionError, match="bootstrap"):
        memodels.bootstrap("mixed weight week [fw=w] || newid:", pigw, reps=2, cluster="id",
                           idcluster="newid", seed=1, progress=False, n_jobs=1)


# -------------------------------------------------------------- vce(cluster)
def test_cluster_must_nest_the_top_level():
    """C13/C14: tooth numbers recur across patients, so || tooth: groups are not nested in
    patient (Stata refuses; memodels crashed with ZeroDivisionError), and a continuous
    variable (cda) does not nest them either."""
    veneer = load_dataset("veneer")
    for var in ("patient", "cda"):
        with pytest.raises(OptionError, match=f"not nested within {var}"):
            memodels.fit(f"mixed gcf followup || tooth:, vce(cluster {var})", veneer,
                         nolog=True)


def test_cluster_nesting_accepts_a_higher_level():
    """The check is not over-eager: groups nested in clusters (pig ids in pairs of ids)."""
    pig = load_dataset("pig")
    res = memodels.fit("mixed weight week || id:, vce(cluster pair)",
                       pig.assign(pair=(pig.id + 1) // 2), nolog=True)
    assert "24 clusters in pair" in res.extra["vce_note"]


# --------------------------------------------------------------- residuals()
@pytest.mark.parametrize("opt,match", [
    ("emonly", "emonly not allowed with residuals"),  # F5
    ("reml vce(robust)", "not allowed with REML"),
])
def test_residuals_with_emonly_or_reml_robust_refused(opt, match):
    with pytest.raises(OptionError, match=match):
        memodels.fit(f"mixed follicles sin1 cos1 || mare:, residuals(ar 1, t(time)) {opt}",
                     load_dataset("ovary"), nolog=True)


@pytest.mark.parametrize("vce", ["vce(robust)", "vce(cluster pair)"])
def test_robust_vce_with_residuals_matches_the_equivalent_random_intercept_model(vce):
    """C15: vce(robust|cluster) with residuals().  || id:, noconstant
    residuals(exchangeable) is the random-intercept model reparameterized (cov(e) =
    var(_cons), var(e) = var(_cons) + var(Residual)); the sandwich transforms with the
    parameters, so the fixed-effect robust SEs must equal those of the (independently
    implemented) random-intercept robust VCE, and the variance SEs follow by the delta
    method."""
    pig = load_dataset("pig")
    pig = pig.assign(pair=(pig.id + 1) // 2)
    ri = memodels.fit(f"mixed weight week || id:, {vce}", pig, nolog=True)
    ex = memodels.fit(f"mixed weight week || id:, noconstant residuals(exchangeable) {vce}",
                      pig, nolog=True)
    assert ex.llf == pytest.approx(ri.llf, abs=1e-6)
    np.testing.assert_allclose(ex.bse[["week", "_cons"]], ri.bse[["week", "_cons"]],
                               rtol=1e-4)
    v = ri.vcov.loc[["var(_cons[id])", "var(e)"], ["var(_cons[id])", "var(e)"]].to_numpy()
    assert ex.bse["cov(e)"] == pytest.approx(np.sqrt(v[0, 0]), rel=1e-4)
    assert ex.bse["var(e)"] == pytest.approx(np.sqrt(v.sum()), rel=1e-4)
    assert ex.extra["vce_note"] == ri.extra["vce_note"]
    assert not np.allclose(ex.bse, memodels.fit(
        "mixed weight week || id:, noconstant residuals(exchangeable)", pig, nolog=True).bse)


# ---------------------------------------------------------- unidentified fits
def test_one_random_effect_per_observation_refused():
    """A28: || id: R.week gives one effect per observation (pig: one weight per id and
    week), confounded with the residual: a memodels error, not numpy's LinAlgError."""
    with pytest.raises(EstimationError, match="one effect per observation"):
        memodels.fit("mixed weight week || id: R.week", load_dataset("pig"), nolog=True)


def test_unstructured_residuals_with_random_intercept_refused():
    """B13: the unstructured residual covariance contains the random intercept's variance
    ([ME] mixed example 9 uses noconstant)."""
    ex = load_dataset("exercise")
    with pytest.raises(EstimationError, match="noconstant"):
        memodels.fit(f"mixed strength i.program##i.day {EX} || id:, "
                     "residuals(unstructured, t(day))", ex, nolog=True)
    with pytest.raises(EstimationError, match="not identified"):
        memodels.fit("mixed follicles sin1 cos1 || mare:, residuals(exchangeable)",
                     load_dataset("ovary"), nolog=True)


def test_non_finite_hessian_is_not_converged_and_has_no_standard_errors():
    """Where L* is not finite around the optimum (a residual covariance leaving the
    positive definite region) the Newton polish stops unconverged and the information
    matrix yields missing standard errors -- no LAPACK error on NaN input."""
    from memodels.lmm.fit import _invert_information, _newton_polish

    nan_h = np.full((2, 2), np.nan)
    free = np.ones(2, bool)
    vcov, ok = _invert_information(nan_h, free)
    assert not ok and np.isnan(vcov).all()

    def f(x):
        return -float(x @ x) if x[0] <= 0 else -np.inf

    _, _, converged, _ = _newton_polish(f, np.array([0.0, 1.0]), free, 1e-7)
    assert not converged


def test_linalg_failure_in_the_fit_is_a_memodels_error(monkeypatch):
    """Never numpy's LinAlgError as the user's message."""
    import memodels.commands.mixed as cmd

    def broken(*args, **kwargs):
        raise np.linalg.LinAlgError("Eigenvalues did not converge")

    monkeypatch.setattr(cmd, "fit_lmm", broken)
    with pytest.raises(EstimationError, match="numerical failure"):
        memodels.fit("mixed weight week || id:", load_dataset("pig"), nolog=True)


def test_estimates_replay_after_dfmethod_is_large_sample():
    """``estimates replay`` redisplays as plain ``mixed`` does (example 13's chi2)."""
    s = _session(fitted("t43", T43))
    out = s.run("estimates replay")
    assert "Wald chi2(3)      =      74.28" in out and "DF method" not in out


def test_design_based_dfmethods_with_residuals():
    """D11: residual/repeated/anova DDFs depend on the design only, so they are available
    with residuals(): residual n - rank(X) = 308 - 3; anova n - rank(X, Z) = 308 - 13 for
    sin1 and cos1 and 11 - 1 for _cons (in the mare equation).  Satterthwaite and
    Kenward-Roger are refused."""
    ov = load_dataset("ovary")
    base = "mixed follicles sin1 cos1 || mare:, residuals(ar 1, t(time)) reml"
    res = memodels.fit(base + " dfmethod(residual)", ov, nolog=True)
    np.testing.assert_array_equal(res.extra["ddf"].df, [305.0, 305.0, 305.0])
    t = res.params["sin1"] / res.bse["sin1"]
    assert res.table().loc["sin1", "p"] == pytest.approx(2 * stats.t.sf(abs(t), 305), rel=1e-6)
    anova = memodels.fit(base + " dfmethod(anova)", ov, nolog=True)
    np.testing.assert_array_equal(anova.extra["ddf"].df, [295.0, 295.0, 10.0])
    with pytest.raises(OptionError, match="not implemented"):
        memodels.fit(base + " dfmethod(kroger)", ov, nolog=True)


def test_kroger_keeps_conventional_vce_for_large_sample_tests():
    """e(V) stays the conventional VCE after dfmethod(kroger) (Kenward-Roger's is e(V_df)):
    ``test`` without small is the chi2 on the conventional SE; ``lincom, small`` uses the
    adjusted SE and the method's DF (manual example 14: age .2350491, DF 10.41, p .033)."""
    cmd = ("mixed gcf followup base_gcf cda age || patient: followup, cov(un) || tooth:, "
           "reml dfmethod(kroger)")
    res = fitted("veneer", cmd)
    k = list(res.design.kept_names).index("age")
    b, se_conv = res.fit.beta[k], np.sqrt(res.fit.vcov_beta[k, k])
    assert res.test("age = 0").chi2 == pytest.approx((b / se_conv) ** 2, rel=1e-8)
    lc = res.lincom("age", small=True)
    assert lc.se == pytest.approx(.2350491, abs=5e-7)
    assert lc.df == pytest.approx(10.41, abs=0.006)
    assert lc.p == pytest.approx(0.033, abs=5e-4)
    assert res.lincom("age").se == pytest.approx(se_conv, rel=1e-10)
