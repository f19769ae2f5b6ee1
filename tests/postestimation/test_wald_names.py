"""test/lincom/nlcom/testnl with Stata's e(b) equation names ([R] test, [R] nlcom,
[R] testnl; audit rows N3, N4, N11): after ``mixed`` e(b) holds lns1_1_1, atr1_1_1_2 and
lnsig_e; after the me commands var(_cons[id]), /cut1... .  Expected values come from the
manual's printed tables ([ME] mixed, examples 1 and 3 on pig; [ME] meologit example 1)
and the delta method computed here with numpy."""

from __future__ import annotations

import re

import numpy as np
import pytest
from scipy import stats

from memodels.errors import MemodelsError, OptionError
from memodels.session import Session, SessionError
from support import fitted, load_dataset

PIG_RI = "mixed weight week || id:"
PIG_UN = "mixed weight week || id: week, cov(unstructured)"
# [ME] mixed, example 1 (pig, random intercept)
WEEK, SE_WEEK = 6.209896, 0.0390124
VAR_ID, SE_VAR_ID = 14.81751, 3.124226
VAR_E, SE_VAR_E = 4.383264, 0.3163348


@pytest.fixture(scope="module")
def pig_ri():
    return fitted("pig", PIG_RI)


# ------------------------------------------------------------------- mixed
def test_nlcom_variance_from_ln_sd_equation(pig_ri):
    """nlcom exp(2*[lns1_1_1]_cons) is var(_cons[id]) of the RE table, with its SE."""
    for text in ("exp(2*[lns1_1_1]_cons)", "exp(2*_b[lns1_1_1:_cons])",
                 "exp([lns1_1_1]_cons)^2"):
        c = pig_ri.nlcom(text)
        assert c.estimate == pytest.approx(VAR_ID, rel=1e-5)
        assert c.se == pytest.approx(SE_VAR_ID, rel=1e-4)


def test_lincom_lnsig_e(pig_ri):
    """lincom [lnsig_e]_cons = log(sigma_e); delta method: se = se(var) / (2 var)."""
    c = pig_ri.lincom("[lnsig_e]_cons")
    assert c.estimate == pytest.approx(0.5 * np.log(VAR_E), abs=2e-6)
    assert c.se == pytest.approx(SE_VAR_E / (2 * VAR_E), rel=1e-4)
    assert c.expression == "[lnsig_e]_cons = 0"


def test_test_on_ln_sd_equation(pig_ri):
    """test [lns1_1_1]_cons = 0: chi2 = (ln sd / se(ln sd))^2 from the manual's figures
    (the fixed _cons would give 1049.7)."""
    lnsd = 0.5 * np.log(VAR_ID)
    se = SE_VAR_ID / (2 * VAR_ID)
    t = pig_ri.test("[lns1_1_1]_cons = 0")
    assert t.df == 1
    assert t.chi2 == pytest.approx((lnsd / se) ** 2, rel=1e-4)
    assert "[lns1_1_1]_cons = 0" in str(t)
    both = pig_ri.test("[lns1_1_1]_cons = [lnsig_e]_cons")
    assert both.df == 1
    diff = lnsd - 0.5 * np.log(VAR_E)
    ev = pig_ri.estmetric_vcov  # Stata's e(V): the two are correlated
    var = (ev.loc["lnsd(_cons[id])", "lnsd(_cons[id])"] + ev.loc["lnsig_e", "lnsig_e"]
           - 2 * ev.loc["lnsd(_cons[id])", "lnsig_e"])
    assert both.chi2 == pytest.approx(diff ** 2 / var, rel=1e-4)


def test_fixed_effects_by_equation(pig_ri):
    for text in ("[weight]week", "_b[weight:week]", "week", "_b[week]"):
        t = pig_ri.test(f"{text} = 0")
        assert t.chi2 == pytest.approx((WEEK / SE_WEEK) ** 2, rel=1e-4)


