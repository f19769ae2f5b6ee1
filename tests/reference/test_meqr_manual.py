"""meqrlogit / meqrpoisson examples with data: the printed log likelihoods, coefficients,
SEs and variance components.  toenail with intpoints(30) included.  bangladesh is a near
copy (see test_glmm_manual): checked loosely.
"""

from __future__ import annotations

import numpy as np
import pytest

from support import fitted, me_examples

EXAMPLES = me_examples()


def _name(key: str) -> str:
    level, rest = key.split(": ", 1)
    inner = rest.split(" ", 1)[1] if " " in rest else rest  # drop "Identity"/"Unstructured"
    return inner[:-1] + f"[{level}])"


def _fit(case):
    ex = EXAMPLES[case]
    cmd = ex["command"][0] if isinstance(ex["command"], list) else ex["command"].split(" ; ")[0]
    return ex, fitted(ex["dataset"], cmd)


@pytest.mark.parametrize("case", ["meqrpoisson_ex1", "meqrpoisson_ex2", "meqrlogit_post_ex1"])
def test_exact_meqr_examples(case):
    ex, res = _fit(case)
    assert res.nobs == ex["n_obs"]
    assert res.llf == pytest.approx(ex["loglik"], abs=1e-3)
    for key, (est, se) in ex["fixed"].items():
        assert res.params[key] == pytest.approx(est, rel=1e-4, abs=1e-6), key
        assert res.bse[key] == pytest.approx(se, rel=1e-3), key
    for key, (est, se) in ex["random"].items():
        name = _name(key)
        assert res.params[name] == pytest.approx(est, rel=2e-4, abs=1e-6), name
        assert res.bse[name] == pytest.approx(se, rel=2e-3, abs=1e-6), name


def test_meqrlogit_bangladesh_loosely():
    ex, res = _fit("meqrlogit_ex1")
    assert abs(res.llf - ex["loglik"]) < 0.3
    for key, (est, se) in ex["fixed"].items():
        assert abs(res.params[key] - est) < 0.1 * se + 0.02 * abs(est), key


def test_stddeviations_and_estmetric():
    _, res = _fit("meqrpoisson_ex1")
    assert "lnsd(_cons[subject])" in res.estmetric.index
    ex = EXAMPLES["meqrpoisson_ex1"]
    cmd = ex["command"][0] + ", stddeviations"
    sd = fitted(ex["dataset"], cmd)
    assert sd.params["sd(_cons[subject])"] ** 2 == pytest.approx(
        res.params["var(_cons[subject])"], rel=1e-6)


def test_toenail_icc():
    """meqrlogit postestimation example 1: estat icc after intpoints(30)."""
    _, res = _fit("meqrlogit_post_ex1")
    icc = res.estat("icc")
    row = icc.iloc[0]
    assert row["icc"] == pytest.approx(0.830027, abs=1e-6)
    assert row["se"] == pytest.approx(0.026849, abs=1e-6)
    assert (row["lower"], row["upper"]) == (pytest.approx(0.7707981, abs=1e-6),
                                            pytest.approx(0.8764046, abs=1e-6))


def test_melanoma_three_level_meqrpoisson():
    """meqrpoisson example 3 (nation > region), multilevel mode-curvature quadrature.
    The printed log likelihood (-1097.714) is inconsistent with the printed estimates: the
    exact 7-point value at them is about -1095.31 (the issue notes a difference of about
    2.4), so the log likelihood is checked against that recomputation and the estimates
    against the print (to 1e-3: Stata's own optimum is reported to 4-5 digits)."""
    ex, res = _fit("meqrpoisson_ex3")
    assert res.llf == pytest.approx(-1095.310, abs=0.01)
    assert res.llf - ex["loglik"] == pytest.approx(2.40, abs=0.02)
    for key, val in ex["fixed"].items():
        if not isinstance(val, list):
            continue
        est, se = val
        assert res.params[key] == pytest.approx(est, rel=1e-3), key
        assert res.bse[key] == pytest.approx(se, rel=1e-3), key
    for key, (est, se) in ex["random"].items():
        level = key.split(":")[0]
        name = f"var(_cons[{'nation>region' if level == 'region' else level}])"
        assert res.params[name] == pytest.approx(est, rel=2e-3), name
        assert res.bse[name] == pytest.approx(se, rel=2e-3), name


def test_meqrpoisson_postestimation_modes_and_means():
    """meqrpoisson postestimation example 1: posterior modes (the meqr default for
    reffects) give subject-specific slopes and intercepts b1, b0, and predict n."""
    ex = EXAMPLES["meqrpoisson_post_ex1"]
    _, res = _fit("meqrpoisson_post_ex1")
    from support import load_dataset

    df = load_dataset("epilepsy")
    re = res.predict("reffects")
    b1 = res.params["visit"] + re.iloc[:, 0]
    b0 = res.params["_cons"] + re.iloc[:, 1]
    listed = ex["postestimation"][2]["rows"]
    for row in listed:
        i = row["obs"] - 1
        assert df.subject.iloc[i] == row["subject"]
        assert b1.iloc[i] == pytest.approx(row["b1"], abs=2e-4), row
        assert b0.iloc[i] == pytest.approx(row["b0"], abs=2e-4), row
    n = res.predict("mu")
    for row in ex["postestimation"][-1]["rows"] if "rows" in ex["postestimation"][-1] else []:
        assert n.iloc[row["obs"] - 1] == pytest.approx(row["n"], rel=2e-4), row


