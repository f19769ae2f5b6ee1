"""Small-sample inference for ``mixed``: denominator degrees of freedom ([ME] mixed,
Methods and formulas, Denominator degrees of freedom; option dfmethod()).

* residual: n - rank(X);
* repeated (two-level models): within-subject df n - M - p_within for coefficients whose
  covariate varies within a subject, between-subject df M - p_between otherwise
  (Schluchter and Elashoff 1990);
* anova: (levels of the level variable) - 1 for covariates in a random-effects equation
  (the smallest over equations), n - rank(X, Z) otherwise;
* satterthwaite: nu = 2 (c'Phi c)^2 / d'Wd with d_i = -c'Phi P_i Phi c (Giesbrecht and
  Burns 1985), and Fai and Cornelius (1996) for multiple-df tests;
* kenwardroger: Phi_A = Phi + 2 Phi {sum_ij W_ij (Q_ij - P_i Phi P_j)} Phi (the R_ij terms
  ignored, as Stata does), single-df nu as Satterthwaite, and the scaled F with
  nu = 4 + (l + 2)/(l rho - 1) (Kenward and Roger 1997, p. 987).

The variance components sigma are the unique elements of each level's Sigma and
sigma_e^2, in which V is linear, so dV/dsigma_k are fixed matrices.  W is the inverse of
the REML expected information (17), 2 I_ij = tr(P V_i P V_j) with
P = V^{-1} - V^{-1} X Phi X' V^{-1}, or the observed information (suboption ``oim``).
Computations are dense in n (the manual's small-sample setting).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import stats

from ..errors import OptionError
from .centering import centering

MAX_N = 4000
METHODS = ("residual", "repeated", "anova", "satterthwaite", "kenwardroger")


@dataclass
class DDFResult:
    method: str
    df: np.ndarray  # per kept fixed coefficient
    vcov: np.ndarray  # Phi (or Phi_A for Kenward-Roger)
    model_f: tuple[float, int, float] | None  # (F, numerator df, ddf) or None
    title: str
    # (L, r) -> (F, numerator df, ddf or None) for H0: L beta = r, as ``test ..., small``
    contrast: Callable[[np.ndarray, np.ndarray], tuple[float, int, float | None]] | None = None


def _dense_z(term) -> np.ndarray:
    n, q = term.Z.shape
    out = np.zeros((n, term.n_groups * q))
    for k in range(q):
        out[np.arange(n), term.groups * q + k] = term.Z[:, k]
    return out


def _v_derivatives(fit) -> tuple[list[np.ndarray], np.ndarray]:
    """dV/dsigma_k for the unique elements of each Sigma, then sigma_e^2, and V."""
    n = fit.model.n_obs
    mats, v = [], fit.sigma2 * np.eye(n)
    for term, sigma in zip(fit.terms, fit.sigmas, strict=True):
        zd = _dense_z(term)
        q = term.Z.shape[1]
        zblocks = [zd[:, k::q] for k in range(q)]  # (n, G) per effect
        kinds = term.structure.kind
        pairs = [(i, j) for i in range(q) for j in range(i, q)]
        if kinds == "identity":
            mats.append(sum(zb @ zb.T for zb in zblocks))
        elif kinds == "independent":
            mats += [zb @ zb.T for zb in zblocks]
        elif kinds == "exchangeable":
            mats.append(sum(zb @ zb.T for zb in zblocks))
            if q > 1:
                mats.append(sum(zblocks[i] @ zblocks[j].T + zblocks[j] @ zblocks[i].T
                                for i, j in pairs if i != j))
        else:
            for i, j in pairs:
                mats.append(zblocks[i] @ zblocks[i].T if i == j
                            else zblocks[i] @ zblocks[j].T + zblocks[j] @ zblocks[i].T)
        for i in range(q):
            for j in range(q):
                v += sigma[i, j] * (zblocks[i] @ zblocks[j].T)
    mats.append(np.eye(n))
    return mats, v


def compute_ddf(fit, design, method: str, oim: bool = False) -> DDFResult:
    if method not in METHODS:
        raise OptionError(f"dfmethod({method}) invalid")
    if fit.resid is not None and method in ("satterthwaite", "kenwardroger"):
        # residual, repeated and anova DFs depend on the design only
        raise OptionError(f"dfmethod({method}) with residuals() is not implemented yet "
                          "(dfmethod(residual|repeated|anova) are)")
    X = design.X
    n, p = X.shape
    if method in ("satterthwaite", "kenwardroger") and not fit.reml:
        raise OptionError(f"dfmethod({method}) requires REML estimation (option reml)")
    phi = fit.vcov_beta
    if method == "residual":
        df = np.full(p, float(n - np.linalg.matrix_rank(X)))
        return _simple(method, "Residual", df, phi, fit, design)
    if method == "repeated":
        return _simple(method, "Repeated", _repeated(design), phi, fit, design)
    if method == "anova":
        return _simple(method, "ANOVA", _anova(design), phi, fit, design)
    if n > MAX_N:
        raise OptionError(f"dfmethod({method}) is implemented for up to {MAX_N} observations")
    # x + 1e9: computed on the centred design X* = X J and mapped back exactly
    # (phi = J phi* J', P_i = J^-T P_i* J^-1; memodels.lmm.centering)
    cen = centering(X, design.kept_names)
    if cen is not None:
        X = cen.transform(X)
    mats, v = _v_derivatives(fit)
    vinv = np.linalg.inv(v)
    vix = vinv @ X
    phi = np.linalg.inv(X.T @ vix)
    pmat = vinv - vix @ phi @ vix.T
    r = len(mats)
    pv = [pmat @ m for m in mats]
    info = np.array([[0.5 * np.sum(pv[i] * pv[j].T) for j in range(r)] for i in range(r)])
    if oim:
        w = _observed_w(fit, r)
    else:
        w = np.linalg.inv(info)
    vixm = [vix.T @ m for m in mats]  # X'V^{-1} V_i
    p_i = [-(a @ vix) for a in vixm]  # X' dV^{-1}/dsigma_i X
    vinv_m = [vinv @ m for m in mats]
    # everything below is in the centred metric; a contrast L of the original
    # coefficients is L J of the centred ones, and the reported VCE is J phi J'
    jac = np.eye(p) if cen is None else cen.jacobian(p)
    df = np.empty(p)
    for k in range(p):
        df[k] = _satterthwaite_single(jac[k], phi, p_i, w)
    beta_c = fit.beta if cen is None else np.linalg.solve(jac, fit.beta)
    if method == "satterthwaite":
        def contrast(lmat, rhs):
            return _fai_cornelius(beta_c, np.asarray(lmat, float) @ jac, rhs, phi, p_i, w)

        return DDFResult(method, df, jac @ phi @ jac.T, _model_test(design, contrast),
                         "Satterthwaite", contrast)
    q_ij = [[vixm[i] @ vinv_m[j] @ vix for j in range(r)] for i in range(r)]
    adj = np.zeros((p, p))
    for i in range(r):
        for j in range(r):
            adj += w[i, j] * (q_ij[i][j] - p_i[i] @ phi @ p_i[j])
    phi_a = phi + 2.0 * phi @ adj @ phi

    def kr(lmat, rhs):
        return _kenward_roger_f(beta_c, np.asarray(lmat, float) @ jac, rhs, phi, phi_a, p_i, w)

    return DDFResult(method, df, jac @ phi_a @ jac.T, _model_test(design, kr), "Kenward-Roger",
                     kr)


def _simple(method, title, df, phi, fit, design) -> DDFResult:
    def contrast(lmat, rhs):
        """The unadjusted Wald F; its DDF is the tested coefficients' common DF, and is
        not defined (a chi2 test is reported) when they differ ([ME] mixed, Methods and
        formulas, Denominator degrees of freedom)."""
        d = lmat @ fit.beta - rhs
        f = float(d @ np.linalg.solve(lmat @ phi @ lmat.T, d)) / lmat.shape[0]
        used = np.flatnonzero(np.any(np.abs(lmat) > 0, axis=0))
        common = df[used] if used.size else df
        ddf = float(common[0]) if np.allclose(common, common[0]) else None
        return f, lmat.shape[0], ddf

    model_f = _model_test(design, contrast)
    if model_f is not None and model_f[2] is None:
        model_f = None
    return DDFResult(method, df, phi, model_f, title, contrast)


def _model_test(design, contrast):
    """The header's model test of every coefficient but the constant."""
    keep = _nonconstant(design)
    if not keep:
        return None
    p = len(design.kept_names)
    return contrast(np.eye(p)[keep, :], np.zeros(len(keep)))


