"""Nested random intercepts by ``intmethod(laplace)`` reach the Laplace maximum, not a zero
variance that is a saddle ([ME] meglm, Methods and formulas, Laplacian approximation;
memodels.glmm.laplace_boundary).

The engine maximizes over the relative Cholesky factor, in which the likelihood is even in
each standard deviation: at a standard deviation of (about) 0 its gradient vanishes, so a
gradient method that starts or lands there stays, reporting the variance at 0 with SE 0
and "convergence not achieved" below the maximum (a start with a zero variance ended 1.57
log-likelihood units below on the data here).  Each fit here is checked against an
independent maximization: Nelder-Mead (BFGS for the three-level model) on the Laplace
log likelihood in (beta, ln sd) from the true values, and the best of three starts
(default, a start grid, the true values).

Data: Poisson, 400 observations, 60 groups a with 120 groups b nested in them (unbalanced),
true variances 0.3 (a) and 0.6 (b); and a third, observation-level intercept (0.3).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize

import memodels
from memodels.glmm.laplace_boundary import saddle_restart

TRUE = {"a": 0.3, "b": 0.6, "obs": 0.3}


def _simulate(seed: int, *, v_obs: float | None = None, v_a: float = TRUE["a"],
              b0: float = 0.5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n, n_a, n_b = 400, 60, 120
    parent = np.concatenate([np.arange(n_a), rng.integers(0, n_a, n_b - n_a)])
    b = rng.integers(0, n_b, n)
    a = parent[b]
    x = rng.normal(size=n)
    eta = (b0 + 0.4 * x + rng.normal(0, np.sqrt(v_a), n_a)[a]
           + rng.normal(0, np.sqrt(TRUE["b"]), n_b)[b])
    if v_obs:
        eta = eta + rng.normal(0, np.sqrt(v_obs), n)
    return pd.DataFrame({"y": rng.poisson(np.exp(eta)), "x": x, "a": a + 1, "b": b + 1,
                         "obs": np.arange(n) + 1})


def _fit(df: pd.DataFrame, cmd: str):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no convergence warning
        # a variance at 0 is reported (issue #17), and is no failure to converge here
        warnings.simplefilter("ignore", memodels.BoundaryWarning)
        return memodels.fit(cmd, df, nolog=True)


def _independent_max(res, start_var: list[float], b0: float = 0.5,
                     method: str = "Nelder-Mead") -> float:
    """The Laplace maximum found independently: Nelder-Mead (or BFGS with
    finite-difference gradients, where evaluations are costly) on the engine's Laplace
    log likelihood in (beta, ln sd), from the true values."""
    model = res.fit.extra["model"]
    k = model.p + model.n_aux

    def neg(phi: np.ndarray) -> float:
        par = phi.copy()
        par[k:] = np.exp(phi[k:])
        val = model.loglik(par)
        return -val if np.isfinite(val) else 1e10

    start = np.concatenate([[0.4, b0], 0.5 * np.log(start_var)])
    if method == "BFGS":
        out = minimize(neg, start, method="BFGS", options={"gtol": 1e-6})
    else:
        out = minimize(neg, start, method="Nelder-Mead",
                       options={"maxiter": 6000, "maxfev": 6000, "xatol": 1e-7,
                                "fatol": 1e-9})
    return -out.fun


def _from(names: list[str], values: list[float]) -> str:
    return " ".join(f"{n}={v}" for n, v in zip(names, values, strict=True))


CMD2 = "mepoisson y x || a: || b:, intmethod(laplace)"
CMD3 = "mepoisson y x || a: || b: || obs:, intmethod(laplace)"
VARS2 = ["var(_cons[a])", "var(_cons[a>b])"]
VARS3 = [*VARS2, "var(_cons[a>b>obs])"]


@pytest.fixture(scope="module")
def two_level():
    df = _simulate(2)
    return df, _fit(df, CMD2)


def test_nested_laplace_reaches_the_maximum(two_level):
    df, res = two_level
    assert res.converged
    assert res.params["var(_cons[a])"] > 0.1 and res.bse["var(_cons[a])"] > 0
    truth = [TRUE["a"], TRUE["b"]]
    starts = [res,
              _fit(df, CMD2 + " startgrid(.1 .5 1)"),
              _fit(df, CMD2 + f" from({_from(VARS2, truth)})")]
    best = max(r.llf for r in starts)
    assert res.llf == pytest.approx(best, abs=1e-4)
    assert _independent_max(res, truth) <= res.llf + 1e-4
    # many-point quadrature is close to the Laplace value (the approximation's error)
    quad = _fit(df, "mepoisson y x || a: || b:")
    assert abs(quad.llf - res.llf) < 1.0
    assert res.params["var(_cons[a])"] == pytest.approx(quad.params["var(_cons[a])"], abs=0.05)


@pytest.mark.parametrize("command", ["mepoisson", "meqrpoisson"])
def test_a_zero_starting_variance_does_not_hold_the_fit_at_zero(two_level, command):
    """A (numerically) zero starting variance: the fit used to stay there (1.57 units
    below the maximum, var 0 with SE 0, not converged)."""
    df, res = two_level
    opt = "laplace" if command == "meqrpoisson" else "intmethod(laplace)"
    start = _fit(df, f"{command} y x || a: || b:, {opt} "
                     f"from({_from(VARS2, [1e-18, 0.5])})")
    assert start.converged
    assert start.llf == pytest.approx(res.llf, abs=1e-4)
    assert start.params["var(_cons[a])"] == pytest.approx(res.params["var(_cons[a])"],
                                                          rel=1e-3)
    assert start.bse["var(_cons[a])"] > 0


def test_three_levels_with_an_observation_level_intercept():
    df = _simulate(1, v_obs=TRUE["obs"])
    res = _fit(df, CMD3)
    assert res.converged and np.all(res.bse.to_numpy() > 0)
    truth = [TRUE["a"], TRUE["b"], TRUE["obs"]]
    assert _independent_max(res, truth, method="BFGS") <= res.llf + 1e-4
    zero = _fit(df, CMD3 + f" from({_from(VARS3, [1e-18, 1e-18, 1e-18])})")
    assert zero.llf == pytest.approx(res.llf, abs=1e-4)
    assert zero.bse["_cons"] > 0


def test_a_true_boundary_estimate_stays_at_zero():
    """With no variance at the outer level (simulated 0), the estimate at 0 is a maximum
    along that direction: no restart, and no higher point from the true values."""
    df = _simulate(1, v_a=0.0, b0=-1.0)
    res = _fit(df, CMD2)
    model, theta = res.fit.extra["model"], res.fit.extra["params_theta"]
    assert res.converged and res.params["var(_cons[a])"] < 1e-10
    assert saddle_restart(model, theta, res.llf) is None
    assert _independent_max(res, [1e-4, TRUE["b"]], b0=-1.0) <= res.llf + 1e-4


def test_saddle_at_zero_is_detected(two_level):
    """The optimum with the outer standard deviation held at 0 is a saddle of the Laplace
    likelihood here: the probe finds a higher value and the restart point has sd > 0."""
    _, res = two_level
    model = res.fit.extra["model"]
    theta = np.asarray(res.fit.extra["params_theta"], float)
    k = model.p + model.n_aux

    def neg(free: np.ndarray) -> float:  # everything but the outer sd, which is 0
        par = np.insert(free, k, 0.0)
        val = model.loglik(par)
        return -val if np.isfinite(val) else 1e10

    out = minimize(neg, np.delete(theta, k), method="Nelder-Mead",
                   options={"maxiter": 4000, "xatol": 1e-8, "fatol": 1e-10})
    at_zero = np.insert(out.x, k, 0.0)
    restart = saddle_restart(model, at_zero, -out.fun)
    assert restart is not None and restart[k] > 0
    assert model.loglik(restart) > -out.fun
    assert -out.fun < res.llf - 0.1