@pytest.mark.parametrize("case", ["meqrlogit_ex3", "meqrlogit_post_ex4"])
def test_meqrlogit_random_slopes_bangladesh_loosely(case):
    """Random coefficients on the near bangladesh copy (rural = 1 - urban as the manual's
    setup generates it): loose checks as for the other bangladesh examples."""
    import memodels
    from support import load_dataset

    ex = EXAMPLES[case]
    cmd = ex["command"] if isinstance(ex["command"], str) else ex["command"][0]
    df = load_dataset("bangladesh").assign(rural=lambda d: 1 - d.urban)
    res = memodels.fit(cmd + ", nolog" if "," not in cmd.split("||")[-1] else cmd + " nolog",
                       df)
    assert abs(res.llf - ex["loglik"]) < 0.3
    for key, (est, se) in ex["fixed"].items():
        assert abs(res.params[key] - est) < 0.2 * se + 0.02 * abs(est), key
    for key, (est, se) in ex["random"].items():
        assert abs(res.params[_name(key)] - est) < 0.5 * se, key


def test_fifeschool_crossed_meqrlogit_runs():
    """meqrlogit example 5 (crossed primary x secondary schools; its output is missing from
    the manual's text): the crossed model fits by the Laplace approximation, as the manual
    says R. notation implies, on the documented sample."""
    import memodels
    from support import load_dataset

    df = load_dataset("fifeschool").assign(attain_gt_6=lambda d: (d.attain > 6).astype(int))
    res = memodels.meqrlogit("attain_gt_6 sex || _all:R.pid || _all:R.sid, or", df, nolog=True)
    assert res.nobs == 3435 and res.converged
    assert res.intmethod == "laplace"
    assert {"var(R.pid[_all])", "var(R.sid[_all])"} <= set(res.params.index)


def test_meqr_options_accepted():
    import memodels
    from support import load_dataset

    ep = load_dataset("epilepsy")
    base = fitted("epilepsy", "mepoisson seizures treat lbas lbas_trt lage v4 || subject:")
    res = memodels.fit("meqrpoisson seizures treat lbas lbas_trt lage v4 || subject:, "
                       "retolerance(1e-8) reiterate(50) refineopts(iterate(0)) matsqrt nolog irr",
                       ep)
    assert res.llf == pytest.approx(base.llf, abs=1e-4)


def test_intpoints_per_level():
    """intpoints(# #): one number of points per level (outermost first)."""
    import memodels
    from support import load_dataset

    df = load_dataset("melanoma")
    res = memodels.meqrpoisson("deaths uv, exposure(expected) || nation: || region:, "
                               "intpoints(7 9)", df, nolog=True)
    assert res.fit.extra["model"].K == [7, 9]
    assert res.llf == pytest.approx(-1095.310, abs=0.01)


def test_meqrlogit_urban_slopes_and_lrtests_loosely():
    """meqrlogit example 2 (random urban slope by district, independent then unstructured)
    with its two LR tests, and postestimation examples 2-3 (the rural/urban
    parameterization: estat recovariance, posterior modes with SEs for districts 1-10,
    conditional and fixed-only probabilities).  bangladesh is a near copy, so every figure
    is checked loosely: LR statistics within 0.1, the correlation within 0.005, modes,
    their SEs and the probabilities within 0.01 (ours are within 0.003 of the print)."""
    import memodels
    from support import load_dataset

    df = load_dataset("bangladesh").assign(rural=lambda d: 1 - d.urban)
    r_int = fitted("bangladesh", "meqrlogit c_use urban age child* || district:, nolog")
    r_u = fitted("bangladesh", "meqrlogit c_use urban age child* || district: urban, nolog")
    r_uc = fitted("bangladesh", "meqrlogit c_use urban age child* || district: urban, "
                                "covariance(unstructured) nolog")
    ex = EXAMPLES["meqrlogit_ex2"]
    assert abs(r_uc.llf - ex["loglik"]) < 0.3
    lr1, lr2 = ex["postestimation"]
    assert memodels.lrtest(r_u, r_int).chi2 == pytest.approx(lr1["LR_chi2"], abs=0.1)
    assert memodels.lrtest(r_uc, r_u).chi2 == pytest.approx(lr2["LR_chi2"], abs=0.1)
    for key, (est, se) in ex["random"].items():
        assert abs(r_uc.params[_name(key)] - est) < 0.1 * se, key

    post = EXAMPLES["meqrlogit_post_ex2"]
    res = memodels.meqrlogit("c_use rural urban age child*, noconstant || district: rural "
                             "urban, noconstant cov(unstructured)", df, nolog=True)
    corr = res.estat("recovariance", correlation=True)
    assert corr["district"].loc["urban", "rural"] == pytest.approx(-0.05231, abs=0.005)
    re, se = res.predict("reffects"), res.predict("reses")
    for row in post["postestimation"][-1]["rows"]:
        i = row[0] - 1
        assert df.district.iloc[i] == row[1]
        np.testing.assert_allclose(re.iloc[i], [row[2], row[4]], atol=0.01)
        np.testing.assert_allclose(se.iloc[i], [row[3], row[5]], atol=0.01)
    p, pf = res.predict("mu"), res.predict("mu", fixedonly=True)
    for row in EXAMPLES["meqrlogit_post_ex3"]["postestimation"][-1]["rows"]:
        i = row[0] - 1
        assert p.iloc[i] == pytest.approx(row[2], abs=0.01)
        assert pf.iloc[i] == pytest.approx(row[3], abs=0.01)