@pytest.mark.parametrize("text, named", [
    ("[id]week", "[id]"),            # no equation id in mixed's e(b)
    ("[lns1_1_1]week", "[lns1_1_1]week"),
    ("[lns1_1_2]_cons", "[lns1_1_2]"),
    ("_b[lns9_1_1:_cons]", "[lns9_1_1]"),
    ("_b[nosuch]", "[nosuch]"),
    ("nosuch + week", "nosuch"),
])
def test_unknown_names_refused_by_name(pig_ri, text, named):
    with pytest.raises(OptionError, match=named.replace("[", r"\[").replace("]", r"\]")):
        pig_ri.test(f"{text} = 0")
    with pytest.raises(OptionError):
        pig_ri.nlcom(text)


def test_metrics_not_mixed(pig_ri):
    with pytest.raises(OptionError, match="cannot be combined"):
        pig_ri.lincom("[lns1_1_1]_cons - var(_cons[id])")


def test_unstructured_equations():
    """lns1_1_1 is week, lns1_1_2 _cons, atr1_1_1_2 their correlation ([ME] mixed, ex 3)."""
    res = fitted("pig", PIG_UN)
    assert res.nlcom("exp(2*[lns1_1_1]_cons)").estimate == pytest.approx(.3715251, rel=2e-5)
    assert res.nlcom("exp(2*[lns1_1_2]_cons)").estimate == pytest.approx(6.823363, rel=2e-5)
    cov = res.nlcom("exp([lns1_1_1]_cons + [lns1_1_2]_cons)*tanh([atr1_1_1_2]_cons)")
    assert cov.estimate == pytest.approx(-.0984378, rel=1e-4)
    assert cov.se == pytest.approx(.2545767, rel=1e-4)


# ------------------------------------------------------------- me commands
def test_meologit_cutpoints_and_variance():
    """[ME] meologit example 1: /cut1 -.0884493 (.1641062), /cut2 1.153364,
    var(_cons) .0735112 (.0383106) under every spelling Stata accepts."""
    res = fitted("tvsfpcors", "meologit thk prethk cc##tv || school:")
    for text in ("_b[/cut1]", "_b[cut1:_cons]", "[cut1]_cons"):
        c = res.lincom(text)
        assert c.estimate == pytest.approx(-.0884493, abs=2e-6)
        assert c.se == pytest.approx(.1641062, rel=1e-4)
    d = res.lincom("_b[/cut2] - [cut1]_cons")
    assert d.estimate == pytest.approx(1.153364 + .0884493, abs=4e-6)
    for text in ("_b[/var(_cons[school])]", "_b[var(_cons[school]):_cons]",
                 "[var(_cons[school])]_cons"):
        c = res.nlcom(text)
        assert c.estimate == pytest.approx(.0735112, rel=1e-4)
        assert c.se == pytest.approx(.0383106, rel=1e-3)
    with pytest.raises(OptionError, match=r"\[lns1_1_1\]"):  # not in the me commands' e(b)
        res.lincom("[lns1_1_1]_cons")
    with pytest.raises(OptionError, match=r"\[school\]"):
        res.test("[school]prethk = 0")


def test_meglm_residual_variance_equation():
    res = fitted("pig", "meglm weight week || id:")
    c = res.lincom("_b[var(e.weight):_cons]")
    assert c.estimate == pytest.approx(VAR_E, rel=1e-5)  # manual L2847: 4.383264
    assert c.se == pytest.approx(.3163349, rel=1e-4)


