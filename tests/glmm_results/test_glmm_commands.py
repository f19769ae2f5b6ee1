"""The me command glue with the engine replaced by a stub: families, offsets, binomial
trials, integration defaults, the iteration log and option errors."""

from __future__ import annotations

import numpy as np
import pytest
from glmm_fit_helpers import bangladesh_like, counts_like

import memodels.glmm.fit as engine
from memodels.commands.me_binary import mecloglog, melogit, meprobit
from memodels.commands.me_count import menbreg, mepoisson
from memodels.commands.meglm import CROSSED_NOTE, meglm
from memodels.datasets import load
from memodels.errors import DataError, MemodelsError, OptionError
from memodels.glmm.types import GLMMFit


@pytest.fixture
def calls(monkeypatch):
    """Replace the engine: record its inputs, return a plausible fit, write a short log."""
    seen: list[dict] = []

    def fake_fit_glmm(y, X, terms, family, *, offset=None, intmethod="mvaghermite",
                      intpoints=7, log=None, iterate=300, start=None, nrtolerance=1e-5,
                      **engine_options):  # constraints=, weights=, level_weights=, ...
        seen.append(dict(y=y, X=X, terms=terms, family=family, offset=offset,
                         intmethod=intmethod, intpoints=intpoints, iterate=iterate))
        if log is not None:
            log("Fitting fixed-effects model:", 0, -1229.5485)
            log("Fitting fixed-effects model:", 1, -1228.5263)
            log("Refining starting values:", 0, -1234.3979)
            log("Fitting full model:", 0, -1234.3979)
            log("Fitting full model:", 1, -1206.2397)
        nb, na = X.shape[1], len(family.aux_names)
        structs = [t.structure for t in terms]
        nphi = sum(len(s.phi_names()) for s in structs)
        k = nb + na + nphi
        params = np.concatenate([np.full(nb, 0.1), np.full(na, -0.5), np.full(nphi, -0.7)])
        return GLMMFit(llf=-1206.2397, params=params, vcov=np.eye(k) * 0.01, n_beta=nb,
                       n_aux=na, aux_names=tuple(family.aux_names), structures=structs,
                       term_sources=[t.source for t in terms], converged=True, iterations=1,
                       hessian_ok=True, ll_fixed=-1228.5263, intmethod=intmethod,
                       intpoints=1 if intmethod == "laplace" else intpoints)

    monkeypatch.setattr(engine, "fit_glmm", fake_fit_glmm)
    return seen


@pytest.fixture(scope="module")
def bang():
    return bangladesh_like()


@pytest.fixture(scope="module")
def counts():
    return counts_like()


def test_melogit_defaults(calls, bang):
    res = melogit("c_use urban age || district:", bang, nolog=True)
    call = calls[-1]
    assert call["family"].name == "bernoulli" and call["family"].link.name == "logit"
    assert call["intmethod"] == "mvaghermite" and call["intpoints"] == 7
    assert call["offset"] is None
    assert res.title == "Mixed-effects logistic regression"
    assert res.family == "bernoulli" and res.link == "logit"
    assert res.intmethod == "mvaghermite" and res.intpoints == 7
    assert list(res.params.index) == ["urban", "age", "_cons", "var(_cons[district])"]
    assert res.cmdline == "melogit c_use urban age || district:"


def test_binary_links_and_titles(calls, bang):
    assert meprobit("c_use urban || district:", bang, nolog=True).link == "probit"
    res = mecloglog("c_use urban || district:, eform", bang, nolog=True)
    assert calls[-1]["family"].link.name == "cloglog"
    assert res.coef_label == "exp(b)"
    assert res.lr_test.label == "LR test vs. cloglog model"


def test_melogit_binomial_trials_variable_and_constant(calls, bang):
    df = bang.assign(n=5, succ=np.minimum(bang["c_use"] * 3, 5))
    res = melogit("succ urban || district:, binomial(n) or", df, nolog=True)
    fam = calls[-1]["family"]
    assert fam.name == "binomial"
    np.testing.assert_array_equal(fam.data["trials"], np.full(len(df), 5.0))
    assert res.binomial_var == "n"
    assert "Odds Ratio" in res.summary()
    melogit("succ urban || district:, binomial(5)", df, nolog=True)
    assert calls[-1]["family"].trials == 5.0


def test_binomial_successes_above_trials_name_the_variable(calls, bang):
    df = bang.assign(n=1, succ=3)
    with pytest.raises(DataError, match="succ"):
        melogit("succ urban || district:, binomial(n)", df, nolog=True)


def test_meglm_family_link_and_crossed_laplace(calls, bang):
    res = meglm("c_use urban || _all: R.district || urban:, family(bernoulli) link(probit)",
                bang, nolog=True)
    assert calls[-1]["intmethod"] == "laplace"
    assert CROSSED_NOTE in res.notes
    assert res.summary().startswith(CROSSED_NOTE)
    assert list(res.params.index)[-2:] == ["var(_cons[_all>district])", "var(_cons[urban])"]
    assert res.title == "Mixed-effects GLM" and res.link == "probit"


