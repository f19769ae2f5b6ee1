"""The fast LMM engine pieces of issue #16, each against an independent computation:

* the exact gradient and Hessian of L* in Stata's metric (memodels.lmm.phi_derivatives)
  against central finite differences of L* itself;
* the closed-form EM iterations (memodels.lmm.em) against the batched EM of
  ProfiledLMM written out with numpy's general linear algebra;
* the crossed model's Schur complement from group-size classes against the sparse
  product it replaces (same evaluation with the classes switched off);
* the sort-free group coding and the one-pass collinearity check against np.unique and
  the QR path.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from memodels.design.collinear import collinear_columns
from memodels.design.hierarchy import factorize_sorted, group_codes
from memodels.lmm import fit as lmmfit
from memodels.lmm.em import em_closed_form
from memodels.lmm.phi_derivatives import lstar_gradient_hessian
from memodels.lmm.profiled import ProfiledLMM
from memodels.lmm.terms import EngineTerm
from memodels.optimize import numdiff
from support import fitted, load_dataset

PIG = "mixed weight week || id: week, covariance(unstructured)"
PROD = "mixed gsp private emp hwy water other unemp || region: || state:"


def _pieces(res, phi):
    fit = res.fit
    structs = [t.structure for t in fit.terms]
    sizes = [s.n_theta for s in structs]
    thetas = lmmfit._thetas_of_phi(structs, sizes, phi)
    pc = fit.model.cov_pieces(thetas, fit.reml)
    grad, hess = lstar_gradient_hessian(pc, structs, phi, fit.model.dof(fit.reml), fit.reml)
    lstar, _ = lmmfit._make_lstar(fit.model, structs, fit.reml)
    return grad, hess, lstar


@pytest.mark.parametrize("dataset,cmd", [
    ("pig", PIG), ("pig", PIG + " reml"), ("pig", "mixed weight week || id: week, cov(exch)"),
    ("productivity", PROD), ("productivity", PROD + ", reml"),
])
def test_exact_derivatives_match_finite_differences(dataset, cmd):
    res = fitted(dataset, cmd)
    phi = res.fit.phi + np.linspace(-0.1, 0.1, res.fit.phi.size)  # off the optimum
    grad, hess, lstar = _pieces(res, phi)
    g_num = numdiff.gradient(lstar, phi, rel=1e-6)
    h_num = numdiff.hessian(lstar, phi, rel=1e-4)
    assert grad == pytest.approx(g_num, rel=1e-5, abs=1e-5 * np.abs(g_num).max())
    assert hess == pytest.approx(h_num, rel=1e-4, abs=1e-4 * np.abs(h_num).max())


def test_exact_gradient_vanishes_at_the_estimates():
    res = fitted("pig", PIG)
    grad, hess, _ = _pieces(res, res.fit.phi)
    scale = np.sqrt(np.diag(-hess))
    assert np.abs(grad / scale).max() < 1e-5
    assert np.linalg.eigvalsh(-hess).min() > 0


def _batched_em(model, theta, reml, iterations):
    """The EM iteration written with numpy's general solvers, group by group."""
    st = model.first.structure
    for _ in range(iterations):
        ev = model.evaluate([theta], keep=True)
        lam = ev.lam1
        s2 = model.sigma2(ev, reml)
        beta_c = ev.beta - model.beta0
        a = np.swapaxes(lam.T @ model.d1 @ lam, 1, 2) + np.eye(lam.shape[0])
        rhs = (model.z1y - model.z1x @ beta_c) @ lam  # (G, q): Lambda'(Z'y - Z'X b)
        u = np.linalg.solve(a, rhs[:, :, None])[:, :, 0]
        b = u @ lam.T
        ainv = np.linalg.inv(a).sum(0)
        sigma = (b.T @ b + s2 * lam @ ainv @ lam.T) / a.shape[0]
        theta = st.theta_from_sigma(sigma / s2)
    return theta


