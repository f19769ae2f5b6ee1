"""GLMM results from hand-built fits: names, delta-method SEs and CIs, eform display,
tests, header lines -- checked against the manual's printed tables where one exists."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from glmm_fit_helpers import (
    Z95,
    CovStructure,
    bangladesh_like,
    counts_like,
    design_for,
    make_fit,
    results,
    var_to_phi,
)

from memodels.datasets import load
from memodels.results.glmm import build_glmm_results, lr_reference_model

BETA_EX1 = [0.7322765, -0.0264981, 1.116001, 1.365895, 1.344031, -1.68929]
SE_EX1 = [0.1194857, 0.0078916, 0.1580921, 0.1746691, 0.1796549, 0.1477591]


def rel(a, b, tol=2e-6):
    return math.isclose(a, b, rel_tol=tol, abs_tol=1e-7)


@pytest.fixture(scope="module")
def melogit_ex1():
    """[ME] melogit example 1 (L4664-4689): estimates as printed."""
    lnsd, se = var_to_phi(0.215618, 0.0733222)
    return results(
        "melogit", "c_use urban age child* || district:", bangladesh_like(),
        dict(beta=BETA_EX1, beta_se=SE_EX1, phi=[lnsd], phi_se=[se], llf=-1206.8322,
             ll_fixed=-1228.5263),
        family="bernoulli", link="logit",
    )


def test_names_follow_stata_eb(melogit_ex1):
    assert list(melogit_ex1.params.index) == [
        "urban", "age", "child1", "child2", "child3", "_cons", "var(_cons[district])"
    ]
    assert list(melogit_ex1.estmetric.index)[-1] == "lnsd(_cons[district])"
    assert melogit_ex1.vcov.shape == (7, 7)


def test_variance_component_delta_se_and_log_ci(melogit_ex1):
    row = next(r for r in melogit_ex1.rows if r.name == "var(_cons[district])")
    assert rel(row.estimate, 0.215618) and rel(row.se, 0.0733222)
    lo, hi = row.ci(95)
    # printed: .1107208  .4198954
    assert abs(lo - 0.1107208) < 2e-7 and abs(hi - 0.4198954) < 2e-7
    assert row.block == "district" and row.label == "var(_cons)"
    assert math.isnan(row.z)


def test_fixed_rows_ci_and_z(melogit_ex1):
    t = melogit_ex1.table()
    assert abs(t.loc["urban", "ci_lower"] - 0.4980888) < 2e-7
    assert abs(t.loc["urban", "z"] - 6.13) < 0.005
    assert t.loc["_cons", "p"] < 1e-4


def test_lr_and_wald_and_ic(melogit_ex1):
    lr = melogit_ex1.lr_test
    assert lr.label == "LR test vs. logistic model" and lr.kind == "chibar2(01)"
    assert f"{lr.stat:.2f}" == "43.39"
    assert melogit_ex1.wald_df == 5  # every fixed effect but _cons
    assert melogit_ex1.n_params == 7
    assert melogit_ex1.aic == pytest.approx(2 * 1206.8322 + 14)
    assert melogit_ex1.ll_fixed == -1228.5263


def test_header_and_table_text(melogit_ex1):
    text = melogit_ex1.summary()
    lines = text.splitlines()
    assert lines[0].startswith("Mixed-effects logistic regression")
    assert lines[0].endswith("Number of obs     =        480")
    assert "Group variable:        district" in text
    assert "Integration method: mvaghermite                 Integration pts.  =          7" in text
    assert "       c_use |      Coef.   Std. Err.      z    P>|z|     [95% Conf. Interval]" in text
    assert "district     |" in lines
    # (the last CI digit depends on the rounding of the printed inputs)
    assert any(line.startswith("   var(_cons)|    .215618   .0733222                      .110720")
               for line in lines)
    assert "       urban |   .7322765   .1194857     6.13   0.000     .4980888    .966464" in text
    assert "LR test vs. logistic model: chibar2(01) = 43.39" in text
    assert "Prob >= chibar2 = 0.0000" in text


# ------------------------------------------------------------------ eform display
def test_or_display_binomial_department():
    """[ME] me, L966-1003: melogit nadmitted female || department:, binomial(napplied) or."""
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"department": np.repeat(np.arange(23), 2), "female": np.tile([0, 1], 23),
                       "napplied": rng.integers(20, 60, 46)})
    df["nadmitted"] = (df["napplied"] * 0.4).round()
    b = [math.log(1.176898), math.log(0.7907009)]
    se = [0.1310535 / 1.176898, 0.2057191 / 0.7907009]
    lnsd, sev = var_to_phi(1.345383, 0.460702)
    res = results("melogit", "nadmitted female || department:, binomial(napplied) or", df,
                  dict(beta=b, beta_se=se, phi=[lnsd], phi_se=[sev], llf=-140.61628,
                       ll_fixed=-299.99934),
                  family="binomial", link="logit", trials_var="napplied")
    assert res.eform == "or" and res.coef_label == "Odds Ratio"
    assert res.params["female"] == pytest.approx(b[0])  # b scale: eform is display only
    t = res.table()
    assert t.loc["female", "estimate"] == pytest.approx(1.176898, rel=1e-9)
    assert t.loc["female", "se"] == pytest.approx(0.1310535, rel=1e-9)
    assert t.loc["female", "ci_lower"] == pytest.approx(0.9461357, rel=1e-6)
    assert t.loc["female", "ci_upper"] == pytest.approx(1.463944, rel=1e-6)
    assert t.loc["_cons", "ci_upper"] == pytest.approx(1.316655, rel=1e-6)
    assert res.table(eform=False).loc["female", "estimate"] == pytest.approx(b[0])
    text = res.summary()
    assert "   nadmitted | Odds Ratio   Std. Err.      z    P>|z|     [95% Conf. Interval]" in text
    # CI digits beyond the 7th depend on the rounding of the printed inputs
    assert "      female |   1.176898   .1310535     1.46   0.144     .946135" in text
    assert "       _cons |   .7907009   .2057191    -0.90   0.367" in text
    assert "Binomial variable:" in text and "napplied" in text
    # the variance component is not exponentiated
    assert "   var(_cons)|   1.345383    .460702                      .6876" in text
    assert f"{res.lr_test.stat:.2f}" == "318.77"


def test_menbreg_irr_lnalpha_row():
    """[ME] menbreg example 1 (L5769-5794)."""
    irr = [0.9008536, 1.003593, 1.007026, 1.089597, 3.043562, 1.136342, 0.5017199]
    irr_se = [0.042022, 0.0028206, 0.012827, 0.064213, 0.2366182, 0.0867148, 0.285146]
    b = np.log(irr)
    se = np.array(irr_se) / np.array(irr)
    lnsd, sev = var_to_phi(0.4740088, 0.0582404)
    res = results("menbreg", "numvisit reform age educ married badh loginc || id:, irr",
                  counts_like(),
                  dict(beta=b, beta_se=se, aux=[-0.7962692], aux_se=[0.1190614],
                       aux_names=("/lnalpha",), phi=[lnsd], phi_se=[sev], llf=-4513.1853,
                       ll_fixed=-4562.3238),
                  family="nbinomial", link="log", dispersion="mean")
    assert res.title == "Mixed-effects nbinomial regression"
    assert list(res.params.index)[-2:] == ["/lnalpha", "var(_cons[id])"]
    row = next(r for r in res.rows if r.name == "/lnalpha")
    assert f"{row.z:.2f}" == "-6.69"
    lo, hi = row.ci(95)
    assert abs(lo + 1.029625) < 1e-6 and abs(hi + 0.5629132) < 1e-6
    assert res.alpha == pytest.approx(math.exp(-0.7962692))
    assert res.wald_df == 6  # /lnalpha and _cons excluded
    assert res.n_params == 9
    assert res.lr_test.label == "LR test vs. nbinomial model"
    assert f"{res.lr_test.stat:.2f}" == "98.28"
    text = res.summary()
    assert "Overdispersion:" in text and "mean" in text
    assert "    numvisit |        IRR   Std. Err." in text
    assert "      reform |   .9008536    .042022    -2.24   0.025     .822144" in text
    assert "    /lnalpha |  -.7962692   .1190614    -6.69   0.000    -1.029625   -.562913" in text
    assert "   var(_cons)|   .4740088   .0582404                      .3725642    .6030754" in text


def test_eform_base_levels_show_one():
    df = bangladesh_like()
    df["grp"] = np.tile([1, 2, 3], len(df) // 3)
    lnsd, sev = var_to_phi(0.2, 0.05)
    res = results("mecloglog", "c_use i.grp || district:, eform baselevels", df,
                  dict(beta=[0.1, -0.2, 0.3], beta_se=[0.1, 0.1, 0.1], phi=[lnsd],
                       phi_se=[sev]),
                  family="bernoulli", link="cloglog")
    text = res.summary()
    assert "       c_use |     exp(b)   Std. Err.      z    P>|z|" in text
    assert "          1  |          1  (base)" in text
    assert "          2  |   1.105171   .1105171     1.00   0.317" in text
    assert res.title == "Mixed-effects cloglog regression"
    assert res.lr_test.label == "LR test vs. cloglog model"


# ---------------------------------------------------------- gaussian and residual
def test_meglm_gaussian_pig():
    """[ME] meglm example 1 (L2824-2849): var(e.weight) from the /lnsigma aux."""
    pig = load("pig")
    lnsd, sev = var_to_phi(14.81745, 3.124202)
    lns_e, se_e = var_to_phi(4.383264, 0.3163349)
    res = results("meglm", "weight week || id:", pig,
                  dict(beta=[6.209896, 19.35561], beta_se=[0.0390124, 0.5974047],
                       aux=[lns_e], aux_se=[se_e], aux_names=("/lnsigma",), phi=[lnsd],
                       phi_se=[sev], llf=-1014.9268, ll_fixed=-1251.2506),
                  family="gaussian", link="identity")
    assert list(res.params.index) == ["week", "_cons", "var(_cons[id])", "var(e.weight)"]
    assert list(res.estmetric.index) == ["week", "_cons", "/lnsigma", "lnsd(_cons[id])"]
    row = next(r for r in res.rows if r.name == "var(e.weight)")
    assert rel(row.estimate, 4.383264) and rel(row.se, 0.3163349)
    lo, hi = row.ci(95)
    assert abs(lo - 3.805112) < 2e-6 and abs(hi - 5.049261) < 2e-6
    lo, hi = next(r for r in res.rows if r.name == "var(_cons[id])").ci(95)
    assert abs(lo - 9.801687) < 2e-6 and abs(hi - 22.39989) < 2e-5
    assert res.lr_test.label == "LR test vs. linear model"
    assert f"{res.lr_test.stat:.2f}" == "472.65"
    assert res.n_params == 4
    assert res.wald_df == 1
    text = res.summary()
    lines = text.splitlines()
    assert lines[0].startswith("Mixed-effects GLM")
    assert lines[1] == "Family:                Gaussian"
    assert lines[2] == "Link:                  identity"
    assert "Group variable:              id" in lines[3]
    assert "var(e.weight)|   4.383264   .3163349                      3.805112    5.049261" in text
    # the residual row follows its own separator, without a level header
    i = next(k for k, line in enumerate(lines) if line.startswith("var(e.weight)"))
    assert lines[i - 1].startswith("-------------+")


# -------------------------------------------------------- covariance structures
def _numeric_reported(struct: CovStructure, phi: np.ndarray, pairs) -> np.ndarray:
    sig = struct.sigma_from_phi(phi)
    return np.array([sig[i, j] for i, j in pairs])


@pytest.mark.parametrize("kind,q", [("unstructured", 2), ("unstructured", 3),
                                    ("exchangeable", 3), ("independent", 2), ("identity", 3)])
def test_delta_method_matches_numerical_jacobian(kind, q):
    df = bangladesh_like()
    effects = ["urban", "child1"][: q - 1]
    spec = f"c_use urban child1 || district: {' '.join(effects)}, cov({kind})"
    design, opts, model = design_for("melogit", spec, df)
    struct = CovStructure(kind, q)
    rng = np.random.default_rng(q)
    phi = rng.normal(-0.5, 0.3, struct.n_params)
    a = rng.normal(size=(struct.n_params, struct.n_params))
    phi_vcov = a @ a.T * 0.01 + np.eye(struct.n_params) * 0.01
    fit = make_fit(design, [0.1, 0.2, 0.3], [0.1, 0.1, 0.1], phi=phi, phi_vcov=phi_vcov)
    res = build_glmm_results(design, fit, command="melogit", cmdline=spec, options=opts,
                             family="bernoulli")
    names = [*effects, "_cons"]
    rows = [r for r in res.rows if r.section == "random"]
    pairs = []
    for r in rows:
        inner = r.label[4:-1].split(",")
        pairs.append((names.index(inner[0]), names.index(inner[-1])))
    # every effect has a var row (identity/exchangeable included), Stata's order
    assert [r.label for r in rows if r.label.startswith("var")] == [f"var({n})" for n in names]
    if kind == "unstructured" and q == 2:
        assert [r.name for r in rows] == ["var(urban[district])", "var(_cons[district])",
                                          "cov(urban,_cons[district])"]
    if kind == "exchangeable":
        assert [r.label for r in rows if r.label.startswith("cov")] == [
            "cov(child1,urban)", "cov(_cons,urban)", "cov(_cons,child1)"]
    assert res.n_params == 3 + struct.n_params
    h = 1e-6
    jac = np.zeros((len(rows), phi.size))
    for k in range(phi.size):
        e = np.zeros(phi.size)
        e[k] = h
        jac[:, k] = (_numeric_reported(struct, phi + e, pairs)
                     - _numeric_reported(struct, phi - e, pairs)) / (2 * h)
    se_num = np.sqrt(np.diag(jac @ phi_vcov @ jac.T))
    est = _numeric_reported(struct, phi, pairs)
    np.testing.assert_allclose([r.estimate for r in rows], est, rtol=1e-10)
    np.testing.assert_allclose([r.se for r in rows], se_num, rtol=1e-6)
    v = res.vcov.loc[[r.name for r in rows], [r.name for r in rows]].to_numpy()
    np.testing.assert_allclose(v, jac @ phi_vcov @ jac.T, rtol=1e-5, atol=1e-12)
    for r in rows:
        lo, hi = r.ci(95)
        if r.label.startswith("cov"):
            assert r.z == pytest.approx(r.estimate / r.se)
            assert lo == pytest.approx(r.estimate - Z95 * r.se)
        else:
            assert math.isnan(r.z)
            assert lo == pytest.approx(r.estimate * math.exp(-Z95 * r.se / r.estimate))
    lr = res.lr_test
    assert lr.kind == ("chibar2(01)" if struct.n_params == 1 else f"chi2({struct.n_params})")


def test_covariance_block_display():
    df = bangladesh_like()
    spec = "c_use urban || district: urban, cov(unstructured)"
    design, opts, _ = design_for("meglm", spec, df, family="bernoulli")
    s = CovStructure("unstructured", 2)
    phi = s.phi_from_sigma(np.array([[0.6663222, -0.4058846], [-0.4058846, 0.3882446]]))
    fit = make_fit(design, [0.8, -1.7], [0.17, 0.16], phi=phi, phi_se=[0.2, 0.15, 0.3])
    res = build_glmm_results(design, fit, command="meglm", cmdline=spec, options=opts,
                             family="bernoulli")
    lines = res.summary().splitlines()
    i = lines.index("district     |")
    assert lines[i + 1].startswith("   var(urban)|")
    assert lines[i + 2].startswith("   var(_cons)|")
    assert lines[i + 3].startswith("-------------+")
    assert lines[i + 4] == "district     |"
    assert lines[i + 5].startswith("cov(urban,~s)|  -.4058846")
    assert "LR test vs. logistic model: chi2(3)" in "\n".join(lines)
    assert "Note: LR test is conservative and provided only for reference." in lines


# --------------------------------------------------------- nested and crossed
def test_nested_names_group_table_and_wrapped_header():
    df = counts_like()
    df = df.rename(columns={"nation": "family", "region": "subject"})
    spec = "numvisit reform, exposure(expected) || family: || subject:"
    design, opts, _ = design_for("mepoisson", spec, df)
    a, sa = var_to_phi(0.1841878, 0.0945722)
    b, sb = var_to_phi(0.0382645, 0.0087757)
    fit = make_fit(design, [0.0057, 0.129], [0.0138, 0.158], phi=[a, b], phi_se=[sa, sb],
                   llf=-1086.8994, ll_fixed=-1722.9762)
    res = build_glmm_results(design, fit, command="mepoisson", cmdline=spec, options=opts,
                             family="poisson")
    assert list(res.params.index)[-2:] == ["var(_cons[family])", "var(_cons[family>subject])"]
    assert "ln(expected)" not in res.params.index  # the exposure line is not a parameter
    assert res.lr_test.kind == "chi2(2)" and res.lr_test.label == "LR test vs. Poisson model"
    assert f"{res.lr_test.stat:.2f}" == "1272.15"
    lines = res.summary().splitlines()
    assert " Group Variable |     Groups    Minimum    Average    Maximum" in lines
    assert any(line.startswith("         family |          5") for line in lines)
    assert any(line.startswith(" family>subject |         25") for line in lines)
    assert "ln(expected) |          1  (exposure)" in lines
    i = lines.index("family>      |")
    assert lines[i + 1] == "subject      |"
    assert lines[i + 2].startswith("   var(_cons)|   .0382645   .0087757")
    row = next(r for r in res.rows if r.name == "var(_cons[family>subject])")
    lo, hi = row.ci(95)
    assert abs(lo - 0.0244105) < 2e-7 and abs(hi - 0.0599811) < 2e-7


def test_crossed_names_and_laplace_header():
    rng = np.random.default_rng(5)
    df = pd.DataFrame({"y": rng.integers(0, 2, 120), "wsm": rng.integers(0, 2, 120),
                       "male": np.repeat(np.arange(20), 6), "female": np.tile(np.arange(20), 6)})
    spec = "y wsm || _all: R.male || _all: R.female"
    design, opts, _ = design_for("meglm", spec, df, family="bernoulli", link="logit")
    a, sa = var_to_phi(1.040986, 0.5057338)
    b, sb = var_to_phi(1.17433, 0.5505085)
    fit = make_fit(design, [-0.7, 1.0], [0.45, 0.39], phi=[a, b], phi_se=[sa, sb],
                   intmethod="laplace", llf=-209.27659, ll_fixed=-222.78735)
    res = build_glmm_results(design, fit, command="meglm", cmdline=spec, options=opts,
                             family="bernoulli")
    assert list(res.params.index)[-2:] == ["var(_cons[_all>male])", "var(_cons[_all>female])"]
    text = res.summary()
    lines = text.splitlines()
    assert "Integration method:     laplace" in lines
    assert "Integration pts." not in text
    assert "_all>male    |" in lines and "_all>female  |" in lines
    assert f"{res.lr_test.stat:.2f}" == "27.02" and res.lr_test.kind == "chi2(2)"
    assert res.intpoints == 1 and res.intmethod == "laplace"


def test_constant_only_wald_is_missing():
    df = bangladesh_like()
    spec = "c_use || district:"
    design, opts, _ = design_for("melogit", spec, df)
    fit = make_fit(design, [-0.5], [0.1], phi=[-0.5], phi_se=[0.2])
    res = build_glmm_results(design, fit, command="melogit", cmdline=spec, options=opts,
                             family="bernoulli")
    assert res.wald_df == 0 and math.isnan(res.wald_chi2)
    text = res.summary()
    assert "Wald chi2(0)      =          ." in text
    assert "Prob > chi2       =          ." in text


def test_nolrtest_noheader_nogroup():
    df = bangladesh_like()
    spec = "c_use urban || district:, nolrtest nogroup"
    design, opts, _ = design_for("melogit", spec, df)
    fit = make_fit(design, [0.5, -0.5], [0.1, 0.1], phi=[-0.5], phi_se=[0.2])
    res = build_glmm_results(design, fit, command="melogit", cmdline=spec, options=opts,
                             family="bernoulli")
    assert res.lr_test is None
    text = res.summary()
    assert "LR test" not in text and "Obs per group" not in text
    res.options["noheader"] = True
    assert not res.summary().startswith("Mixed-effects")


@pytest.mark.parametrize("family,link,label", [
    ("bernoulli", "logit", "logistic"), ("binomial", "probit", "probit"),
    ("bernoulli", "cloglog", "cloglog"), ("poisson", "log", "Poisson"),
    ("nbinomial", "log", "nbinomial"), ("gaussian", "identity", "linear"),
    ("ordinal", "logit", "ologit"), ("ordinal", "probit", "oprobit"),
])
def test_lr_reference_labels(family, link, label):
    assert lr_reference_model(family, link) == label