def test_meglm_gaussian_default_and_residual(calls):
    pig = load("pig")
    res = meglm("weight week || id:", pig, nolog=True)
    assert calls[-1]["family"].name == "gaussian"
    assert "var(e.weight)" in res.params.index
    assert res.lr_test.label == "LR test vs. linear model"


def test_exposure_and_offset(calls, counts):
    res = mepoisson("numvisit reform, exposure(expected) || id:, irr", counts, nolog=True)
    np.testing.assert_allclose(calls[-1]["offset"], np.log(counts["expected"]))
    assert res.offset == "exposure" and "ln(expected) |          1  (exposure)" in res.summary()
    assert res.coef_label == "IRR"
    res = mepoisson("numvisit reform, offset(loginc) || id:", counts, nolog=True)
    np.testing.assert_allclose(calls[-1]["offset"], counts["loginc"])
    assert "      loginc |          1  (offset)" in res.summary()


def test_menbreg_dispersion(calls, counts):
    res = menbreg("numvisit reform || id:", counts, nolog=True)
    assert calls[-1]["family"].name == "nbinomial"
    assert "/lnalpha" in res.params.index and res.dispersion == "mean"
    res = menbreg("numvisit reform || id:, dispersion(constant)", counts, nolog=True)
    assert "/lndelta" in res.params.index and res.dispersion == "constant"
    assert "constant" in res.summary().splitlines()[1]


def test_integration_options(calls, bang):
    melogit("c_use urban || district:, intpoints(12)", bang, nolog=True)
    assert calls[-1]["intpoints"] == 12
    res = melogit("c_use urban || district:, laplace", bang, nolog=True)
    assert calls[-1]["intmethod"] == "laplace" and res.intpoints == 1
    melogit("c_use urban || district:, intmethod(mcaghermite) intpoints(3)", bang, nolog=True)
    assert calls[-1]["intmethod"] == "mcaghermite" and calls[-1]["intpoints"] == 3
    melogit("c_use urban || district:, iterate(20)", bang, nolog=True)
    assert calls[-1]["iterate"] == 20


def test_iteration_log_layout(calls, bang, capsys):
    melogit("c_use urban || district:", bang, log=True)
    out = capsys.readouterr().out.splitlines()
    assert out[:4] == ["Fitting fixed-effects model:", "",
                       "Iteration 0:   log likelihood = -1229.5485  ",
                       "Iteration 1:   log likelihood = -1228.5263  "]
    assert out[4:8] == ["", "Refining starting values:", "",
                        "Grid node 0:   log likelihood = -1234.3979  "]
    assert out[8:11] == ["", "Fitting full model:", ""]
    assert out[11] == "Iteration 0:   log likelihood = -1234.3979  "
    melogit("c_use urban || district:", bang, nolog=True)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("cmd,spec,match", [
    ("meglm", "c_use urban || district:, family(weibull)", "family"),
    ("meglm", "c_use urban || district:, family(poisson) link(logit)", "link"),
    ("melogit", "c_use urban || district:, intpoints(0)", "intpoints"),
    ("melogit", "c_use urban || district:, intpoints(129)", "intpoints"),
    ("melogit", "c_use urban || district:, intmethod(laplace) intpoints(3)", "intpoints"),
    ("melogit", "c_use urban || district:, laplace intmethod(ghermite)", "laplace"),
    ("mepoisson", "c_use urban, offset(age) exposure(urban) || district:", "offset"),
    ("mepoisson", "c_use urban || district:, or", "option or not allowed with mepoisson"),
    ("melogit", "c_use urban || district:, irr", "option irr not allowed with melogit"),
    ("melogit", "c_use urban, exposure(age) || district:", "exposure"),
    ("meglm", "c_use urban || district:, family(bernoulli) or irr", "may not be combined"),
    ("mepoisson", "c_use urban || district:, dispersion(mean)", "dispersion"),
    ("melogit", "c_use urban [fw=child1] if child1 > 0 || district:, intmethod(laplace)",
     "weights are not allowed with crossed models or the Laplacian approximation"),
    ("melogit", "c_use urban [pw=child1] if child1 > 0 || district:, vce(oim)",
     r"vce\(oim\) not allowed with pweights"),
    ("melogit", "c_use urban || district:, constraints(1)", "constraints"),
])
def test_option_errors(calls, bang, cmd, spec, match):
    funcs = {"meglm": meglm, "melogit": melogit, "mepoisson": mepoisson}
    with pytest.raises(OptionError, match=match):
        funcs[cmd](spec, bang, nolog=True)
    assert not calls  # rejected before the engine runs


def test_exposure_must_be_positive(calls, counts):
    df = counts.copy()
    df.loc[3, "expected"] = 0.0
    with pytest.raises(DataError, match="exposure variable expected must be greater than zero"):
        mepoisson("numvisit reform, exposure(expected) || id:", df, nolog=True)


def test_invalid_outcomes_name_the_variable(calls, counts):
    df = counts.assign(neg=-counts["numvisit"] - 1)
    with pytest.raises(MemodelsError, match="neg"):
        mepoisson("neg reform || id:", df, nolog=True)


def test_keyword_options(calls, bang):
    res = melogit("c_use urban || district:", bang, nolog=True, or_=True, intpoints=9)
    assert res.eform == "or" and calls[-1]["intpoints"] == 9