def _nonconstant(design) -> list[int]:
    return [i for i, name in enumerate(design.kept_names) if name != "_cons"]


def _satterthwaite_single(c, phi, p_i, w) -> float:
    var = float(c @ phi @ c)
    d = np.array([-(c @ phi @ pi @ phi @ c) for pi in p_i])
    return 2.0 * var**2 / float(d @ w @ d)


def _fai_cornelius(b, lmat, rhs, phi, p_i, w):
    """Fai and Cornelius (1996): F = Q/l from the spectral decomposition of C'Phi C, and
    the DDF 2E/(E - l) with E = sum nu_k/(nu_k - 2) over the eigen-contrasts."""
    cmat = lmat.T
    evals, evecs = np.linalg.eigh(cmat.T @ phi @ cmat)
    d = lmat @ b - rhs
    q_stat, eq = 0.0, 0.0
    l_ = lmat.shape[0]
    for k in range(l_):
        vec = cmat @ evecs[:, k]
        q_stat += float(evecs[:, k] @ d) ** 2 / evals[k]
        nu = _satterthwaite_single(vec, phi, p_i, w)
        eq += nu / (nu - 2.0) if nu > 2 else 0.0
    if l_ == 1:
        return q_stat, 1, float(_satterthwaite_single(cmat[:, 0], phi, p_i, w))
    ddf = 2.0 * eq / (eq - l_) if eq > l_ else np.nan
    return q_stat / l_, l_, float(ddf)


