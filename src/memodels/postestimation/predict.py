"""``predict`` after ``mixed`` and the me commands ([ME] mixed postestimation,
[ME] meglm postestimation).

Results are pandas objects aligned with the estimation sample's index (default) or
with the index of ``data=``; a missing covariate (or a group not seen in estimation,
for statistics that need its random effects) gives NaN, never an error.

mixed: ``xb`` (default), ``stdp``, ``fitted``, ``residuals``, ``rstandard``,
``reffects``, ``reses``; ``relevel=`` restricts the random effects used.

me commands (meglm, melogit, meprobit, mecloglog, mepoisson, menbreg, meologit,
meoprobit; any number of nested levels, crossed models through their EB modes):
``mu`` (default), ``pr``, ``eta``, ``xb``, ``stdp``, ``density``, ``distribution``,
``residuals`` (Gaussian family), ``pearson``, ``deviance``, ``anscombe``, ``reffects``,
``reses``, ``scores``; ``conditional="ebmeans"`` (default), ``"ebmodes"`` or
``"fixedonly"``, ``marginal=True``, ``outcome=`` (ordinal models), ``nooffset=True``,
``intpoints=``, ``iterate=``, ``tolerance=``.  See
:mod:`memodels.postestimation.predict_glmm`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import OptionError
from ..lmm.centering import centred_quadratic
from .blup import mixed_blups
from .frame import build_frame
from .residual_cov import has_structure, standardize

MIXED_STATS = ("xb", "stdp", "fitted", "residuals", "rstandard", "reffects", "reses", "scores")


def _effect_columns(design, eterms) -> list[tuple[int, int, str]]:
    """(engine term, effect position, column name) in the order of the variance table."""
    cols = []
    for k, et in enumerate(eterms):
        term = design.terms[et.source]
        if term.rfactor is not None:
            cols.append((k, -1, f"R.{term.rfactor}[{term.path}]"))
        else:
            for j, nm in enumerate(term.names):
                cols.append((k, j, f"{nm}[{term.path}]"))
    return cols


def _level_terms(design, eterms, relevel: str | None, *, upto: bool) -> list[int]:
    """Engine terms used: all, those of level ``relevel`` (upto=False), or the levels from
    the top down to and including it (upto=True)."""
    if relevel is None:
        return list(range(len(eterms)))
    name = str(relevel).strip()
    hits = [i for i, t in enumerate(design.terms)
            if name in (t.level, t.path) or t.path.split(">")[-1] == name]
    if not hits:
        levels = ", ".join(dict.fromkeys(t.level for t in design.terms))
        raise OptionError(f"relevel({name}): level not found in the model (levels: {levels})")
    last = max(hits)
    return [k for k, et in enumerate(eterms)
            if (et.source <= last if upto else et.source in hits)]


def _xb_stdp(frame, beta: np.ndarray, vcov_beta: np.ndarray,
             fit=None) -> tuple[np.ndarray, np.ndarray]:
    """xb and its standard error; ``fit``: a mixed fit whose design was centred
    internally (x + 1e9), whose stdp is computed in the centred metric."""
    X = frame.X
    xb = X @ beta if X.shape[1] else np.zeros(frame.n)
    Xs, V = (X, vcov_beta) if fit is None or not X.shape[1] else \
        centred_quadratic(fit, X, vcov_beta)
    xv = Xs @ V if X.shape[1] else np.zeros((frame.n, 0))
    stdp = np.sqrt(np.clip(np.einsum("ij,ij->i", xv, Xs), 0, None))
    bad = ~np.all(np.isfinite(X), axis=1) if X.shape[1] else np.zeros(frame.n, bool)
    xb = np.where(bad, np.nan, xb)
    stdp = np.where(bad, np.nan, stdp)
    return xb, stdp


def _re_contribution(frame, us: list[np.ndarray], use: list[int]) -> np.ndarray:
    out = np.zeros(frame.n)
    for k in use:
        g, z, u = frame.groups[k], frame.Z[k], us[k]
        ok = g >= 0
        val = np.full(frame.n, np.nan)
        val[ok] = np.einsum("ij,ij->i", z[ok], u[g[ok]])
        if frame.new_groups_zero:  # a group not seen in estimation: random effects 0
            new = (g == -1) & np.all(np.isfinite(z), axis=1)
            val[new] = 0.0
        out = out + val
    return out


def _per_obs_effects(design, frame, eterms, values: list[np.ndarray], use: list[int],
                     sd: bool) -> pd.DataFrame:
    """Per-observation columns of group-level quantities (u or their SEs)."""
    cols = {}
    for k, j, name in _effect_columns(design, eterms):
        if k not in use:
            continue
        g = frame.groups[k]
        col = np.full(frame.n, np.nan)
        ok = g >= 0
        vals = values[k]
        if j >= 0:
            col[ok] = vals[g[ok], j]
        else:  # R.var: the effect of the observation's own level
            z = frame.Z[k]
            if sd:
                # values are covariance blocks here: z' C z
                col[ok] = np.sqrt(np.einsum("ij,ijk,ik->i", z[ok], vals[g[ok]], z[ok]))
            else:
                col[ok] = np.einsum("ij,ij->i", z[ok], vals[g[ok]])
        cols[name] = col
    return pd.DataFrame(cols, index=frame.index)


def _cov_values(covs: list[np.ndarray], eterms, design) -> list[np.ndarray]:
    """SE arrays per term: sqrt of the diagonals (R.var terms keep their blocks)."""
    out = []
    for et, c in zip(eterms, covs, strict=True):
        if design.terms[et.source].rfactor is not None:
            out.append(c)
        else:
            out.append(np.sqrt(np.clip(np.diagonal(c, axis1=1, axis2=2), 0, None)))
    return out


def predict(res, statistic: str | None = None, *, data: pd.DataFrame | None = None,
            relevel: str | None = None, **options: Any):
    """Stata's ``predict`` after an estimation command; see the module docstring."""
    from ..results.glmm import GLMMResults
    from ..results.mixed import MixedResults

    remote = getattr(res, "extra", {}).get("dask_predict")
    if remote is not None:  # fitted on a Dask DataFrame: predict on the workers
        return remote(res, statistic, data=data, relevel=relevel, **options)
    if isinstance(res, MixedResults):
        return _predict_mixed(res, statistic or "xb", data, relevel, options)
    if isinstance(res, GLMMResults):
        return _predict_glmm(res, statistic or "mu", data, relevel, options)
    raise NotImplementedError(f"predict is not implemented after {res.command}")


