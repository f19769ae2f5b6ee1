"""vce(robust) and vce(cluster) for mixed with three levels ([ME] mixed, Methods and
formulas): the sandwich of the highest-level groups' scores, against a computation here
with scipy's multivariate normal density and central differences."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import memodels
from memodels.errors import OptionError


@functools.cache
def _data() -> pd.DataFrame:
    rng = np.random.default_rng(8)
    rows = []
    for a in range(12):
        ua = rng.normal(scale=0.7)
        for b in range(3):
            ub = rng.normal(scale=0.5)
            for _ in range(4):
                x = rng.normal()
                rows.append((a, 100 * a + b, x, 1 + 0.5 * x + ua + ub + rng.normal(scale=.8)))
    return pd.DataFrame(rows, columns=["a", "b", "x", "y"])


def _loglik_by_a(psi: np.ndarray, df: pd.DataFrame) -> np.ndarray:
    b1, b0, lsa, lsb, lse = psi  # e(b) order: x, _cons, then the variances
    out = []
    for _, part in df.groupby("a"):
        same_b = (part["b"].to_numpy()[:, None] == part["b"].to_numpy()[None, :])
        v = (np.exp(2 * lsa) + np.exp(2 * lsb) * same_b
             + np.exp(2 * lse) * np.eye(len(part)))
        mean = b0 + b1 * part["x"].to_numpy()
        out.append(stats.multivariate_normal(mean, v).logpdf(part["y"].to_numpy()))
    return np.array(out)


def _sandwich(psi: np.ndarray, df: pd.DataFrame, clusters=None) -> np.ndarray:
    k, h = psi.size, 1e-4
    s = np.empty((df["a"].nunique(), k))
    for j in range(k):
        e = np.zeros(k)
        e[j] = h
        s[:, j] = (_loglik_by_a(psi + e, df) - _loglik_by_a(psi - e, df)) / (2 * h)
    if clusters is not None:
        s = pd.DataFrame(s).groupby(clusters).sum().to_numpy()
    hess = np.empty((k, k))
    for j in range(k):
        e = np.zeros(k)
        e[j] = h
        for i in range(k):
            d = np.zeros(k)
            d[i] = h
            hess[i, j] = ((_loglik_by_a(psi + e + d, df).sum()
                           - _loglik_by_a(psi + e - d, df).sum())
                          - (_loglik_by_a(psi - e + d, df).sum()
                             - _loglik_by_a(psi - e - d, df).sum())) / (4 * h * h)
    m = s.shape[0]
    bread = np.linalg.inv(-hess)
    return bread @ (m / (m - 1) * s.T @ s) @ bread


def test_three_level_robust_and_cluster_vce():
    df = _data()
    res = memodels.fit("mixed y x || a: || b:, vce(robust)", df, nolog=True)
    psi = np.concatenate([res.fit.beta, res.fit.phi])
    assert _loglik_by_a(psi, df).sum() == pytest.approx(res.llf, rel=1e-10)
    v = _sandwich(psi, df)
    np.testing.assert_allclose(res.bse[["x", "_cons"]].to_numpy(),
                               np.sqrt(np.diag(v))[:2], rtol=2e-3)
    assert "adjusted for 12 clusters in a" in res.summary()
    # vce(cluster) at a coarser grouping of the top level
    df2 = df.assign(c=df["a"] // 3)
    res2 = memodels.fit("mixed y x || a: || b:, vce(cluster c)", df2, nolog=True)
    v2 = _sandwich(np.concatenate([res2.fit.beta, res2.fit.phi]), df2,
                   clusters=np.arange(12) // 3)
    np.testing.assert_allclose(res2.bse[["x", "_cons"]].to_numpy(),
                               np.sqrt(np.diag(v2))[:2], rtol=2e-3)


def test_three_level_weights_still_refused():
    df = _data().assign(w=1.0)
    with pytest.raises(OptionError, match="two-level"):
        memodels.fit("mixed y x [pw=w] || a: || b:", df, nolog=True)
