"""meqrlogit with a random slope at the inner of two nested levels: reaches the maximum in
a handful of Newton iterations (issue "Speed", item 1: the hdp analysis's random-slope
model was still iterating at iteration 238 after 15 minutes).

The hdp fit itself (Stata: 4 Newton iterations to -3553.4677) takes 5 Newton iterations
and a few seconds since the likelihood's gradient is exact (glmm/resolved_exact.py; it
took ~42 s with differenced derivatives).  The other test fits a simulated
model of the same shape (hospital > doctor, random slope by doctor) and checks that the
reported point is the maximum of the criterion independently: every parameter moved by
a tenth of its standard error, both ways, lowers the log likelihood by about
(0.1)^2/2 times its curvature, as the quadratic approximation says.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import memodels
from support import fitted

HDP = ("meqrlogit remission age lengthofstay i.familyhx il6 crp i.cancerstage experience "
       "|| hid: || did: lengthofstay")


def _simulate(n_h: int = 12, n_d: int = 8, n_obs: int = 12, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    h = np.repeat(np.arange(n_h), n_d * n_obs)
    d = np.repeat(np.arange(n_h * n_d), n_obs)
    x, w = rng.normal(size=h.size), rng.normal(size=h.size)
    eta = (-0.3 + 0.6 * x - 0.4 * w + 0.7 * rng.normal(size=n_h)[h]
           + 0.4 * rng.normal(size=n_h * n_d)[d] + 0.5 * rng.normal(size=n_h * n_d)[d] * x)
    y = (rng.random(h.size) < 1 / (1 + np.exp(-eta))).astype(float)
    return pd.DataFrame({"y": y, "x": x, "w": w, "hid": h, "did": d})


def test_simulated_nested_random_slope_few_iterations_at_the_maximum():
    res = memodels.fit("meqrlogit y x w || hid: || did: x", _simulate(), nolog=True)
    assert res.converged
    assert res.iterations <= 10
    fit = res.fit if hasattr(res, "fit") else res
    extra = fit.extra
    model, params, hess = extra["model"], extra["params_theta"], extra["hessian"]
    state = {"ad": extra["adaptive"]}

    def loglik(par):
        state["ad"] = model.adapt(par, state["ad"], tol=1e-10)
        return model.loglik(par, state["ad"])

    assert loglik(params) == pytest.approx(res.llf, abs=1e-8)
    se = np.sqrt(np.diag(np.linalg.inv(-hess)))
    for i in range(params.size):
        for sign in (-1.0, 1.0):
            moved = params.copy()
            moved[i] += sign * 0.1 * se[i]
            drop = res.llf - loglik(moved)
            expected = 0.5 * (0.1 * se[i]) ** 2 * -hess[i, i]
            assert drop > 0
            assert drop == pytest.approx(expected, rel=0.1)


def test_hdp_random_slope_as_printed():
    """The hdp analysis's random-slope meqrlogit (printed table: Log likelihood =
    -3553.4677, 4 iterations).  A few seconds (5 iterations; ~42 s before the exact
    gradient): this fit used to crawl (>238 iterations) and it is the seed's own table."""
    res = fitted("hdp", HDP + ", nolog")
    assert res.converged
    assert res.iterations <= 8
    assert res.llf == pytest.approx(-3553.4677, abs=5e-5)
    printed = {"age": (-.0154721, .0060991), "lengthofstay": (-.186377, .0455136),
               "2.familyhx": (-1.351274, .0971779), "il6": (-.0591022, .0117973),
               "crp": (-.0215015, .0104316), "2.cancerstage": (-.2981576, .0784563),
               "3.cancerstage": (-.8702162, .1040937), "4.cancerstage": (-2.303456, .1723607),
               "experience": (.106476, .024752), "_cons": (-.5892488, .5665096),
               "var(_cons[hid])": (.544376, .2124416),
               "var(lengthofstay[hid>did])": (.1374912, .022129),
               "var(_cons[hid>did])": (.2202521, .4743155)}
    for name, (est, se) in printed.items():
        # separately converged fits: within 1e-3 standard errors; SEs to 2e-3
        assert abs(res.params[name] - est) < 1e-3 * se + 1e-6, name
        assert res.bse[name] == pytest.approx(se, rel=2e-3), name