def _kenward_roger_f(b, lmat, rhs, phi, phi_a, p_i, w):
    """Kenward and Roger (1997): the scaled F statistic and its DDF for H0: L beta = r.
    One hypothesis: the t test on the adjusted variance with the Satterthwaite DF (the
    manual: the two methods' single-hypothesis DFs are the same)."""
    l_ = lmat.shape[0]
    if l_ == 1:
        d = float(lmat[0] @ b - rhs[0])
        return (d * d / float(lmat[0] @ phi_a @ lmat[0]), 1,
                float(_satterthwaite_single(lmat[0], phi, p_i, w)))
    theta = lmat.T @ np.linalg.solve(lmat @ phi @ lmat.T, lmat)  # Theta from Phi (as Stata)
    r = len(p_i)
    tp = [theta @ phi @ p_i[i] @ phi for i in range(r)]
    a1 = sum(w[i, j] * np.trace(tp[i]) * np.trace(tp[j]) for i in range(r) for j in range(r))
    a2 = sum(w[i, j] * np.sum(tp[i] * tp[j].T) for i in range(r) for j in range(r))
    bb = (a1 + 6.0 * a2) / (2.0 * l_)
    g = ((l_ + 1) * a1 - (l_ + 4) * a2) / ((l_ + 2) * a2)
    den = 3 * l_ + 2 * (1 - g)
    c1, c2, c3 = g / den, (l_ - g) / den, (l_ + 2 - g) / den
    e_star = 1.0 / (1.0 - a2 / l_)
    v_star = (2.0 / l_) * (1 + c1 * bb) / ((1 - c2 * bb) ** 2 * (1 - c3 * bb))
    rho = v_star / (2.0 * e_star**2)
    nu = 4.0 + (l_ + 2) / (l_ * rho - 1)
    lam = nu / (e_star * (nu - 2))
    d = lmat @ b - rhs
    f = lam / l_ * float(d @ np.linalg.solve(lmat @ phi_a @ lmat.T, d))
    return f, l_, float(nu)


def _observed_w(fit, r: int) -> np.ndarray:
    raise OptionError("dfmethod(..., oim) is not implemented yet; the default eim is")


def _repeated(design) -> np.ndarray:
    if len(design.terms) != 1:
        raise OptionError("dfmethod(repeated) is allowed only with two-level models")
    g = np.asarray(design.terms[0].groups)
    n, m = g.size, design.terms[0].n_groups
    X = design.X
    within = []
    for k in range(X.shape[1]):
        col = X[:, k]
        mins = np.full(m, np.inf)
        maxs = np.full(m, -np.inf)
        np.minimum.at(mins, g, col)
        np.maximum.at(maxs, g, col)
        within.append(bool(np.any(maxs - mins > 1e-12 * max(1.0, np.abs(col).max()))))
    within = np.array(within)
    p_w, p_b = int(within.sum()), int((~within).sum())
    return np.where(within, float(n - m - p_w), float(m - p_b))


def _anova(design) -> np.ndarray:
    X = design.X
    n = X.shape[0]
    kept = [c for c in design.columns if c.status == "ok"]
    zs = [t.Z for t in design.terms if t.Z is not None and t.Z.shape[1]]
    zfull = np.hstack([X] + [_dense_z(t) for t in design.terms
                             if t.Z is not None and t.Z.shape[1]]) if zs else X
    resid_df = float(n - np.linalg.matrix_rank(zfull))
    df = np.full(len(kept), resid_df)
    for k, col in enumerate(kept):
        levels = [t.n_groups for t in design.terms if t.Z is not None and col.name in t.names]
        if levels:
            df[k] = float(min(levels) - 1)
    return df


def p_value_f(f: float, df1: int, df2: float) -> float:
    return float(stats.f.sf(f, df1, df2))
