"""maximize_options of the me commands and meqr ([R] maximize; [ME] meglm, Options):
iterate(#) caps the printed "Fitting full model" iterations, Stata's stopping rules
(tolerance, ltolerance, nrtolerance, nonrtolerance), technique() refusals, difficult,
dnumerical and the trace displays.  Small simulated data, built here."""

from __future__ import annotations

import contextlib
import io
import re
import warnings

import numpy as np
import pandas as pd
import pytest

import memodels
from memodels.errors import ConvergenceWarning, DataError, OptionError
from memodels.optimize.maximize import Maximize, mreldif, reldif
from memodels.optimize.newton_step import newton_step
from support import run_logged


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    n_groups, size = 40, 12
    g = np.repeat(np.arange(n_groups), size)
    x = rng.normal(size=g.size)
    u = rng.normal(scale=0.8, size=n_groups)[g]
    y = (rng.random(g.size) < 1 / (1 + np.exp(-(-0.3 + 0.7 * x + u)))).astype(float)
    return pd.DataFrame({"y": y, "x": x, "g": g})


def _run(cmdline: str, data):
    """(results, printed log, convergence warning messages)."""
    # Python fits are quiet unless log=True (issue #17); nolog in the line still hides it
    return run_logged(memodels.fit, cmdline, data, log="nolog" not in cmdline)


def _full_model_iterations(log: str) -> list[int]:
    """The iteration numbers printed under "Fitting full model:"."""
    tail = log.split("Fitting full model:")[-1]
    return [int(m) for m in re.findall(r"^Iteration (\d+):", tail, flags=re.M)]


COMMANDS = ["melogit y x || g:", "melogit y x || g:, laplace", "meqrlogit y x || g:"]


@pytest.mark.parametrize("cmd", COMMANDS)
@pytest.mark.parametrize("cap", [0, 1, 2])
def test_iterate_caps_the_printed_iterations(df, cmd, cap):
    """iterate(#): Iteration 0..# printed, then "convergence not achieved" (iterate(1)
    was dropped before: 1 == True)."""
    sep = " " if "," in cmd else ", "
    res, log, warned = _run(f"{cmd}{sep}iterate({cap})", df)
    assert _full_model_iterations(log) == list(range(cap + 1))
    assert res.iterations == cap
    assert not res.converged
    assert warned and "convergence not achieved" in warned[0]
    assert "convergence not achieved" in str(res.summary())


@pytest.mark.parametrize("cmd", COMMANDS)
def test_default_fit_converges_within_a_few_iterations(df, cmd):
    res, log, warned = _run(cmd, df)
    assert res.converged and not warned
    its = _full_model_iterations(log)
    assert its[-1] == res.iterations <= 10


def test_ltolerance_rule_stops_at_the_first_iteration_meeting_it(df):
    """tolerance(0) nrtolerance(1e3) ltolerance(1e-3): convergence at the first iteration
    k >= 1 with reldif(L_k, L_(k-1)) <= 1e-3, computed here from the iteration history."""
    res, _, _ = _run("melogit y x || g:, tolerance(0) nrtolerance(1000) ltolerance(1e-3) "
                     "nolog", df)
    lls = [ll for stage, _, ll in res.fit.log if stage == "Fitting full model:"]
    rel = [abs(b - a) / (abs(a) + 1) for a, b in zip(lls, lls[1:], strict=False)]
    first = next(i for i, r in enumerate(rel) if r <= 1e-3) + 1
    assert res.converged and res.iterations == first
    # the default rule goes further (and to the optimum)
    full, _, _ = _run("melogit y x || g:, nolog", df)
    assert full.iterations > res.iterations
    assert res.llf <= full.llf + 1e-9


def test_nrtolerance_and_nonrtolerance(df):
    """nrtolerance(0) can never be met: the cap is hit; nonrtolerance drops the criterion
    and the tolerance/ltolerance rule converges at the default optimum."""
    res, _, warned = _run("melogit y x || g:, nrtolerance(0) iterate(6) nolog", df)
    assert not res.converged and res.iterations == 6 and warned
    free, _, warned = _run("melogit y x || g:, nrtolerance(0) nonrtolerance nolog", df)
    base, _, _ = _run("melogit y x || g:, nolog", df)
    assert free.converged and not warned
    np.testing.assert_allclose(free.params, base.params, rtol=1e-5, atol=1e-6)


def test_tolerances_are_monotone(df):
    """Looser tolerances never need more iterations."""
    counts = []
    for tol in ("1e-2", "1e-4", "1e-6", "1e-9"):
        res, _, _ = _run(f"melogit y x || g:, tolerance({tol}) ltolerance({tol}) "
                         f"nrtolerance({tol}) nolog", df)
        assert res.converged
        counts.append(res.iterations)
    assert counts == sorted(counts)