# ----------------------------------------------------------------------- mixed
def _predict_mixed(res, statistic, data, relevel, options):
    stat = str(statistic).lower().strip()
    if stat not in MIXED_STATS:
        raise OptionError(f"predict after mixed: statistic '{statistic}' not allowed "
                          f"(allowed: {', '.join(MIXED_STATS)})")
    if options:
        raise OptionError(f"predict after mixed: option(s) {', '.join(options)} not allowed")
    if stat == "scores":
        from .scores_mixed import mixed_scores

        if relevel is not None:
            raise OptionError("relevel() not allowed with predict, scores")
        return mixed_scores(res, res.design.index if data is None else data.index)
    if relevel is not None and stat in ("xb", "stdp"):
        raise OptionError(f"relevel() not allowed with predict, {stat}")
    design, fit = res.design, res.fit
    needs_re = stat in ("fitted", "residuals", "rstandard", "reffects", "reses")
    frame, eterms = build_frame(design, data, need_groups=needs_re)
    if stat in ("xb", "stdp"):
        xb, stdp = _xb_stdp(frame, fit.beta, fit.vcov_beta, fit)
        return pd.Series(xb if stat == "xb" else stdp, index=frame.index, name=stat)
    if stat in ("reffects", "reses"):
        use = _level_terms(design, eterms, relevel, upto=False)
        bl = mixed_blups(design, fit, variances=stat == "reses")
        vals = bl.u if stat == "reffects" else _cov_values(bl.cov, eterms, design)
        return _per_obs_effects(design, frame, eterms, vals, use, stat == "reses")
    use = _level_terms(design, eterms, relevel, upto=True)
    bl = mixed_blups(design, fit)
    xb, _ = _xb_stdp(frame, fit.beta, fit.vcov_beta)
    fitted = xb + _re_contribution(frame, bl.u, use)
    if stat == "fitted":
        return pd.Series(fitted, index=frame.index, name="fitted")
    if frame.y is None:
        raise OptionError(f"predict, {stat}: the outcome {design.depvar} is not in the data")
    resid = frame.y - fitted
    if stat == "residuals":
        return pd.Series(resid, index=frame.index, name="residuals")
    # rstandard: estimation sample only; sigma_e^-1 R^-1/2 e
    if has_structure(fit):
        return _rstandard_structured(design, fit, bl.u, use, frame)
    out = resid / np.sqrt(fit.sigma2)
    if not frame.in_sample:
        out = np.where(frame.index.isin(design.index), out, np.nan)
    return pd.Series(out, index=frame.index, name="rstandard")


def _rstandard_structured(design, fit, us, use, frame) -> pd.Series:
    """sigma_e^-1 R^-1/2 e with the fitted residual covariance R ([ME] mixed
    postestimation, Methods and formulas), over the estimation sample's panels."""
    est = frame
    if not frame.in_sample:
        est, _ = build_frame(design, None, need_groups=True)
    xb, _ = _xb_stdp(est, fit.beta, fit.vcov_beta)
    e = est.y - xb - _re_contribution(est, us, use)
    out = standardize(fit, e)
    if frame.in_sample:
        return pd.Series(out, index=frame.index, name="rstandard")
    if not design.index.is_unique:
        raise OptionError("predict, rstandard with data=: the estimation data's index "
                          "must be unique")
    ser = pd.Series(out, index=design.index)
    return pd.Series(ser.reindex(frame.index).to_numpy(), index=frame.index, name="rstandard")


# ------------------------------------------------------------------------ GLMM
def _predict_glmm(res, statistic, data, relevel, options):
    """After the me commands: :mod:`memodels.postestimation.predict_glmm`."""
    from .predict_glmm import predict_glmm

    return predict_glmm(res, statistic, data, relevel, options)
