"""Display options of the estimation tables ([R] estimation options; the display_options
row of every [ME] syntax table, e.g. [ME] mixed L14553, [ME] meglm L2672) at estimation,
on replay in a session and from Python (audit mixed_postest E11-E25, me_commands
"display_options ... identical printed output").

Expected texts are built in the tests from the estimates with Python's own formatting
(``cformat(%9.2f)`` -> ``f"{b:.2f}"``), not from memodels' formatter.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import memodels
from memodels.errors import OptionError
from support import fitted, load_dataset

PIG = "mixed weight week || id:"
EPI = "mepoisson seizures treat lbas lage || subject:"


def _rows(text: str, label: str) -> list[list[str]]:
    """The fields after ``|`` of every line whose label is ``label``."""
    out = []
    for line in text.splitlines():
        if "|" in line and line.split("|")[0].strip() == label:
            out.append(line.split("|", 1)[1].split())
    return out


def _lead0(x: float, d: int) -> str:
    return f"{x:.{d}f}"


# --------------------------------------------------------------------- mixed
def test_noci_drops_the_interval_columns():
    res = fitted("pig", PIG)
    text = res.summary(noci=True)
    assert "Conf. Interval" not in text
    week = _rows(text, "week")[0]
    assert len(week) == 4  # Coef. Std. Err. z P>|z|
    assert float(week[0]) == pytest.approx(res.params["week"], rel=1e-6)
    # the rules shrink with the table: 13 + 1 + 39 columns
    assert "-" * 13 + "+" + "-" * 39 in text.splitlines()
    assert "Conf. Interval" in res.summary()


def test_nopvalues_drops_statistic_and_pvalue():
    res = fitted("pig", PIG)
    text = res.summary(nopvalues=True)
    assert "P>|z|" not in text and "      z " not in text
    week = _rows(text, "week")[0]
    b, se = res.params["week"], res.bse["week"]
    lo, hi = b - stats.norm.ppf(0.975) * se, b + stats.norm.ppf(0.975) * se
    assert [float(v) for v in week] == pytest.approx([b, se, lo, hi], rel=1e-6)


def test_cformat_pformat_sformat():
    res = fitted("pig", PIG)
    text = res.summary(cformat="%9.2f", pformat="%5.2f", sformat="%8.3f")
    b, se = res.params["week"], res.bse["week"]
    z = b / se
    lo, hi = b - stats.norm.ppf(0.975) * se, b + stats.norm.ppf(0.975) * se
    assert _rows(text, "week")[0] == [_lead0(b, 2), _lead0(se, 2), f"{z:.3f}", "0.00",
                                      _lead0(lo, 2), _lead0(hi, 2)]
    # the random-effects table: estimates, SEs and limits in cformat too
    var = _rows(text, "var(Residual)")[0]
    assert var[:2] == [_lead0(res.params["var(e)"], 2), _lead0(res.bse["var(e)"], 2)]


@pytest.mark.parametrize("opt,fmt", [("cformat", "%10.2f"), ("pformat", "%6.3f"),
                                     ("sformat", "%9.2f"), ("cformat", "%9s"),
                                     ("cformat", "%-9.2f")])
def test_bad_formats_refused(opt, fmt):
    with pytest.raises(OptionError, match=opt):
        memodels.fit(f"{PIG}, {opt}({fmt})", load_dataset("pig"), nolog=True)
    with pytest.raises(OptionError, match=opt):
        fitted("pig", PIG).summary(**{opt: fmt})


def test_coeflegend_shows_the_b_names_of_the_estimates():
    res = fitted("pig", PIG)
    text = res.summary(coeflegend=True)
    assert "Legend" in text and "Std. Err." not in text
    for name, value in res.params.items():
        line = next(ln for ln in text.splitlines() if ln.endswith(f"_b[{name}]"))
        assert float(line.split("|")[1].split()[0]) == pytest.approx(value, rel=1e-6)


def test_coeflegend_names_usable_in_a_do_file():
    s = memodels.Session(load_dataset("pig"))
    out = s.run(f"{PIG}, coeflegend nolog")
    names = [ln.split()[-1] for ln in out.splitlines() if ln.rstrip().endswith("]")
             and "_b[" in ln]
    assert "_b[var(_cons[id])]" in names and "_b[week]" in names
    for ref in names:
        shown = float(s.run(f"display {ref}"))
        assert shown == pytest.approx(s.e.params[ref[3:-1]], rel=1e-6)


def test_replay_in_a_session_takes_display_options():
    s = memodels.Session(load_dataset("pig"))
    first = s.run(f"{PIG}, noci nolog")
    assert "Conf. Interval" not in first
    assert "Conf. Interval" in s.run("mixed")  # not kept: Stata's replay shows the default
    assert "Conf. Interval" not in s.run("mixed, noci")
    assert "P>|z|" not in s.run("mixed, nopvalues")
    assert "Legend" in s.run("mixed, coeflegend")
    assert f"{s.e.params['week']:.2f}" in s.run("mixed, cformat(%9.2f)")
    with pytest.raises(memodels.errors.MemodelsError):
        s.run("mixed, cformat(%12.2f)")


def test_estmetric_labels_not_cut_from_the_left():
    res = fitted("pig", "mixed weight week || id: week, cov(un)")
    text = res.summary(estmetric=True)
    labels = [ln.split("|")[0].strip() for ln in text.splitlines() if "|" in ln]
    assert "id" in labels and "lnsd(week)" in labels and "lnsd(_cons)" in labels
    assert "atanh(wee~s)" in labels  # Stata's abbreviation with ~, inside the parentheses
    assert "lnsig_e" in labels
    assert not any(lab.startswith(("d(", "k,", "_cons[")) for lab in labels)


# ------------------------------------------------------------- factor designs
def _factor_data() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    n = 300
    d = pd.DataFrame({"g": np.repeat(np.arange(30), 10), "a": rng.integers(1, 4, n),
                      "b": rng.integers(1, 3, n)})
    d["y"] = d.a * 0.5 + d.b + rng.normal(size=n) + np.repeat(rng.normal(size=30), 10)
    return d[~((d.a == 3) & (d.b == 2))].reset_index(drop=True)


@pytest.fixture(scope="module")
def factor_fit():
    return memodels.fit("mixed y i.a##i.b x || g:",
                        _factor_data().assign(x=lambda d: d.a * 2.0), nolog=True)


def test_emptycells_vsquish_noomitted(factor_fit):
    res = factor_fit
    text = res.summary(norettable=True)
    assert _rows(text, "3 2") == [["0", "(empty)"]]
    assert _rows(text, "x") == [["0", "(omitted)"]]
    blank = f"{'':>12} |"
    assert blank in text.splitlines()  # factor blocks set apart by a blank line
    assert "(empty)" not in res.summary(noemptycells=True)
    assert "(omitted)" not in res.summary(noomitted=True)
    assert blank not in res.summary(vsquish=True).splitlines()


def test_baselevels_under_the_term_header(factor_fit):
    text = factor_fit.summary(baselevels=True, norettable=True)
    lines = text.splitlines()
    i = lines.index(f"{'b':>12} |")
    assert lines[i + 1].split("|")[0].strip() == "1" and "(base)" in lines[i + 1]
    assert lines[i + 2].split("|")[0].strip() == "2"


def test_value_labels_fvlabel_fvwrap(factor_fit):
    res = factor_fit.replay()
    res.value_labels = {"a": {1: "Low", 2: "Medium level of a", 3: "High"},
                        "b": {1: "Male", 2: "Female"}}
    text = res.summary(norettable=True)
    labels = [ln.split("|")[0].strip() for ln in text.splitlines() if "|" in ln]
    assert "Female" in labels and "High" in labels
    assert "Medium leve" in labels  # one line (fvwrap(1)): truncated to the column
    wrapped = [ln.split("|")[0].strip() for ln in res.summary(fvwrap=2).splitlines()]
    assert "Medium" in wrapped and "level of a" in wrapped
    bywidth = [ln.split("|")[0].strip()
               for ln in res.summary(fvwrap=2, fvwrapon="width").splitlines()]
    assert "Medium leve" in bywidth and "l of a" in bywidth
    plain = [ln.split("|")[0].strip() for ln in res.summary(nofvlabel=True).splitlines()]
    assert "Female" not in plain and "2.b" in plain


# ------------------------------------------------------------------ me commands
def test_me_table_noci_nopvalues_cformat():
    res = fitted("epilepsy", EPI)
    b, se = res.params["treat"], res.bse["treat"]
    assert len(_rows(res.summary(noci=True), "treat")[0]) == 4
    assert len(_rows(res.summary(nopvalues=True), "treat")[0]) == 4
    row = _rows(res.summary(cformat="%9.3f", pformat="%5.2f"), "treat")[0]
    assert row[:2] == [_lead0(b, 3), _lead0(se, 3)]
    assert row[3] == f"{2 * stats.norm.sf(abs(b / se)):.2f}"
    var = _rows(res.summary(noci=True), "var(_cons)")[0]
    assert len(var) == 2  # variances have no z/p, and no CI now


def test_me_coeflegend_and_replay():
    s = memodels.Session(load_dataset("epilepsy"))
    out = s.run(f"{EPI}, coeflegend nolog")
    assert "_b[var(_cons[subject])]" in out and "_b[treat]" in out
    assert "Conf. Interval" in s.run("mepoisson")
    assert "Conf. Interval" not in s.run("mepoisson, noci")
    assert "_b[lbas]" in s.run("mepoisson, coeflegend")
    ref = float(s.run("display _b[var(_cons[subject])]"))
    assert ref == pytest.approx(s.e.params["var(_cons[subject])"], rel=1e-6)


def test_meqr_replay_display_options():
    s = memodels.Session(load_dataset("bangladesh"))
    s.run("meqrlogit c_use urban age || district:, nolog")
    assert "Conf. Interval" not in s.run("meqrlogit, noci")
    assert "_b[urban]" in s.run("meqrlogit, coeflegend")


def test_collinear_refused_when_it_would_matter():
    d = load_dataset("epilepsy").assign(t2=lambda x: 2 * x.treat)
    with pytest.raises(OptionError, match="collinear"):
        memodels.fit("mepoisson seizures treat t2 || subject:, collinear", d, nolog=True)
    # without collinear covariates there is nothing to keep: the same fit
    res = memodels.fit(f"{EPI}, collinear", load_dataset("epilepsy"), nolog=True)
    assert res.llf == pytest.approx(fitted("epilepsy", EPI).llf, rel=1e-10)


# ------------------------------------------------------- small-sample replay (ex13)
def test_dftable_and_large_sample_replay():
    """[ME] mixed example 13 (t43, L16011-16079): the replay without ``small`` shows the
    large-sample table (Wald chi2(3) = 74.28; 4.drug p 0.004, CI 1.799489 9.400511);
    ``dftable(pvalue)`` adds the DF column (12.0 ... 4.0) with t and P>|t| only;
    ``dftable(ci)`` the DF column with the confidence interval."""
    s = memodels.Session(load_dataset("t43"))
    est = s.run("mixed score i.drug || person:, reml dfmethod(repeated) nolog")
    assert "F(3, 12.00)" in est and "P>|t|" in est
    replay = s.run("mixed")
    assert "Wald chi2(3)" in replay and "74.28" in replay and "P>|z|" in replay
    assert _rows(replay, "4") == [["5.6", "1.939072", "2.89", "0.004", "1.799489",
                                   "9.400511"]]
    small = s.run("mixed, small")
    assert "P>|t|" in small and _rows(small, "4")[0][3] == "0.014"
    pv = s.run("mixed, dftable(pvalue) norettable")
    assert _rows(pv, "4") == [["5.6", "1.939072", "12.0", "2.89", "0.014"]]
    assert _rows(pv, "_cons")[0][2] == "4.0" and "Conf. Interval" not in pv
    ci = s.run("mixed, dftable(ci) norettable")
    assert _rows(ci, "4") == [["5.6", "1.939072", "12.0", "1.375125", "9.824875"]]
    with pytest.raises(OptionError, match="dfmethod"):
        memodels.fit("mixed score i.drug || person:, reml dftable(ci)", load_dataset("t43"),
                     nolog=True)
    with pytest.raises(OptionError, match="small"):
        memodels.fit("mixed score i.drug || person:, reml dfmethod(repeated) small",
                     load_dataset("t43"), nolog=True)


def test_nostderr_blanks_the_intervals_too_and_nogroup():
    """[ME] mixed, Options: nostderr -- no standard errors for the random-effects
    parameters (so no intervals either); only with independent homoskedastic
    residuals.  nogroup suppresses the number of groups and the group sizes (E8/E9)."""
    res = fitted("pig", PIG)
    text = res.summary(nostderr=True)
    assert _rows(text, "var(_cons)") == [[f"{res.params['var(_cons[id])']:.7g}"]]
    assert len(_rows(text, "week")[0]) == 6  # fixed effects keep their SEs and CIs
    with pytest.raises(OptionError, match="nostderr"):
        memodels.fit("mixed weight week || id:, nostderr residuals(ar 1, t(week))",
                     load_dataset("pig"), nolog=True)
    head = res.summary(nogroup=True)
    assert "Number of groups" not in head and "Obs per group" not in head
    assert "Number of groups" not in fitted("epilepsy", EPI).summary(nogroup=True)


def test_meqr_or_shows_odds_ratios():
    res = memodels.fit("meqrlogit c_use urban age || district:, or",
                       load_dataset("bangladesh"), nolog=True)
    text = res.summary()
    assert "Odds Ratio" in text
    row = _rows(text, "urban")[0]
    b, se = res.params["urban"], res.bse["urban"]
    assert float(row[0]) == pytest.approx(np.exp(b), rel=1e-6)
    assert float(row[1]) == pytest.approx(np.exp(b) * se, rel=1e-6)
    assert float(row[2]) == pytest.approx(b / se, abs=0.006)


def test_stddeviations_and_variance_on_replay():
    """``mixed, stddeviations`` on replay shows what the fit with ``stddeviations``
    shows ([ME] mixed ex3 figures: sd(week) .6095282, corr(week,_cons) -.0618252)."""
    s = memodels.Session(load_dataset("pig"))
    s.run("mixed weight week || id: week, cov(un) nolog")
    replay = s.run("mixed, stddeviations")
    direct = fitted("pig", "mixed weight week || id: week, cov(un) stddeviations")
    assert _rows(replay, "sd(week)") == _rows(direct.summary(), "sd(week)")
    assert _rows(replay, "sd(week)")[0][0] == ".6095282"
    # the exact maximum is -.06182553 (gradient 1e-13); Stata stopped 3e-7 short of it
    assert float(_rows(replay, "corr(week,_cons)")[0][0]) == pytest.approx(-.0618252, abs=1e-6)
    back = s.run("mixed, variance")
    assert _rows(back, "var(week)") == _rows(s.run("mixed"), "var(week)")
    with pytest.raises(OptionError, match="stddeviations"):
        fitted("epilepsy", EPI).summary(stddeviations=True)


def test_noestimate_shows_starting_values_as_a_legend():
    """[ME] meglm, Options (L2714): noestimate shows the starting values "using the
    coeflegend style of output"."""
    res = memodels.fit(f"{EPI}, noestimate", load_dataset("epilepsy"), nolog=True)
    text = res.summary()
    assert "Legend" in text and "_b[treat]" in text and "Std. Err." not in text


def test_no_random_effects_left_is_an_error_not_a_crash():
    """``|| g:, noconstant`` without variables (noconstant after the last equation is
    the equation's) left no random effect: a memodels error, not an IndexError."""
    for cmd in ("mepoisson seizures treat || subject:, noconstant",
                "meqrpoisson seizures treat || subject:, noconstant"):
        with pytest.raises(OptionError, match="no random effects"):
            memodels.fit(cmd, load_dataset("epilepsy"), nolog=True)
