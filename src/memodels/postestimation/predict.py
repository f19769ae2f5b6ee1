"""``predict`` after ``mixed`` and the me commands ([ME] mixed postestimation,
[ME] meglm postestimation).

Results are pandas objects aligned with the estimation sample's index (default) or
with the index of ``data=``; a missing covariate (or a group not seen in estimation,
for statistics that need its random effects) gives NaN, never an error.

mixed: ``xb`` (default), ``stdp``, ``fitted``, ``residuals``, ``rstandard``,
``reffects``, ``reses``; ``relevel=`` restricts the random effects used.

me commands (two-level fits for the random-effects statistics): ``mu`` (default),
``pr``, ``eta``, ``xb``, ``stdp``, ``residuals`` (Gaussian family), ``pearson``,
``reffects``, ``reses``, with ``conditional="ebmeans"`` (default) or ``"fixedonly"``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import OptionError
from .blup import mixed_blups
from .frame import build_frame

MIXED_STATS = ("xb", "stdp", "fitted", "residuals", "rstandard", "reffects", "reses", "scores")
ME_STATS = ("mu", "pr", "eta", "xb", "stdp", "residuals", "pearson", "deviance", "anscombe",
            "density", "distribution", "reffects", "reses", "scores", "fitted")


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


def _xb_stdp(frame, beta: np.ndarray, vcov_beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    X = frame.X
    xb = X @ beta if X.shape[1] else np.zeros(frame.n)
    xv = X @ vcov_beta if X.shape[1] else np.zeros((frame.n, 0))
    stdp = np.sqrt(np.clip(np.einsum("ij,ij->i", xv, X), 0, None))
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
        raise NotImplementedError("predict, scores is not implemented yet after mixed")
    if relevel is not None and stat in ("xb", "stdp"):
        raise OptionError(f"relevel() not allowed with predict, {stat}")
    design, fit = res.design, res.fit
    needs_re = stat in ("fitted", "residuals", "rstandard", "reffects", "reses")
    frame, eterms = build_frame(design, data, need_groups=needs_re)
    if stat in ("xb", "stdp"):
        xb, stdp = _xb_stdp(frame, fit.beta, fit.vcov_beta)
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
    # rstandard: estimation sample only; sigma_e^-1 R^-1/2 e with R = I here
    out = resid / np.sqrt(fit.sigma2)
    if not frame.in_sample:
        out = np.where(frame.index.isin(design.index), out, np.nan)
    return pd.Series(out, index=frame.index, name="rstandard")


# ------------------------------------------------------------------------ GLMM
def _eb(res, design, eterms, modes: bool = False):
    """EB means (posterior means and covariances) or EB modes (posterior modes and the
    inverse negative curvature there), in the engine's cluster order."""
    extra = getattr(res.fit, "extra", {}) or {}
    key, cov = ("eb_modes", "eb_mode_cov") if modes else ("eb_means", "eb_cov")
    if len(eterms) != 1 or key not in extra:
        raise NotImplementedError(
            "empirical Bayes predictions are available for two-level me models only "
            "(the engine stores them for one random-effects level)")
    return np.asarray(extra[key]), np.asarray(extra[cov])