# ------------------------------------------------------------------- testnl
def test_testnl_hand_computed(pig_ri):
    """W = d' (G V G')^-1 d with d and G written out here."""
    b = pig_ri.params
    V = pig_ri.vcov
    week, v = b["week"], b["var(_cons[id])"]
    one = pig_ri.testnl("_b[week]^2 = 36")
    assert one.df == 1
    assert one.chi2 == pytest.approx((week ** 2 - 36) ** 2 / ((2 * week) ** 2
                                                               * V.loc["week", "week"]),
                                     rel=1e-6)
    joint = pig_ri.testnl(["_b[week]^2 = 36", "(exp(2*[lns1_1_1]_cons) = 15)"])
    d = np.array([week ** 2 - 36, v - 15])
    names = ["week", "var(_cons[id])"]
    G = np.diag([2 * week, 1.0])  # d var / d var: the same delta method in either metric
    M = G @ V.loc[names, names].to_numpy() @ G.T
    w = float(d @ np.linalg.solve(M, d))
    assert joint.df == 2
    assert joint.chi2 == pytest.approx(w, rel=1e-5)
    assert joint.p == pytest.approx(stats.chi2.sf(w, 2), rel=1e-4)
    text = str(joint)
    assert "  (1)  _b[week]^2 = 36" in text and "  (2)  exp(2*[lns1_1_1]_cons) = 15" in text
    assert "chi2(2) =" in text and "Prob > chi2 =" in text


def test_testnl_drops_dependent_constraint(pig_ri):
    t = pig_ri.testnl(["_b[week]^2 = 36", "2*_b[week]^2 = 72"])
    assert t.df == 1 and t.dropped == [1]


@pytest.mark.parametrize("bad", ["exp(_b[week])", "a = b = c", "_b[week] = ", "= 1"])
def test_testnl_malformed(pig_ri, bad):
    with pytest.raises(MemodelsError):
        pig_ri.testnl(bad)


# ------------------------------------------------------------------ session
SCRIPT = """
mixed weight week || id:
nlcom exp(2*[lns1_1_1]_cons)
display r(estimate)
lincom [lnsig_e]_cons
display _b[lns1_1_1:_cons]
testnl exp(2*[lns1_1_1]_cons) = 15
display r(df)
testnl (exp(2*[lns1_1_1]_cons) = 15) (_b[week]^2 = 36)
capture test [id]week
display _rc
capture nlcom (_b[week], _b[week])
display _rc
capture nlcom 10^1000
display _rc
capture nlcom _b[week] = 1
display _rc
capture nlcom (lambda: 1)()
display _rc
capture testnl _b[week]
display _rc
"""


def test_session_names_testnl_and_capture():
    s = Session(load_dataset("pig"))
    log = s.run_script(SCRIPT)
    assert re.search(r"\|\s+14\.817\d*\s", log)  # the nlcom row
    assert f"{0.5 * np.log(VAR_ID):.5f}"[:6] in log
    assert "  (1)  exp(2*[lns1_1_1]_cons) = 15" in log
    assert "chi2(2) =" in log
    assert s.rc != 0 and "Traceback" not in log
    tail = [ln for ln in log.splitlines() if ln.strip().isdigit()]
    assert tail[-6:] == ["303", "198", "198", "198", "198", "198"]  # r(303): no [id] equation


def test_session_unknown_name_stops_script():
    s = Session(load_dataset("pig"))
    with pytest.raises(SessionError, match=r"\[lns1_1_2\]"):
        s.run_script("mixed weight week || id:\nnlcom exp([lns1_1_2]_cons)\n")


def test_whole_equations(pig_ri):
    """test [eq]: every coefficient of the equation is 0 ([R] test, syntax 3)."""
    fixed = pig_ri.test("[weight]")
    assert fixed.df == 2
    b = pig_ri.params[["week", "_cons"]].to_numpy()
    V = pig_ri.vcov.loc[["week", "_cons"], ["week", "_cons"]].to_numpy()
    assert fixed.chi2 == pytest.approx(float(b @ np.linalg.solve(V, b)), rel=1e-10)
    assert pig_ri.test("[lns1_1_1] [lnsig_e]").df == 2
    with pytest.raises(OptionError, match=r"equation \[id\] not found"):
        pig_ri.test("[id]")