@pytest.mark.parametrize("cmd,reml", [(PIG, False), (PIG, True),
                                      ("mixed weight week || id:", False)])
def test_closed_form_em_is_the_em_iteration(cmd, reml):
    res = fitted("pig", cmd)
    model = res.fit.model
    start = model.first.structure.start_theta(0.5)
    ours = em_closed_form(model, start, reml, 7, 0.0)
    ref = _batched_em(model, start, reml, 7)
    assert ours == pytest.approx(ref, rel=1e-10, abs=1e-12)


def test_crossed_size_classes_equal_the_sparse_product():
    rng = np.random.default_rng(3)
    n, l1, l2 = 3000, 120, 30
    f1 = rng.integers(0, l1, n)
    f2 = rng.integers(0, l2, n)
    x = rng.normal(size=n)
    y = 1 + 0.5 * x + rng.normal(size=l1)[f1] + rng.normal(size=l2)[f2] + rng.normal(size=n)
    X = np.column_stack([x, np.ones(n)])
    from memodels.covariance.structures import CovStructure

    ident = CovStructure("identity", 1)
    terms = [EngineTerm(groups=f1, n_groups=l1, Z=np.ones((n, 1)), structure=ident, source=0),
             EngineTerm(groups=f2, n_groups=l2, Z=np.ones((n, 1)), structure=ident, source=1)]
    model = ProfiledLMM(y, X, terms)
    assert model.size_classes is not None
    thetas = [np.array([0.8]), np.array([0.6])]
    fast = model.evaluate(thetas)
    model.size_classes = None
    slow = model.evaluate(thetas)
    assert fast.logdet == pytest.approx(slow.logdet, rel=1e-12)
    assert fast.r2 == pytest.approx(slow.r2, rel=1e-12)
    assert fast.beta == pytest.approx(slow.beta, rel=1e-12)


def test_sort_free_group_codes_equal_np_unique():
    rng = np.random.default_rng(7)
    for _ in range(50):
        n = int(rng.integers(1, 200))
        df = pd.DataFrame({"a": rng.integers(-3, 30, n), "b": rng.integers(0, 5, n)})
        sample = rng.random(n) < 0.8
        if not sample.any():
            continue
        codes, k = group_codes(df, sample, ("a", "b"))
        pairs = df[sample].to_numpy()
        uniq, inv = np.unique(pairs[:, 0] * 1000 + pairs[:, 1], return_inverse=True)
        assert np.array_equal(codes, inv) and k == uniq.size
        fc, fu = factorize_sorted(df["a"])
        pc, pu = pd.factorize(df["a"], sort=True)
        assert np.array_equal(fc, pc) and list(fu) == list(pu)


def test_one_pass_collinearity_agrees_with_qr():
    rng = np.random.default_rng(5)
    x1, x2 = rng.normal(size=(2, 500))
    ok = np.column_stack([x1, x2, x1 - 2 * x2 + 1e-2 * rng.normal(size=500)])
    assert not collinear_columns(ok, constant=True).any()
    bad = np.column_stack([x1, x2, x1 - 2 * x2 + 3.0])  # collinear with the constant
    assert collinear_columns(bad, constant=True).tolist() == [False, False, True]
    shifted = np.column_stack([x1 + 1e9, x2])  # location far from 0: the exact path
    assert not collinear_columns(shifted, constant=True).any()


def test_fit_on_the_manual_example_is_unchanged():
    """[ME] mixed example 3 (pig, unstructured): Stata's printed log likelihood and
    estimates, fitted by EM then Newton with the exact Hessian."""
    res = fitted("pig", PIG)
    assert res.llf == pytest.approx(-868.96185, abs=5e-5)
    assert res.params["week"] == pytest.approx(6.209896, rel=1e-6)
    assert res.fit.iterations <= 5
    assert load_dataset("pig").shape[0] == 432
