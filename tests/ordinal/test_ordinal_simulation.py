"""Simulation: meologit/meoprobit recover the parameters the data were generated from
(within 4 standard errors), with 3 and 5 ordered categories, two- and three-level
random intercepts, by the default 7-point mean-variance adaptive quadrature."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from memodels.commands.me_ordinal import meologit, meoprobit


def _simulate(seed: int, cuts, link: str, *, nested: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n_groups, m = 120, 12
    g = np.repeat(np.arange(n_groups), m)
    x = rng.normal(size=g.size)
    d = (rng.random(g.size) < 0.4).astype(float)
    u = rng.normal(scale=0.8, size=n_groups)  # var 0.64
    eta = 0.7 * x - 0.5 * d + u[g]
    frame = {"g": g, "x": x, "d": d}
    if nested:
        c = g * 3 + rng.integers(0, 3, g.size)  # three classes per group
        w = rng.normal(scale=0.5, size=c.max() + 1)  # var 0.25
        eta = eta + w[c]
        frame["c"] = c
    e = rng.logistic(size=g.size) if link == "logit" else rng.normal(size=g.size)
    latent = eta + e
    y = np.searchsorted(np.asarray(cuts), latent)  # Pr(y <= k) = F(cut_k - eta)
    frame["y"] = 10 * y + 5  # any ordered values: 5, 15, 25, ...
    return pd.DataFrame(frame)


CASES = [
    ("logit", (-0.6, 0.9)),
    ("probit", (-0.6, 0.9)),
    ("logit", (-1.8, -0.6, 0.4, 1.5)),
    ("probit", (-1.8, -0.6, 0.4, 1.5)),
]


@pytest.mark.parametrize("link,cuts", CASES, ids=[f"{lk}-{len(c) + 1}cat" for lk, c in CASES])
def test_recovers_known_parameters(link, cuts):
    df = _simulate(7 + len(cuts), cuts, link)
    command = meologit if link == "logit" else meoprobit
    res = command("y x d || g:", df, nolog=True)
    assert res.converged
    assert res.k_cat == len(cuts) + 1
    truth = {"x": 0.7, "d": -0.5, "var(_cons[g])": 0.64}
    truth.update({f"/cut{j + 1}": c for j, c in enumerate(cuts)})
    assert list(res.params.index) == ["x", "d", *[f"/cut{j + 1}" for j in range(len(cuts))],
                                      "var(_cons[g])"]
    for name, value in truth.items():
        assert abs(res.params[name] - value) < 4 * res.bse[name], (name, res.params[name])


def test_recovers_three_level_model():
    cuts = (-1.0, 0.2, 1.3)
    df = _simulate(21, cuts, "probit", nested=True)
    res = meoprobit("y x d || g: || c:", df, nolog=True)
    assert res.converged
    truth = {"x": 0.7, "d": -0.5, "var(_cons[g])": 0.64, "var(_cons[g>c])": 0.25}
    truth.update({f"/cut{j + 1}": c for j, c in enumerate(cuts)})
    for name, value in truth.items():
        assert abs(res.params[name] - value) < 4 * res.bse[name], (name, res.params[name])