def test_exchangeable_correlation_name_refused():
    """Stata's name of the exchangeable correlation is not documented: refused, not
    guessed; the ln sd of the shared variance is lns1_1_1."""
    res = fitted("pig", "mixed weight week || id: week, cov(exchangeable)")
    v = res.params["var(week _cons[id])"]
    assert res.nlcom("exp(2*[lns1_1_1]_cons)").estimate == pytest.approx(v, rel=1e-10)
    with pytest.raises(OptionError, match=r"\[atr1_1_1_2\]"):
        res.nlcom("tanh([atr1_1_1_2]_cons)")


# ------------------------------------------- test/testparm/lincom options (N5, N7, N9)
def test_mtest_and_accumulate(pig_ri):
    """mtest: each constraint's chi2 = d^2 / var(d), Bonferroni p = min(1, k p);
    accumulate: the joint test of the previous and the new constraints."""
    b, V = pig_ri.params, pig_ri.vcov
    one = ((b["week"] - 6.2) ** 2 / V.loc["week", "week"])
    two = ((b["_cons"] - 19) ** 2 / V.loc["_cons", "_cons"])
    t = pig_ri.test(["(week = 6.2)", "(_cons = 19)"], mtest="bonferroni")
    assert [r[0] for r in t.mtest] == pytest.approx([one, two], rel=1e-10)
    assert [r[2] for r in t.mtest] == pytest.approx(
        [min(1.0, 2 * stats.chi2.sf(one, 1)), min(1.0, 2 * stats.chi2.sf(two, 1))])
    assert "# Bonferroni-adjusted p-values" in str(t)
    first = pig_ri.test("week = 6.2")
    acc = pig_ri.test("_cons = 19", accumulate=first)
    assert acc.df == 2 and acc.chi2 == pytest.approx(t.chi2, rel=1e-12)
    holm = pig_ri.test(["(week = 6.2)", "(_cons = 19)"], mtest="holm")
    ps = sorted([stats.chi2.sf(one, 1), stats.chi2.sf(two, 1)])
    assert max(r[2] for r in holm.mtest) == pytest.approx(min(1.0, max(2 * ps[0], ps[1])))


def test_lincom_eform(pig_ri):
    c = pig_ri.lincom("week", eform=True)
    est, se, lo, hi = c.shown()
    assert est == pytest.approx(np.exp(WEEK), rel=1e-6)
    assert se == pytest.approx(np.exp(WEEK) * SE_WEEK, rel=1e-5)
    assert lo == pytest.approx(np.exp(WEEK - stats.norm.ppf(.975) * SE_WEEK), rel=1e-5)
    assert "exp(b)" in str(c)
    assert "IRR" in str(pig_ri.lincom("week", eform="irr"))
    with pytest.raises(OptionError):
        pig_ri.lincom("week", eform="odds")


def test_testparm_equal():
    res = fitted("t43", "mixed score i.drug || person:, reml")
    t = res.testparm("i.drug", equal=True)
    names = [n for n in res.fe_params.index if n.endswith(".drug") and not n.startswith("1")]
    assert t.df == len(names) - 1
    R = np.zeros((len(names) - 1, len(names)))
    R[:, 0] = -1.0
    R[np.arange(len(names) - 1), np.arange(1, len(names))] = 1.0
    bb = res.params[names].to_numpy()
    VV = res.vcov.loc[names, names].to_numpy()
    d = R @ bb
    assert t.chi2 == pytest.approx(float(d @ np.linalg.solve(R @ VV @ R.T, d)), rel=1e-10)
    assert t.constraints[0].startswith("- [score]")


def test_session_test_options():
    s = Session(load_dataset("pig"))
    log = s.run_script("mixed weight week || id:\ntest week = 6.2, notest\n"
                       "test _cons = 19, accumulate\ntest (week = 6.2) (_cons = 19), mtest(b)\n"
                       "lincom week, eform\ncapture lincom week, or irr\ndisplay _rc\n")
    assert log.count("( 2)  [weight]_cons = 19") == 2
    assert "# Bonferroni-adjusted p-values" in log
    assert "exp(b)" in log and "497.6494" in log  # exp(6.209896)
    assert log.rstrip().endswith("198")


