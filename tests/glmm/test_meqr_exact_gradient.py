"""meqr's re-solved-modes likelihood L(b) = Q(b, a(b)) has an exact gradient
(memodels.glmm.resolved_gradient: implicit differentiation through the posterior modes
and curvatures; issue "Speed", item 1).  Checked against central differences of L itself
(modes re-solved to 1e-12 at every point), away from the maximum, for two and three
nested levels, random slopes of dimension 1 and 2, logit and Poisson, and against the
engine's fixed-a Hessian of Q."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import memodels
from memodels.glmm import resolved_gradient


def _data(seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n_h, n_d, n_obs = 6, 5, 8
    h = np.repeat(np.arange(n_h), n_d * n_obs)
    d = np.repeat(np.arange(n_h * n_d), n_obs)
    x, w = rng.normal(size=h.size), rng.normal(size=h.size)
    eta = (-0.3 + 0.6 * x - 0.4 * w + 0.7 * rng.normal(size=n_h)[h]
           + 0.5 * rng.normal(size=n_h * n_d)[d] + 0.5 * rng.normal(size=n_h * n_d)[d] * x)
    y = (rng.random(h.size) < 1 / (1 + np.exp(-eta))).astype(float)
    cnt = rng.poisson(np.exp(0.3 + 0.3 * x + 0.4 * rng.normal(size=n_h * n_d)[d]))
    return pd.DataFrame({"y": y, "cnt": cnt, "x": x, "w": w, "hid": h, "did": d,
                         "cid": np.arange(h.size) // 4})


@pytest.mark.parametrize("cmd", [
    "meqrlogit y x w || hid: || did: x",
    "meqrlogit y x w || hid: x || did: x, cov(unstructured) intpoints(3)",
    "meqrlogit y x || hid: x, cov(unstructured) || did: || cid:, intpoints(3)",
    "meqrpoisson cnt x w || hid: || did: x, intpoints(5)",
])
def test_exact_gradient_matches_differences_of_the_likelihood(cmd):
    res = memodels.fit(cmd, _data(), nolog=True)
    fit = res.fit if hasattr(res, "fit") else res
    model = fit.extra["model"]
    assert resolved_gradient.supported(model)
    rng = np.random.default_rng(0)
    par = fit.extra["params_theta"] + 0.05 * rng.normal(size=fit.extra["params_theta"].size)
    state = {"ad": fit.extra["adaptive"]}

    def loglik(p):
        state["ad"] = model.adapt(p, state["ad"], tol=1e-12, maxiter=200)
        return model.loglik(p, state["ad"])

    llf = loglik(par)
    value, grad = resolved_gradient.total_gradient(model, par, state["ad"])
    assert value == pytest.approx(llf, abs=1e-9)
    h = 1e-5
    fd = np.array([(loglik(par + e) - loglik(par - e)) / (2 * h)
                   for e in np.eye(par.size) * h])
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-6)
    # the fixed-a Hessian from the node-linear form equals the engine's
    ad = model.adapt(par, state["ad"], tol=1e-12)
    _, _, hess = resolved_gradient.total_gradient(model, par, ad, fixed_hessian=True)
    _, _, engine = model.derivatives(par, ad)
    np.testing.assert_allclose(hess, engine, rtol=1e-8, atol=1e-8 * np.abs(engine).max())


def test_refineopts_iterate0_skips_the_refinement(monkeypatch):
    """refineopts(iterate(0)) ([ME] meqrlogit, Options: bypasses the initial optimization
    stage): the one-node refinement is not run, and the same maximum is reached."""
    from memodels.glmm import resolved_exact

    df = _data()
    cmd = "meqrlogit y x w || hid: || did: x, intpoints(3)"
    base = memodels.fit(cmd, df, nolog=True)

    def refuse(*args, **kwargs):
        raise AssertionError("refinement ran")

    monkeypatch.setattr(resolved_exact, "refine", refuse)
    res = memodels.fit(cmd + " refineopts(iterate(0))", df, nolog=True)
    assert res.converged
    assert res.llf == pytest.approx(base.llf, abs=1e-5)
    with pytest.raises(AssertionError, match="refinement ran"):
        memodels.fit(cmd, df, nolog=True)