@pytest.mark.parametrize("tech", ["bfgs", "dfp", "bhhh", "nr 2 bfgs 3", "bhhh 2 nr"])
def test_techniques_reach_the_newton_optimum(df, tech):
    """technique(bhhh|dfp|bfgs) and switching ([R] maximize) in the adaptive-quadrature
    loop: the same optimum as Newton-Raphson (bhhh's outer-product curvature stops it
    within its own scaled-gradient criterion: compared at 1e-3 standard errors)."""
    base, _, _ = _run("melogit y x || g:, nolog", df)
    res, _, warned = _run(f"melogit y x || g:, technique({tech}) nolog", df)
    assert res.converged and not warned
    assert res.llf == pytest.approx(base.llf, abs=1e-5)
    se = np.sqrt(np.diag(base.fit.vcov))
    np.testing.assert_allclose(res.fit.params, base.fit.params, atol=1e-3 * se.min())


def test_bhhh_curvature_is_the_outer_product_of_cluster_scores(df):
    """bhhh steps with sum_j s_j s_j': at the optimum it estimates the information, so
    its inverse is close to the Newton VCE (simulated correct model)."""
    base, _, _ = _run("melogit y x || g:, nolog", df)
    model, par, ad = (base.fit.extra[k] for k in ("model", "params_theta", "adaptive"))
    scores = model.scores(par, ad)
    np.testing.assert_allclose(scores.sum(0), 0, atol=1e-3)
    opg = scores.T @ scores
    np.testing.assert_allclose(np.diag(np.linalg.inv(opg)),
                               np.diag(np.linalg.inv(-base.fit.extra["hessian"])), rtol=0.5)


@pytest.mark.parametrize("cmd", ["melogit y x || g:, laplace", "meqrlogit y x || g:,"])
@pytest.mark.parametrize("tech", ["bfgs", "bhhh"])
def test_other_techniques_refused_for_laplace_and_meqr(df, cmd, tech):
    with pytest.raises(OptionError, match="technique"):
        memodels.fit(f"{cmd} technique({tech}) nolog", df)


def test_technique_nr_accepted_and_unknown_refused(df):
    res, _, _ = _run("melogit y x || g:, technique(nr) nolog", df)
    base, _, _ = _run("melogit y x || g:, nolog", df)
    assert res.llf == base.llf
    with pytest.raises(OptionError, match="not an algorithm"):
        memodels.fit("melogit y x || g:, technique(newton) nolog", df)


def test_difficult_and_dnumerical_reach_the_same_optimum(df):
    base, _, _ = _run("melogit y x || g:, nolog", df)
    for opt in ("difficult", "dnumerical"):
        res, _, _ = _run(f"melogit y x || g:, {opt} nolog", df)
        assert res.converged
        np.testing.assert_allclose(res.params, base.params, rtol=1e-5, atol=1e-6)


def test_dnumerical_laplace_uses_differences(df):
    base, _, _ = _run("melogit y x || g:, laplace nolog", df)
    res, _, _ = _run("melogit y x || g:, laplace dnumerical nolog", df)
    assert res.converged
    np.testing.assert_allclose(res.params, base.params, rtol=1e-4, atol=1e-5)


def test_newton_step_properties():
    """Concave: the Newton step -H^{-1}g (with or without difficult).  A saddle: both the
    default (eigenvalues reflected) and difficult (steepest ascent in the nonconcave
    directions) are ascent directions, and they differ.  Rescaling a parameter by c (a
    covariate 1e6 times larger) rescales the step by 1/c: a badly scaled parameter no
    longer freezes the others (the reliability scale sweep: var(_cons) stuck at its start
    value 1 with converged=True)."""
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4, 4))
    neg_def = -(a @ a.T + 0.5 * np.eye(4))
    grad = rng.normal(size=4)
    for hard in (False, True):
        step, concave = newton_step(grad, neg_def, difficult=hard)
        assert concave
        np.testing.assert_allclose(step, -np.linalg.solve(neg_def, grad), rtol=1e-10)
    saddle = neg_def + 30.0 * np.outer(a[0], a[0])
    assert np.linalg.eigvalsh(saddle).max() > 0
    default, concave = newton_step(grad, saddle)
    hard, _ = newton_step(grad, saddle, difficult=True)
    assert not concave and grad @ default > 0 and grad @ hard > 0
    assert not np.allclose(default, hard)
    scale = np.diag([1e6, 1.0, 1.0, 1e-3])
    for h in (neg_def, saddle):
        s1, _ = newton_step(grad, h)
        s2, _ = newton_step(scale @ grad, scale @ h @ scale)
        np.testing.assert_allclose(scale @ s2, s1, rtol=1e-8, atol=1e-12)


