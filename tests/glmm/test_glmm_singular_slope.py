"""A random slope whose variance heads to 0 (reliability.md finding 8; issue #14 item 3):
the unstructured covariance approaches a singular matrix (correlation +-1) and Newton on
its Cholesky factor crawled along the flat direction.  The me commands' Newton iterations
now move to the nearest singular covariance when they crawl there
(:mod:`memodels.glmm.singular_boundary`), and report the boundary solution; simulated
data built here (true slope variance 0)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import memodels
import memodels.glmm.singular_boundary as sb

CMD = "melogit b x1 x2 || g: x1, cov(un) nolog"


def _data(seed: int, n: int = 1000, size: int = 20) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    G = n // size
    g = np.repeat(np.arange(G), size)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    eta = -0.3 + 0.5 * x1 - 0.4 * x2 + rng.normal(size=G)[g] * 0.8
    b = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    return pd.DataFrame({"b": b, "x1": x1, "x2": x2, "g": g})


def _fit(df: pd.DataFrame):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return memodels.fit(CMD, df)


def test_singular_covariance_reached_quickly(monkeypatch):
    df = _data(4)
    res = _fit(df)
    assert res.converged and res.iterations <= 10
    assert any("covariance matrix is singular" in w for w in res.warnings)
    p = res.params
    corr = p["cov(x1,_cons[g])"] / np.sqrt(p["var(x1[g])"] * p["var(_cons[g])"])
    assert abs(abs(corr) - 1) < 1e-6
    # the same Newton iterations without the move crawl to the same maximum
    monkeypatch.setattr(sb, "EIG", 0.0)
    monkeypatch.setattr(sb, "NEAR", 0.0)
    crawl = _fit(df)
    assert crawl.iterations >= res.iterations + 8
    assert res.llf >= crawl.llf - 1e-7
    for name in ("x1", "x2", "_cons", "var(_cons[g])"):
        assert res.params[name] == pytest.approx(crawl.params[name], rel=1e-3)


def test_interior_covariance_not_flagged():
    """A slope variance estimated inside the parameter space: no move, no warning."""
    res = _fit(_data(1))
    assert res.converged and not res.warnings
    p = res.params
    corr = p["cov(x1,_cons[g])"] / np.sqrt(p["var(x1[g])"] * p["var(_cons[g])"])
    assert abs(corr) < 0.999


def test_projection_keeps_the_nearest_singular_matrix():
    from memodels.covariance.structures import CovStructure

    class Model:
        p, n_aux = 2, 0
        structure = CovStructure("unstructured", 2)

    pins = sb.SingularPins(Model())
    params = np.array([0.1, -0.2, 0.3, 0.5, 0.05])  # L = [[0.3, 0], [0.5, 0.05]]
    out = pins.projected(params, [4])
    lam = np.array([[out[2], 0.0], [out[3], out[4]]])
    sigma = np.array([[0.09, 0.15], [0.15, 0.2525]])
    w, v = np.linalg.eigh(sigma)
    np.testing.assert_allclose(lam @ lam.T, w[1] * np.outer(v[:, 1], v[:, 1]), atol=1e-12)
    assert out[4] == 0.0 and out[:2].tolist() == [0.1, -0.2]
