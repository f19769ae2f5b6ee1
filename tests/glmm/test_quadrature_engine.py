"""The GLMM quadrature engines: exact derivatives, agreement between the two-level and the
nested engine, and Stata's printed figures for the worked examples.

Stata's adaptive quadrature holds each cluster's adaptive parameters fixed within a Newton
iteration and updates them between iterations; its estimates are the fixed point of that
scheme (DESIGN.md, methods fact 11).  The figures below are the manual's printed values
(shared/reference) and the hdp worked analysis (shared/spec/000_...).
"""

from __future__ import annotations

import numpy as np
import pytest

from memodels.design import build_design
from memodels.families.registry import make_family
from memodels.glmm.fit import fit_glmm
from memodels.glmm.nested import NestedQuadrature
from memodels.glmm.twolevel import TwoLevelQuadrature
from memodels.lmm.terms import engine_terms
from memodels.optimize import numdiff
from memodels.syntax import parse_model
from support import load_dataset


def _setup(dataset: str, spec: str, offset: str | None = None):
    df = load_dataset(dataset)
    design = build_design(parse_model(spec, "meglm", list(df.columns)), df)
    off = None if offset is None else np.log(df[offset].to_numpy(float)[design.sample])
    return design, engine_terms(design.terms), off


@pytest.mark.parametrize("family", ["poisson", "bernoulli"])
def test_nested_engine_with_one_level_equals_two_level_engine(family):
    design, terms, _ = _setup("epilepsy", "seizures treat lbas lbas_trt lage v4 || subject:")
    y = design.y if family == "poisson" else (design.y > 3).astype(float)
    fam = make_family(family, None)
    t = terms[0]
    two = TwoLevelQuadrature(y, design.X, t.Z, t.groups, t.n_groups, fam, t.structure)
    nest = NestedQuadrature(y, design.X, terms, fam)
    par = np.r_[-0.9, 0.88, 0.33, 0.48, -0.16, 1.5, 0.5]
    a2, a1 = two.adapt(par, None), nest.adapt(par, None)
    l2, g2, h2 = two.derivatives(par, a2)
    l1, g1, h1 = nest.derivatives(par, a1)
    assert l1 == pytest.approx(l2, abs=1e-9)
    np.testing.assert_allclose(g1, g2, rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(h1, h2, rtol=1e-8, atol=1e-6)


def test_nested_derivatives_are_exact_at_fixed_nodes():
    design, terms, off = _setup("melanoma", "deaths uv || nation: || region:", "expected")
    model = NestedQuadrature(design.y, design.X, terms, make_family("poisson", None), offset=off)
    par = np.array([-0.03, -0.1, np.log(0.3), np.log(0.2)])
    ad = model.adapt(par, None)
    _, grad, hess = model.derivatives(par, ad)
    f = lambda p: model.loglik(p, ad)  # noqa: E731
    np.testing.assert_allclose(grad, numdiff.gradient(f, par), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(hess, numdiff.hessian(f, par, rel=1e-4), rtol=1e-4, atol=1e-2)


def _fit(dataset, spec, family, link=None, offset=None, **kw):
    design, terms, off = _setup(dataset, spec, offset)
    fam = make_family(family, link)
    return design, fit_glmm(design.y, design.X, terms, fam, offset=off, **kw)


def test_mepoisson_example_1_epilepsy():
    """[ME] mepoisson, example 1: ll -665.29067, 7-point mvaghermite."""
    _, fit = _fit("epilepsy", "seizures treat lbas lbas_trt lage v4 || subject:", "poisson")
    assert fit.llf == pytest.approx(-665.29067, abs=1e-4)
    assert fit.converged and fit.hessian_ok


def test_mepoisson_example_2_melanoma_three_levels():
    """[ME] mepoisson, example 2 (nested nation > region), exposure(expected)."""
    _, fit = _fit("melanoma", "deaths c.uv##c.uv || nation: || region:", "poisson",
                  offset="expected")
    assert fit.llf == pytest.approx(-1086.8994, abs=1e-3)
    np.testing.assert_allclose(fit.beta, [0.0057002, -0.0058377, 0.1289989], rtol=1e-3, atol=2e-6)
    var = np.exp(2 * fit.phi)
    np.testing.assert_allclose(var, [0.1841878, 0.0382645], rtol=1e-3)
    se = np.sqrt(np.diag(fit.vcov))
    np.testing.assert_allclose(se[:3], [0.0137919, 0.0013879, 0.1581224], rtol=1e-3)
    se_var = 2 * var * se[3:]
    np.testing.assert_allclose(se_var, [0.0945722, 0.0087757], rtol=2e-3)


def test_hdp_two_level_melogit():
    """The hdp worked analysis: melogit ... || did:, 7 points: ll -3689.408."""
    _, fit = _fit("hdp_encoded",
                  "remission il6 crp i.cancerstage lengthofstay experience || did:", "bernoulli")
    assert fit.llf == pytest.approx(-3689.408, abs=1e-3)
    np.testing.assert_allclose(
        fit.beta,
        [-0.0567853, -0.0214858, -0.4139656, -1.003766, -2.337825, -0.1212048, 0.1201478,
         -2.056954], rtol=1e-4)
    assert np.exp(2 * fit.phi[0]) == pytest.approx(4.093152, rel=1e-4)


def test_hdp_three_level_melogit():
    """The hdp worked analysis: || hid: || did:, 7 points per level: ll -3580.5459."""
    _, fit = _fit(
        "hdp_encoded",
        "remission age lengthofstay i.familyhx il6 crp i.cancerstage experience || hid: || did:",
        "bernoulli")
    assert fit.llf == pytest.approx(-3580.5459, abs=1e-3)
    var = np.exp(2 * fit.phi)
    np.testing.assert_allclose(var, [0.2700061, 4.026091], rtol=1e-3)
    se_var = 2 * var * np.sqrt(np.diag(fit.vcov))[-2:]
    np.testing.assert_allclose(se_var, [0.1621785, 0.4284014], rtol=2e-3)
    assert fit.beta[-1] == pytest.approx(-1.630078, rel=1e-3)