def test_badly_scaled_covariate_does_not_freeze_the_variance(df):
    """x times 1e6: the same fit, x's coefficient divided by 1e6 (independent reference:
    the fit on the unscaled data)."""
    base, _, _ = _run("melogit y x || g:, nolog", df)
    res, _, _ = _run("melogit y x || g:, nolog", df.assign(x=df.x * 1e6))
    assert res.converged
    assert res.llf == pytest.approx(base.llf, abs=1e-6)
    np.testing.assert_allclose(res.params.to_numpy() * [1e6, 1, 1], base.params.to_numpy(),
                               rtol=1e-5)


def test_trace_gradient_hessian_showstep_showtolerance(df):
    res, log, _ = _run("melogit y x || g:, trace gradient hessian showstep showtolerance",
                       df)
    tail = log.split("Fitting full model:")[-1]
    n_it = res.iterations + 1
    assert tail.count("Parameter vector:") == n_it
    assert tail.count("Gradient vector") == n_it
    assert tail.count("Negative Hessian:") == n_it
    assert tail.count("(tolerance = ") == n_it
    assert tail.count("step = 1:") >= res.iterations
    # the last parameter vector printed is the reported optimum (optimizer's metric)
    lines = tail.splitlines()
    last = lines[max(i for i, t in enumerate(lines) if t == "Parameter vector:") + 1]
    np.testing.assert_allclose([float(v) for v in last.split()],
                               res.fit.extra["params_theta"], rtol=1e-6)
    # the gradient printed last is small; the tolerance values match Stata's formulas
    tol_line = [t for t in lines if t.startswith("  (tolerance")][-1]
    nums = [float(v) for v in re.findall(r"= ([-0-9.e+]+)", tol_line)]
    lls = [ll for stage, _, ll in res.fit.log if stage == "Fitting full model:"]
    assert nums[1] == pytest.approx(reldif(lls[-1], lls[-2]), rel=1e-5)
    quiet, log2, _ = _run("melogit y x || g:, trace nolog", df)
    assert log2 == ""


def test_stata_relative_differences():
    assert mreldif(np.array([1.0, 3.0]), np.array([1.0, 1.0])) == pytest.approx(1.0)
    assert reldif(-101.0, -100.0) == pytest.approx(1 / 101)
    mx = Maximize()
    b0, b1 = np.array([1.0]), np.array([1.0 + 1e-7])
    # nrtolerance met and tolerance met -> converged; not concave -> never
    assert mx.converged(b1, b0, -10.0, -9.0, 1e-6, True)
    assert not mx.converged(b1, b0, -10.0, -9.0, 1e-6, False)
    assert not mx.converged(b1, b0, -10.0, -9.0, 1e-4, True)
    assert not mx.converged(b1 + 1, b0, -10.0, -9.0, 1e-6, True)
    assert mx.converged(b1 + 1, b0, -10.0, -10.0 + 1e-8, 1e-6, True)  # ltolerance


@pytest.fixture(scope="module")
def separated() -> pd.DataFrame:
    """y = 1 exactly when x > 0: complete separation, no maximum likelihood estimate."""
    rng = np.random.default_rng(3)
    g = np.repeat(np.arange(30), 10)
    x = rng.normal(size=g.size)
    return pd.DataFrame({"y": (x > 0).astype(float), "x": x, "g": g})


@pytest.mark.parametrize("cmd", COMMANDS)
def test_complete_separation_is_not_reported_converged(separated, cmd):
    """reliability finding 7: meqrlogit reported converged=True after 0 iterations with
    the start value var(_cons)=1; every command said converged.  The log likelihood is 0
    (every outcome predicted), so no maximum is attained."""
    sep = " " if "," in cmd else ", "
    if cmd.startswith("melogit"):
        # Stata's logit rule ([R] logit): complete separation by a continuous covariate is
        # an error; asis keeps the model, whose fit must then not claim convergence
        with pytest.raises(DataError, match="predicts data perfectly"):
            _run(f"{cmd}{sep}nolog", separated)
        cmd = f"{cmd}{sep}asis"
        sep = " "
    res, _, warned = _run(f"{cmd}{sep}nolog", separated)
    assert res.llf > -1e-5  # the data are perfectly predicted (independent of the flag)
    assert not res.converged
    assert any("predicted perfectly" in w for w in warned)
    text = str(res.summary())
    assert "convergence not achieved" in text and "predicted perfectly" in text


def test_iteration_zero_cannot_converge(df):
    """Convergence compares an iteration with the one before: iteration 0 alone never
    converges, even from the optimum (from() a converged fit takes one iteration)."""
    base, _, _ = _run("melogit y x || g:, nolog", df)
    again = memodels.fit("melogit y x || g:, nolog", df, from_=base)
    assert again.converged and again.iterations == 1
    assert again.llf == pytest.approx(base.llf, abs=1e-8)


