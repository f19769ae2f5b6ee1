"""``svy:`` results as Stata prints them ([SVY] svy estimation; [ME] meglm, example 6):
t statistics, p-values and intervals from Student's t with the design df (PSUs minus
strata), the survey header and the adjusted Wald F = chi2/k (d - k + 1)/d on
(k, d - k + 1) df -- checked against the manual's printed figures and against the
formulas computed here from the fit's coefficients and linearized VCE."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from memodels.results.rows import ParamRow
from memodels.results.survey_stats import adjusted_wald_f
from memodels.session import Session


def test_manual_example6_t_intervals_and_f_df():
    # [ME] meglm example 6: design df 147, F( 8, 140); female .6221369 (.1540088)
    # t = 4.04, interval [.3177796, .9264943]; var(_cons) .2955769 (.1243375) with
    # interval [.1287156, .6787495] on the log scale with t(147)
    female = ParamRow("female", "fixed", "female", "", .6221369, .1540088, df=147)
    assert round(female.z, 2) == 4.04 and round(female.p, 3) == 0.000
    np.testing.assert_allclose(female.ci(), (.3177796, .9264943), rtol=2e-6)
    college = ParamRow("college", "fixed", "college", "", .4531688, .5053447, df=147)
    assert round(college.p, 3) == 0.371
    np.testing.assert_allclose(college.ci(), (-.5455101, 1.451848), rtol=2e-6)
    var = ParamRow("var(_cons[id_school])", "random", "var(_cons)", "id_school",
                   .2955769, .1243375, ci_rule="log", df=147)
    np.testing.assert_allclose(var.ci(), (.1287156, .6787495), rtol=2e-6)
    _, k, df2 = adjusted_wald_f(80.0, 8, 147)
    assert (k, df2) == (8, 140)
    f, _, _ = adjusted_wald_f(80.0, 8, 147)
    assert f == pytest.approx(80.0 / 8 * 140 / 147)
    assert np.isnan(adjusted_wald_f(5.0, 5, 3)[0])  # d - k + 1 < 1: missing


@functools.cache
def _data() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    n_psu, n_per = 24, 10
    psu = np.repeat(np.arange(n_psu), n_per)
    u = rng.normal(scale=0.7, size=n_psu)[psu]
    x1, x2 = rng.normal(size=(2, psu.size))
    y = (0.2 + 0.6 * x1 - 0.4 * x2 + u + rng.logistic(size=psu.size) > 0).astype(int)
    return pd.DataFrame({"psu": psu, "stratum": (np.arange(n_psu) % 3)[psu], "x1": x1,
                         "x2": x2, "y": y, "w": rng.uniform(1, 3, n_psu)[psu]})


@functools.cache
def _session() -> Session:
    s = Session(_data())
    s.run("svyset psu, weight(w) strata(stratum)")
    s.run("svy: melogit y x1 x2 || psu:, nolog")
    return s


def test_svy_table_uses_t_with_the_design_df_and_the_adjusted_f():
    s = _session()
    res = s.e
    d = 24 - 3
    assert res.extra["df_r"] == d
    b = res.params.to_numpy()[:2]
    v = res.vcov.to_numpy()[:2, :2]
    chi2 = float(b @ np.linalg.solve(v, b))
    f = chi2 / 2 * (d - 2 + 1) / d
    assert res.extra["F"] == pytest.approx(f, rel=1e-10)
    assert (res.extra["df_m"], res.extra["F_df2"]) == (2, d - 1)
    row = next(r for r in res.rows if r.name == "x1")
    t = b[0] / np.sqrt(v[0, 0])
    assert row.p == pytest.approx(2 * stats.t.sf(abs(t), d), rel=1e-10)
    crit = stats.t.ppf(0.975, d)
    np.testing.assert_allclose(row.ci(), (b[0] - crit * np.sqrt(v[0, 0]),
                                          b[0] + crit * np.sqrt(v[0, 0])), rtol=1e-10)
    text = s.run("melogit")
    assert text.startswith("Survey: Mixed-effects logistic regression")
    assert "Number of strata   =          3" in text
    assert "Number of PSUs     =         24" in text
    assert f"F( 2, {d - 1})" in text and f"{f:.2f}" in text
    assert f"{stats.f.sf(f, 2, d - 1):.4f}" in text
    assert "Design df         =         21" in text
    pop = float(_data()["w"].sum())
    assert f"{pop:,.2f}" in text
    assert "      t    P>|t|" in text and "P>|z|" not in text
    assert f"{t:.2f}" in text


def test_test_and_lincom_after_svy_use_the_design_df():
    s = _session()
    res = s.e
    d = 21
    b = res.params.to_numpy()[:2]
    v = res.vcov.to_numpy()[:2, :2]
    s.run("test x1 x2")
    chi2 = float(b @ np.linalg.solve(v, b))
    assert s.r["F"] == pytest.approx(chi2 / 2 * (d - 1) / d, rel=1e-8)
    assert s.r["df_r"] == d - 1
    s.run("test x1")
    assert s.r["F"] == pytest.approx(b[0] ** 2 / v[0, 0], rel=1e-8)
    assert s.r["df_r"] == d
    out = s.run("lincom x1 - x2")
    c = np.array([1.0, -1.0])
    se = float(np.sqrt(c @ v @ c))
    lo = (b[0] - b[1]) - stats.t.ppf(0.975, d) * se
    assert 0 < lo < 1  # printed as .xxxxxxx
    assert "P>|t|" in out and f"{lo:.7f}"[1:] in out


def test_svy_mestreg_is_the_cluster_sandwich_with_t_statistics():
    # [ME] mestreg allows svy; a one-stage design without strata or fpc reduces the
    # linearized VCE to the sandwich clustered at the PSUs (vce(robust))
    rng = np.random.default_rng(3)
    g = np.repeat(np.arange(20), 8)
    u = rng.normal(scale=0.5, size=20)[g]
    x = rng.normal(size=g.size)
    t = rng.weibull(1.5, size=g.size) * np.exp(-0.5 * x - u)
    data = pd.DataFrame({"g": g, "x": x, "t": t, "fail": 1})
    s = Session(data)
    s.run("stset t, failure(fail)")
    s.run("mestreg x || g:, distribution(weibull) vce(robust) nolog")
    ref = s.e
    s.run("svyset g")
    s.run("svy: mestreg x || g:, distribution(weibull) nolog")
    np.testing.assert_allclose(s.e.params.to_numpy(), ref.params.to_numpy(), rtol=1e-10)
    np.testing.assert_allclose(s.e.vcov.to_numpy(), ref.vcov.to_numpy(), rtol=1e-8)
    assert s.e.extra["df_r"] == 19
    row = next(r for r in s.e.rows if r.name == "x")
    assert row.p == pytest.approx(2 * stats.t.sf(abs(row.estimate / row.se), 19))


def test_svy_e_scalars_in_display():
    s = _session()
    assert float(s.run("display e(df_r)")) == 21
    assert float(s.run("display e(N_psu)")) == 24
    assert float(s.run("display e(N_strata)")) == 3
    assert float(s.run("display e(F)")) == pytest.approx(s.e.extra["F"], rel=1e-6)
    assert float(s.run("display e(N_pop)")) == pytest.approx(float(_data()["w"].sum()),
                                                              rel=1e-6)


def test_svy_without_covariates_has_a_missing_f():
    d = _data()
    s = Session(d)
    s.run("svyset psu")
    text = s.run("svy: melogit y || psu:, nolog")
    assert "F( 0, 23)" in text and "Population size   =        240" in text
    assert np.isnan(s.e.extra["F"])
