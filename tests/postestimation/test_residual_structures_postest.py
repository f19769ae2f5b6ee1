"""Postestimation of ``mixed`` with ``residuals()`` uses the fitted R (audit J15, J16, K12).

Every figure is checked against a dense numpy computation written here from the
*reported* parameters (rho, phi, theta, var(e), cov(e...), by-group variances), with
V = Z G Z' + R built observation by observation from the data's t() and by() values:

* BLUPs u = G Z'V^{-1}(y - X b) ([ME] mixed postestimation, Methods and formulas);
* reses: ML  G - G Z'V^{-1}Z G;  REML  G - G Z'P Z G, P = V^-1 - V^-1 X (X'V^-1 X)^-1 X'V^-1;
* rstandard: sigma_e^-1 R^-1/2 e, with R^-1/2 the inverse Cholesky factor of each
  panel's residual covariance in t() order (diagonal R: e / sd);
* estat wcorrelation: V_j of the first cluster.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from support import fitted, load_dataset

EX = "if inlist(day, 0, 4, 6, 8, 12)"
# (dataset, command, structure, t var, by var, group var, random-effect covariate or None)
CASES = [
    ("ovary", "mixed follicles sin1 cos1 || mare:, residuals(ar 1, t(time)) reml",
     "ar1", "time", None, "mare", "_cons"),
    ("ovary", "mixed follicles sin1 cos1 || mare:, residuals(ar 2, t(time)) reml nolog",
     "ar2", "time", None, "mare", "_cons"),
    ("ovary", "mixed follicles sin1 cos1 || mare:, residuals(ma 1, t(time)) reml",
     "ma1", "time", None, "mare", "_cons"),
    ("ovary", "mixed follicles sin1 cos1 || mare:, residuals(toeplitz 2, t(time))",
     "toeplitz", "time", None, "mare", "_cons"),
    ("ovary", "mixed follicles sin1 cos1 || mare:, residuals(exponential, t(time))",
     "exponential", "time", None, "mare", "_cons"),
    ("ovary", "mixed follicles sin1 cos1 || mare: sin1, noconstant residuals(exchangeable)",
     "exchangeable", None, None, "mare", "sin1"),
    ("exercise", "mixed strength i.day || id:, residuals(independent, by(program)) reml",
     "by", None, "program", "id", "_cons"),
    # the reference tests' command line for example 9 (one cached fit)
    ("exercise", "mixed strength i.program##i.day if inlist(day,0,4,6,8,12) || id:, "
     "noconstant residuals(unstructured, t(day)) nolog", "unstructured", "day", None, "id",
     None),
    ("exercise", f"mixed strength i.program##i.day {EX} || id:, noconstant "
     "residuals(banded 1, t(day))", "unstructured", "day", None, "id", None),
]


def _tl(v) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def _acf(kind: str, p: pd.Series, lags: np.ndarray) -> np.ndarray:
    lags = np.abs(lags).astype(int)
    top = int(lags.max()) + 1
    r = np.zeros(top + 2)
    r[0] = 1.0
    if kind == "ar1":
        r = p["rho"] ** np.arange(top + 2)
    elif kind == "ar2":
        phi1, phi2 = p["phi1"], p["phi2"]
        r[1] = phi1 / (1 - phi2)
        for k in range(2, top + 2):
            r[k] = phi1 * r[k - 1] + phi2 * r[k - 2]
    elif kind == "ma1":
        r[1] = p["theta1"] / (1 + p["theta1"] ** 2)
    elif kind == "toeplitz":
        r[1], r[2] = p["rho1"], p["rho2"]
    return r[lags]


def _panel_cov(kind: str, p: pd.Series, n: int, t, by) -> np.ndarray:
    """The residual covariance of one panel (n observations) from the reported
    parameters."""
    if kind == "by":
        return np.diag([p[f"var(e[{_tl(b)}])"] for b in by])
    if kind == "exchangeable":
        return p["cov(e)"] * np.ones((n, n)) + (p["var(e)"] - p["cov(e)"]) * np.eye(n)
    if kind == "unstructured":
        out = np.zeros((n, n))
        for i in range(n):
            for k in range(n):
                a, b = sorted((t[i], t[k]))
                name = f"var(e{_tl(a)})" if i == k else f"cov(e{_tl(a)},e{_tl(b)})"
                out[i, k] = p.get(name, 0.0)
        return out
    lag = np.subtract.outer(t, t)
    if kind == "exponential":
        return p["var(e)"] * p["rho"] ** np.abs(lag)
    return p["var(e)"] * _acf(kind, p, lag)


def _dense(res, dataset, kind, tvar, byvar, gvar, zvar):
    """(u per group, C per group, rstandard, V, panels) computed densely."""
    data = load_dataset(dataset).loc[res.design.index]
    p = res.params
    y = res.design.y
    X = res.design.X
    beta = p.iloc[: X.shape[1]].to_numpy()
    groups = data[gvar].to_numpy()
    uniq = np.unique(groups)
    n = y.size
    t = data[tvar].to_numpy(float) if tvar else None
    by = data[byvar].to_numpy() if byvar else None
    R = np.zeros((n, n))
    for g in uniq:
        m = np.flatnonzero(groups == g)
        R[np.ix_(m, m)] = _panel_cov(kind, p, m.size, None if t is None else t[m],
                                     None if by is None else by[m])
    if zvar is None:
        Z = np.zeros((n, 0))
        G = np.zeros((0, 0))
    else:
        zcol = np.ones(n) if zvar == "_cons" else data[zvar].to_numpy(float)
        Z = (groups[:, None] == uniq[None, :]) * zcol[:, None]
        G = p[f"var({zvar}[{gvar}])"] * np.eye(uniq.size)
    V = Z @ G @ Z.T + R
    Vi = np.linalg.inv(V)
    r = y - X @ beta
    u = G @ Z.T @ Vi @ r
    P = Vi - Vi @ X @ np.linalg.inv(X.T @ Vi @ X) @ X.T @ Vi if res.fit.reml else Vi
    C = G - G @ Z.T @ P @ Z @ G
    e = r - Z @ u
    rstd = np.empty(n)
    for g in uniq:
        m = np.flatnonzero(groups == g)
        if t is not None:
            m = m[np.argsort(t[m])]
        low = np.linalg.cholesky(R[np.ix_(m, m)])
        rstd[m] = np.linalg.solve(low, e[m])
    return uniq, groups, u, np.sqrt(np.clip(np.diag(C), 0, None)), rstd, V


@pytest.mark.parametrize("dataset,cmd,kind,tvar,byvar,gvar,zvar", CASES)
def test_predictions_use_fitted_residual_covariance(dataset, cmd, kind, tvar, byvar, gvar,
                                                    zvar):
    res = fitted(dataset, cmd)
    uniq, groups, u, se, rstd, V = _dense(res, dataset, kind, tvar, byvar, gvar, zvar)
    pos = np.searchsorted(uniq, groups)
    fit_vals = res.predict("fitted").to_numpy()
    if zvar is not None:
        col = f"{zvar}[{gvar}]"
        np.testing.assert_allclose(res.predict("reffects")[col].to_numpy(), u[pos],
                                   rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(res.predict("reses")[col].to_numpy(), se[pos],
                                   rtol=1e-6, atol=1e-8)
    zcol = 0.0 if zvar is None else (
        1.0 if zvar == "_cons" else load_dataset(dataset).loc[res.design.index, zvar])
    xb = res.predict("xb").to_numpy()
    np.testing.assert_allclose(fit_vals, xb + np.asarray(zcol) * (u[pos] if u.size else 0),
                               rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(res.predict("residuals").to_numpy(), res.design.y - fit_vals)
    np.testing.assert_allclose(res.predict("rstandard").to_numpy(), rstd, rtol=1e-6,
                               atol=1e-8)
    w = res.estat("wcorrelation")
    members = np.flatnonzero(groups == groups[0])
    Vj = V[np.ix_(members, members)]
    np.testing.assert_allclose(w["cov"].to_numpy(), Vj, rtol=1e-8, atol=1e-10)
    sd = np.sqrt(np.diag(Vj))
    np.testing.assert_allclose(w["corr"].to_numpy(), Vj / np.outer(sd, sd), rtol=1e-8)


def test_ovary_ar1_blup_and_wcorrelation_audit_figures():
    """J15/K12: mare 1's BLUP 2.9807 (not 3.1496 as with independent errors), and the
    first within-mare correlation .753 (not .370)."""
    res = fitted("ovary", CASES[0][1])
    u = res.predict("reffects")["_cons[mare]"]
    mare = load_dataset("ovary").loc[u.index, "mare"]
    assert u[mare == 1].iloc[0] == pytest.approx(2.9807, abs=5e-5)
    corr = res.estat("wcorrelation")["corr"].to_numpy()
    assert corr[0, 1] == pytest.approx(0.753, abs=5e-4)
    assert corr[0, 2] < corr[0, 1]  # AR decay, not compound symmetry


def test_by_rstandard_uses_each_groups_variance():
    """J16: under by(program) each group's residuals are scaled by that group's sd."""
    res = fitted("exercise", CASES[6][1])
    rs = res.predict("rstandard")
    e = res.predict("residuals")
    prog = load_dataset("exercise").loc[rs.index, "program"]
    for b in (1, 2):
        ratio = (e[prog == b] / rs[prog == b]).to_numpy()
        np.testing.assert_allclose(ratio, np.sqrt(res.params[f"var(e[{b}])"]), rtol=1e-8)


def test_unstructured_wcorrelation_manual_example9():
    """K12 against the manual's printed estimates ([ME] mixed, example 9): the first
    subject's marginal covariance is the unstructured R itself."""
    res = fitted("exercise", CASES[7][1])
    w = res.estat("wcorrelation")
    day = load_dataset("exercise").loc[w["observations"], "day"].to_numpy()
    printed = {(0, 0): 9.14566, (4, 4): 11.87114, (6, 6): 10.06571, (8, 8): 13.22464,
               (12, 12): 13.16909, (0, 4): 9.625235, (0, 6): 8.489042, (0, 8): 9.280413,
               (0, 12): 8.898006, (4, 6): 10.49184, (4, 8): 11.89787, (4, 12): 11.28344,
               (6, 8): 11.0507, (6, 12): 10.5006, (8, 12): 12.4091}
    want = np.array([[printed[tuple(sorted((a, b)))] for b in day] for a in day])
    np.testing.assert_allclose(w["cov"].to_numpy(), want, rtol=2e-5)
    sd = np.sqrt(np.diag(want))
    np.testing.assert_allclose(w["corr"].to_numpy(), want / np.outer(sd, sd), rtol=2e-5)


def test_rstandard_with_data_maps_estimation_rows():
    """With data= (estimation rows plus an extra one), rstandard is the estimation-sample
    value on those rows and missing elsewhere."""
    res = fitted("ovary", CASES[0][1])
    data = load_dataset("ovary")
    extra = data.iloc[[0]].copy()
    extra.index = [10_000]
    both = pd.concat([data, extra])
    out = res.predict("rstandard", data=both)
    base = res.predict("rstandard")
    np.testing.assert_allclose(out.loc[base.index].to_numpy(), base.to_numpy())
    assert np.isnan(out.loc[10_000])


def test_residuals_with_effects_varying_within_panels_refused():
    """The transformation C_j^-1 mixes a panel's rows: random effects that differ within
    the lowest-level groups (R.varname) are refused rather than fitted wrongly."""
    import memodels
    from memodels.errors import OptionError

    pig = load_dataset("pig")
    sub = pig[pig.id <= 10]
    with pytest.raises(OptionError, match="vary within the lowest-level groups"):
        memodels.fit("mixed weight week || _all: R.week || id:, residuals(ar 1, t(week))",
                     sub, nolog=True)