def test_meqr_retolerance_reiterate_reach_the_mode_solver(df, monkeypatch):
    """retolerance()/reiterate() are the tolerance and iteration limit of the
    posterior-mode solve at every evaluation; tight values give the default optimum."""
    from memodels.glmm.twolevel import TwoLevelQuadrature

    seen: list[dict] = []
    original = TwoLevelQuadrature.adapt

    def spy(self, params, ad, *args, **kwargs):
        seen.append(kwargs)
        return original(self, params, ad, *args, **kwargs)

    base, _, _ = _run("meqrlogit y x || g:, nolog", df)
    monkeypatch.setattr(TwoLevelQuadrature, "adapt", spy)
    tight, _, _ = _run("meqrlogit y x || g:, retolerance(1e-10) reiterate(200) nolog", df)
    assert {"tol": 1e-10, "maxiter": 200} in seen
    assert tight.llf == pytest.approx(base.llf, abs=1e-6)


@pytest.mark.parametrize("opt,match", [
    ("matlog", "matlog"),
    ("refineopts(iterate(2))", "refinement"),
    ("refineopts(iterate(0) tolerance(1e-3))", "refinement"),
    ("reiterate(0)", "reiterate"),
])
def test_meqr_options_refused(df, opt, match):
    with pytest.raises(OptionError, match=match):
        memodels.fit(f"meqrlogit y x || g:, {opt} nolog", df)


def test_meqr_refineopts_iterate0_and_matsqrt_are_the_default(df):
    base, _, _ = _run("meqrlogit y x || g:, nolog", df)
    res, _, _ = _run("meqrlogit y x || g:, refineopts(iterate(0)) matsqrt nolog", df)
    assert res.llf == base.llf


def test_mestreg_iterate_caps_the_iterations():
    """mestreg shares the me commands' options (reliability: iterate(1) ran 6 iterations
    and said converged)."""
    from memodels.commands.mestreg import mestreg
    from memodels.survival import stset

    rng = np.random.default_rng(4)
    g = np.repeat(np.arange(60), 5)
    x = rng.normal(size=g.size)
    t = rng.exponential(1 / np.exp(-1.0 + 0.5 * x + rng.normal(0, 0.6, 60)[g]))
    d = (t < 3).astype(float)
    st = stset(pd.DataFrame({"t": np.minimum(t, 3), "d": d, "x": x, "g": g}), "t", "d")
    buf = io.StringIO()
    with warnings.catch_warnings(record=True) as seen, contextlib.redirect_stdout(buf):
        warnings.simplefilter("always")
        res = mestreg("x || g:, distribution(exponential) iterate(1)", st, log=True)
    assert _full_model_iterations(buf.getvalue()) == [0, 1]
    assert not res.converged and res.iterations == 1
    assert any(issubclass(w.category, ConvergenceWarning) for w in seen)
    full = mestreg("x || g:, distribution(exponential) nolog", st)
    assert full.converged and full.iterations > 1


@pytest.mark.parametrize("cmd", ["melogit y x || g:", "mepoisson y x || g:"])
def test_outcome_without_variation_is_not_converged(df, cmd):
    """All outcomes 0 (reliability all_zero_melogit / all_zero_mepoisson: converged=True,
    ll ~ 0, var at its start value): no maximum exists.  Refusing the data (Stata's
    "outcome does not vary") would be honest too."""
    from memodels.errors import MemodelsError

    try:
        res, _, warned = _run(f"{cmd}, nolog", df.assign(y=0.0))
    except MemodelsError:
        return
    assert not res.converged
    assert any("predicted perfectly" in w for w in warned)


@pytest.mark.parametrize("cmd", ["meqrlogit y x || g:,", "melogit y x || g:, laplace"])
def test_nonrtolerance_stops_the_quasi_newton_stage(df, cmd):
    """Laplace/meqr fits with nonrtolerance: Stata's rule is ltolerance() (or
    tolerance()) alone, checked at every quasi-Newton iterate (no Hessian needed): the fit
    stops at the first iteration whose reldif from the previous is below it."""
    res, _, _ = _run(f"{cmd} nonrtolerance ltolerance(1e-4) tolerance(0) nolog", df)
    lls = [ll for stage, _, ll in res.fit.log if stage == "Fitting full model:"]
    rel = [abs(b - a) / (abs(a) + 1) for a, b in zip(lls, lls[1:], strict=False)]
    first = next(i for i, r in enumerate(rel) if r <= 1e-4) + 1
    assert res.converged and res.iterations == first
    full, _, _ = _run(f"{cmd} nolog", df)
    assert full.iterations > res.iterations