def _predict_glmm(res, statistic, data, relevel, options):
    stat = str(statistic).lower().strip()
    if stat not in ME_STATS:
        raise OptionError(f"predict after {res.command}: statistic '{statistic}' not allowed "
                          f"(allowed: mu, pr, eta, xb, stdp, residuals, pearson, reffects, reses)")
    opts = {k.lower(): v for k, v in options.items()}
    # the meqr commands predict random effects as posterior modes by default
    default = "ebmodes" if res.command.startswith("meqr") else "ebmeans"
    cond = str(opts.pop("conditional", default) or default).lower()
    marginal = bool(opts.pop("marginal", False))
    ebmodes = bool(opts.pop("ebmodes", False))
    fixedonly = bool(opts.pop("fixedonly", False))
    nooffset = bool(opts.pop("nooffset", False))
    opts.pop("ebmeans", None)
    if opts:
        raise OptionError(f"predict after {res.command}: option(s) {', '.join(opts)} not allowed")
    if fixedonly:
        cond = "fixedonly"
    if ebmodes:
        cond = "ebmodes"
    if cond not in ("ebmeans", "ebmodes", "fixedonly"):
        raise OptionError(f"conditional({cond}) not allowed; use ebmeans, ebmodes or fixedonly")
    if marginal:
        raise NotImplementedError("predict, marginal is not implemented yet")
    if stat in ("deviance", "anscombe", "density", "distribution", "scores"):
        raise NotImplementedError(f"predict, {stat} is not implemented yet after {res.command}")
    if stat == "pr" and res.family not in ("bernoulli", "binomial", "ordinal"):
        raise OptionError("predict, pr is allowed only for binary and ordinal models")
    if stat == "residuals" and res.family != "gaussian":
        raise OptionError("predict, residuals is allowed only for the Gaussian family")
    if stat == "fitted":
        raise OptionError(f"predict, fitted not allowed after {res.command}; use mu or eta")
    design, fit = res.design, res.fit
    offset_spec = None
    if res.offset and res.offset_var and not nooffset:
        offset_spec = (res.offset, res.offset_var)
    needs_re = stat in ("reffects", "reses") or (
        cond != "fixedonly" and stat in ("mu", "pr", "eta", "residuals", "pearson"))
    modes = cond == "ebmodes"
    frame, eterms = build_frame(design, data, need_groups=needs_re, offset_spec=offset_spec)
    beta = fit.beta
    xb, stdp = _xb_stdp(frame, beta, fit.vcov_beta)
    if frame.offset is not None:
        xb = xb + frame.offset
    if stat == "xb":
        return pd.Series(xb, index=frame.index, name="xb")
    if stat == "stdp":
        return pd.Series(stdp, index=frame.index, name="stdp")
    if stat in ("reffects", "reses"):
        means, covs = _eb(res, design, eterms, modes)
        use = _level_terms(design, eterms, relevel, upto=False)
        if stat == "reffects":
            return _per_obs_effects(design, frame, eterms, [means], use, False)
        vals = _cov_values([covs], eterms, design)
        return _per_obs_effects(design, frame, eterms, vals, use, True)
    eta = xb
    if cond != "fixedonly":
        means, _ = _eb(res, design, eterms, modes)
        eta = xb + _re_contribution(frame, [means], [0])
    if stat == "eta":
        return pd.Series(eta, index=frame.index, name="eta")
    fam = res.family_obj
    p = fam.link.inverse(eta)
    if stat == "pr":
        return pd.Series(p, index=frame.index, name="pr")
    mu = p * _trials(res, frame) if res.family == "binomial" else p
    if stat == "mu":
        return pd.Series(mu, index=frame.index, name="mu")
    if frame.y is None:
        raise OptionError(f"predict, {stat}: the outcome {design.depvar} is not in the data")
    if stat == "residuals":
        return pd.Series(frame.y - mu, index=frame.index, name="residuals")
    aux = fit.aux if fit.n_aux else None
    if res.family == "binomial":
        n = _trials(res, frame)
        var = n * p * (1 - p)
    else:
        var = _family_variance(fam, mu, aux)
    return pd.Series((frame.y - mu) / np.sqrt(var), index=frame.index, name="pearson")


def _family_variance(fam, mu, aux):
    try:
        return fam.variance(mu, aux)
    except NotImplementedError as exc:
        raise NotImplementedError(f"predict, pearson: no variance function for {fam.name}") \
            from exc


def _trials(res, frame) -> np.ndarray:
    var = res.binomial_var
    if frame.in_sample:
        fam = res.family_obj
        data = getattr(fam, "data", {}) or {}
        for key in ("trials", "n"):
            if key in data:
                return np.asarray(data[key], float) * np.ones(frame.n)
        if var and var in res.design.extra:
            return np.asarray(res.design.extra[var], float)
    if var:
        raise NotImplementedError("predict, mu with binomial(varname) trials on new data is "
                                  "not implemented yet; use pr")
    trials = res.options.get("binomial")
    try:
        return np.full(frame.n, float(trials))
    except (TypeError, ValueError):
        return np.ones(frame.n)