def test_testnl_after_menbreg_ancillary_equation():
    """testnl exp(_b[/lnalpha]) = .1 (audit me_commands: testnl unrecognized): the delta
    method written out, W = (exp(a) - .1)^2 / (exp(a)^2 se(a)^2)."""
    res = fitted("epilepsy", "menbreg seizures treat || subject:")
    a, se = res.params["/lnalpha"], res.bse["/lnalpha"]
    t = res.testnl("exp(_b[/lnalpha]) = .1")
    assert t.chi2 == pytest.approx((np.exp(a) - .1) ** 2 / (np.exp(a) * se) ** 2, rel=1e-6)
    assert res.testnl("exp([lnalpha]_cons) = .1").chi2 == pytest.approx(t.chi2, rel=1e-12)


def test_session_nlcom_one_table_stata_labels():
    """[R] nlcom: unnamed expressions are _nl_1, _nl_2...; all in one table with the
    columns of Stata's coefficient tables."""
    s = Session(load_dataset("pig"))
    s.run_script("mixed weight week || id:")
    out = s.run("nlcom (exp(2*[lns1_1_1]_cons)) (s: exp([lnsig_e]_cons))")
    lines = out.splitlines()
    assert lines[0] == "       _nl_1:  exp(2*[lns1_1_1]_cons)"
    assert lines[1] == "           s:  exp([lnsig_e]_cons)"
    assert sum(ln == "-" * 78 for ln in lines) == 2  # one table
    row = next(ln for ln in lines if ln.startswith("       _nl_1 |"))
    assert row[14:25].strip().startswith("14.817") and len(row) == 78
    assert s.run("nlcom exp(_b[week])").splitlines()[0] == "       _nl_1:  exp(_b[week])"


def test_after_bootstrap_the_bootstrap_vce_is_used():
    """After bootstrap:, e(V) is the bootstrap VCE ([R] bootstrap): lincom's SE is the
    replicates' standard deviation; estimation-metric names are refused (the replicates
    are of the reported parameters)."""
    from memodels.postestimation.bootstrap import bootstrap

    boot = bootstrap(PIG_RI, load_dataset("pig"), reps=12, cluster="id", seed=3, n_jobs=1,
                     progress=False)
    res = boot.bootstrap_fit()
    sd = boot.replicates["week"].std(ddof=1)
    assert res.lincom("week").se == pytest.approx(sd, rel=1e-10)
    c = res.nlcom("2*_b[var(_cons[id])]")
    assert c.se == pytest.approx(2 * boot.replicates["var(_cons[id])"].std(ddof=1), rel=1e-6)
    with pytest.raises(OptionError, match="bootstrap VCE"):
        res.nlcom("exp(2*[lns1_1_1]_cons)")


def test_meqr_estimation_metric_equations():
    """meqrlogit's e(b) is in the estimation metric, as mixed's: exp(2*lns1_1_1) is the
    reported variance, with the SE the results derive analytically."""
    res = fitted("bangladesh", "meqrlogit c_use urban age || district:")
    c = res.nlcom("exp(2*[lns1_1_1]_cons)")
    assert c.estimate == pytest.approx(res.params["var(_cons[district])"], rel=1e-10)
    assert c.se == pytest.approx(res.bse["var(_cons[district])"], rel=1e-6)
    assert "[lnsig_e]" not in str(res.params.index)
    with pytest.raises(OptionError, match=r"\[lnsig_e\]"):
        res.lincom("[lnsig_e]_cons")


def test_missing_equation_is_stata_r303(pig_ri):
    """An equation that e(b) does not have is Stata's r(303), "equation not found"."""
    with pytest.raises(OptionError, match="equation \\[id\\] not found") as info:
        pig_ri.test("[id]week = 0")
    assert getattr(info.value, "rc", None) == 303
