"""BLUPs and their standard errors against the textbook formulas computed densely.

u~ = G Z'V^{-1}(y - X b); ML: Var(u | y) = G - G Z'V^{-1}Z G (beta known);
REML: G - G Z'P Z G with P = V^{-1} - V^{-1}X(X'V^{-1}X)^{-1}X'V^{-1}.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.linalg as sla

from memodels.postestimation import blup
from memodels.postestimation.predict import _effect_columns
from support import fitted

CASES = [
    ("t43", "mixed score i.drug || person:, reml"),
    ("t43", "mixed score i.drug || person:"),
    ("pig", "mixed weight week if id <= 12 || id: week, covariance(unstructured)"),
    ("pig", "mixed weight week if id <= 12 || id: week, covariance(unstructured) reml"),
    ("productivity", "mixed gsp private emp hwy water other unemp || region: || state:"),
    ("productivity", "mixed gsp private emp hwy water other unemp || region: || state:, reml"),
]


def _dense(res):
    design, fit = res.design, res.fit
    n = design.y.size
    zs, gs = [], []
    for et, sig in zip(fit.terms, fit.sigmas, strict=True):
        q = et.Z.shape[1]
        z = np.zeros((n, et.n_groups * q))
        for k in range(q):
            z[np.arange(n), et.groups * q + k] = et.Z[:, k]
        zs.append(z)
        gs.append(np.kron(np.eye(et.n_groups), sig))
    Z = np.hstack(zs)
    G = sla.block_diag(*gs)
    X = design.X
    V = Z @ G @ Z.T + fit.sigma2 * np.eye(n)
    Vi = np.linalg.inv(V)
    u = G @ Z.T @ Vi @ (design.y - X @ fit.beta)
    if fit.reml:
        P = Vi - Vi @ X @ np.linalg.inv(X.T @ Vi @ X) @ X.T @ Vi
    else:
        P = Vi
    C = G - G @ Z.T @ P @ Z @ G
    return u, C


def _per_obs(res, vec):
    """Expand a stacked (term, group, effect) vector to per-observation columns."""
    cols = {}
    offs = 0
    blocks = []
    for et in res.fit.terms:
        q = et.Z.shape[1]
        blocks.append(vec[offs: offs + et.n_groups * q].reshape(et.n_groups, q))
        offs += et.n_groups * q
    for k, j, name in _effect_columns(res.design, res.fit.terms):
        cols[name] = blocks[k][res.fit.terms[k].groups, j]
    return pd.DataFrame(cols, index=res.design.index)


@pytest.mark.parametrize("dataset,cmd", CASES)
def test_blups_and_reses_match_dense_formulas(dataset, cmd):
    res = fitted(dataset, cmd)
    u, C = _dense(res)
    re = res.predict("reffects")
    se = res.predict("reses")
    pd.testing.assert_frame_equal(re, _per_obs(res, u), rtol=1e-7, atol=1e-10)
    pd.testing.assert_frame_equal(se, _per_obs(res, np.sqrt(np.diag(C))), rtol=1e-7,
                                  atol=1e-10)


def test_reml_reses_exceed_ml_formula():
    """REML SEs account for the uncertainty of beta: larger than Var(u | y)^(1/2)."""
    res = fitted("t43", "mixed score i.drug || person:, reml")
    b_ml = blup.mixed_blups(res.design, res.fit, variances=True)
    fit = res.fit
    fit_ml = type(fit)(**{**fit.__dict__, "reml": False})
    b_known = blup.mixed_blups(res.design, fit_ml, variances=True)
    assert np.all(b_ml.cov[0][:, 0, 0] > b_known.cov[0][:, 0, 0])


def test_sparse_path_matches_dense(monkeypatch):
    cmd = "mixed gsp private emp hwy water other unemp || region: || state:, reml"
    res = fitted("productivity", cmd)
    dense = blup.mixed_blups(res.design, res.fit, variances=True)
    monkeypatch.setattr(blup, "DENSE_Q", 0)
    sparse = blup.mixed_blups(res.design, res.fit, variances=True)
    for a, b in zip(dense.u + dense.cov, sparse.u + sparse.cov, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-12)


def test_relevel_restricts_columns_and_fitted():
    res = fitted("productivity",
                 "mixed gsp private emp hwy water other unemp || region: || state:")
    all_re = res.predict("reffects")
    assert list(all_re.columns) == ["_cons[region]", "_cons[region>state]"]
    reg = res.predict("reffects", relevel="region")
    assert list(reg.columns) == ["_cons[region]"]
    st = res.predict("reses", relevel="state")
    assert list(st.columns) == ["_cons[region>state]"]
    xb = res.predict("xb")
    f_region = res.predict("fitted", relevel="region")
    f_all = res.predict("fitted")
    np.testing.assert_allclose(f_region, xb + all_re["_cons[region]"])
    np.testing.assert_allclose(f_all, xb + all_re.sum(axis=1))
    np.testing.assert_allclose(res.predict("residuals"), res.design.y - f_all)
