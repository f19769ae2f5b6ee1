"""``predict`` after meglm, melogit, meprobit, mecloglog, mepoisson, menbreg, meologit and
meoprobit ([ME] meglm postestimation, Syntax for predict, Options for predict, Methods
and formulas; [ME] meologit/meoprobit postestimation for ``outcome()``).

Statistics: ``mu`` (default), ``pr`` (binary and ordinal models), ``eta``, ``xb``,
``stdp``, ``density``, ``distribution``, ``residuals`` (Gaussian family), ``pearson``,
``deviance``, ``anscombe``, ``reffects``, ``reses``, ``scores``.

How the random effects enter (``mu``, ``pr``, ``eta``, ``density``, ``distribution`` and
the residuals):

* ``conditional="ebmeans"`` (default): eta = x beta + z u~ + offset with u~ the empirical
  Bayes means -- for any number of nested levels, the posterior means given the
  top-level cluster's data (:mod:`memodels.postestimation.eb`);
* ``conditional="ebmodes"`` (or ``ebmodes=True``): the EB modes;
* ``conditional="fixedonly"`` (or ``fixedonly=True``): u = 0;
* ``marginal=True``: integrated over the random-effects distribution (population
  averaged; :mod:`memodels.postestimation.marginal`), with ``intpoints=``.

Ordinal models: ``mu``/``pr`` without ``outcome=`` give a DataFrame ``pr1`` ... ``prK`` of
Pr(y = k) for every category (Stata's ``predict pr*``); ``outcome="#2"`` (the second
category) or ``outcome=3`` (the category whose value is 3) gives one Series.  ``density``
is Pr(y = observed category), ``distribution`` Pr(y <= observed category).

``reffects``/``reses``: one column per random effect, in the order of the variance
components (``_cons[school]``, ``_cons[school>class]``); ``relevel=`` keeps one level;
``ebmodes=True`` gives the modes and their SEs.  ``scores``: a DataFrame with e(b)'s
names as columns (:mod:`memodels.postestimation.scores_glmm`).  ``nooffset=True`` drops
the offset/exposure from the linear predictor.  ``intpoints=``, ``iterate=`` and
``tolerance=`` control the quadrature of the EB means and marginal predictions.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import OptionError
from .eb import eb_estimates
from .frame import _numeric, build_frame
from .glm_density import density, distribution
from .glm_residuals import RESIDUALS
from .marginal import default_points, integrate, random_sd, random_sigmas
from .predict import (
    _cov_values,
    _level_terms,
    _per_obs_effects,
    _re_contribution,
    _xb_stdp,
)
from .scores_glmm import glmm_scores

ME_STATS = ("mu", "pr", "eta", "xb", "stdp", "residuals", "pearson", "deviance", "anscombe",
            "density", "distribution", "reffects", "reses", "scores", "fitted")
RE_STATS = ("mu", "pr", "eta", "residuals", "pearson", "deviance", "anscombe", "density",
            "distribution")
BINARY = ("bernoulli", "binomial")
GLM_FAMILIES = ("gaussian", "bernoulli", "binomial", "gamma", "nbinomial", "ordinal", "poisson")


def predict_glmm(res, statistic: str, data: pd.DataFrame | None, relevel: str | None,
                 options: dict[str, Any]) -> pd.Series | pd.DataFrame:
    """``predict`` after the me commands (see the module docstring): a Series named after
    the statistic, or a DataFrame (``reffects``, ``reses``, ``scores``, ordinal ``pr``
    without ``outcome=``), aligned with the estimation sample or with ``data``."""
    stat = str(statistic).lower().strip()
    if stat not in ME_STATS:
        raise OptionError(f"predict after {res.command}: statistic '{statistic}' not allowed "
                          f"(allowed: {', '.join(s for s in ME_STATS if s != 'fitted')})")
    opts = _Options(res, stat, options)
    _check(res, stat, opts)
    design, fit = res.design, res.fit
    offset_spec = None
    if res.offset and res.offset_var and not opts.nooffset:
        offset_spec = (res.offset, res.offset_var)
    needs_re = stat in ("reffects", "reses") or (
        opts.cond != "fixedonly" and not opts.marginal and stat in RE_STATS)
    frame, eterms = build_frame(design, data, need_groups=needs_re, offset_spec=offset_spec,
                                need_z=opts.marginal)
    xb, stdp = _xb_stdp(frame, fit.beta, fit.vcov_beta)
    if frame.offset is not None:
        xb = xb + frame.offset
    if stat == "xb":
        return pd.Series(xb, index=frame.index, name="xb")
    if stat == "stdp":
        return pd.Series(stdp, index=frame.index, name="stdp")
    if stat == "scores":
        return glmm_scores(res, frame.index)
    if stat in ("reffects", "reses"):
        means, covs = opts.eb()
        use = _level_terms(design, eterms, relevel, upto=False)
        if stat == "reffects":
            return _per_obs_effects(design, frame, eterms, means, use, False)
        return _per_obs_effects(design, frame, eterms, _cov_values(covs, eterms, design),
                                use, True)
    if relevel is not None:
        raise OptionError(f"relevel() not allowed with predict, {stat}")
    # the linear predictor: conditional on EB means/modes, fixed only, or marginal
    sd = None
    if opts.marginal:
        sd = random_sd(frame.Z, random_sigmas(fit))
        eta = xb
    elif opts.cond == "fixedonly":
        eta = xb
    else:
        means, _ = opts.eb()
        eta = xb + _re_contribution(frame, means, list(range(len(eterms))))
    if stat == "eta":
        return pd.Series(eta, index=frame.index, name="eta")
    if res.family == "ordinal":
        return _ordinal(res, stat, frame, eta, sd, opts)
    return _glm(res, stat, frame, eta, sd, opts, data)


# ---------------------------------------------------------------------- options
class _Options:
    """predict's options after the me commands, checked."""

    def __init__(self, res, stat: str, options: dict[str, Any]) -> None:
        opts = {k.lower(): v for k, v in options.items()}
        # the meqr commands predict random effects as posterior modes by default
        default = "ebmodes" if res.command.startswith("meqr") else "ebmeans"
        given_cond = opts.pop("conditional", None)
        cond = str(given_cond or default).lower().strip()
        self.marginal = bool(opts.pop("marginal", False))
        if opts.pop("fixedonly", False):
            cond, given_cond = "fixedonly", "fixedonly"
        if opts.pop("ebmodes", False):
            cond, given_cond = "ebmodes", "ebmodes"
        if opts.pop("ebmeans", False):
            cond, given_cond = "ebmeans", "ebmeans"
        if cond not in ("ebmeans", "ebmodes", "fixedonly"):
            raise OptionError(f"conditional({cond}) not allowed; use ebmeans, ebmodes or "
                              "fixedonly")
        if self.marginal and given_cond is not None and stat not in ("reffects", "reses"):
            raise OptionError("options marginal and conditional() may not be combined")
        self.cond = cond
        if res.fit is not None and res.fit.extra.get("fixed_only"):
            # no random effects: conditional, fixed-only and marginal predictions coincide
            if stat in ("reffects", "reses"):
                raise OptionError(f"predict, {stat} not allowed: the model has no random "
                                  "effects")
            if self.marginal and stat in ("pearson", "deviance", "anscombe"):
                raise OptionError(f"predict, {stat} may not be combined with marginal")
            self.cond, self.marginal = "fixedonly", False
        self.nooffset = bool(opts.pop("nooffset", False))
        self.outcome = opts.pop("outcome", None)
        points = opts.pop("intpoints", None)
        self.points = None if points is None else int(points)
        if self.points is not None and self.points < 1:
            raise OptionError("intpoints() must be a positive integer")
        tol = opts.pop("tolerance", None)
        it = opts.pop("iterate", None)
        self.tol = None if tol is None else float(tol)
        self.maxiter = None if it is None else int(it)
        if opts:
            raise OptionError(f"predict after {res.command}: option(s) {', '.join(opts)} "
                              "not allowed")
        self._res = res

    def eb(self):
        return eb_estimates(self._res, modes=self.cond == "ebmodes", points=self.points,
                            tol=self.tol, maxiter=self.maxiter)


def _check(res, stat: str, opts: _Options) -> None:
    fam = res.family
    if fam not in GLM_FAMILIES and (opts.marginal or stat in RE_STATS and stat != "eta"):
        raise NotImplementedError(f"predict, {stat} is not implemented after {res.command} "
                                  f"(family {fam})")
    if opts.outcome is not None and fam != "ordinal":
        raise OptionError(f"option outcome() not allowed after {res.command}: it is for "
                          "ordinal models (meologit, meoprobit, meglm family(ordinal))")
    if opts.outcome is not None and stat not in ("mu", "pr"):
        raise OptionError(f"option outcome() not allowed with predict, {stat}")
    if stat == "fitted":
        raise OptionError(f"predict, fitted not allowed after {res.command}; use mu or eta")
    if stat == "pr" and fam not in (*BINARY, "ordinal"):
        raise OptionError("predict, pr is allowed only for binary and ordinal models")
    if stat == "residuals" and fam != "gaussian":
        raise OptionError("predict, residuals is allowed only for the Gaussian family")
    if fam == "ordinal" and stat in ("pearson", "deviance", "anscombe", "residuals"):
        raise OptionError(f"predict, {stat} is not defined for ordinal models ([ME] meglm "
                          "postestimation, Methods and formulas)")
    if opts.marginal and stat in ("reffects", "reses", "scores", "xb", "stdp"):
        raise OptionError(f"option marginal not allowed with predict, {stat}")
    if opts.marginal and stat in ("pearson", "deviance", "anscombe"):
        # [ME] meglm postestimation, Syntax for predict
        raise OptionError(f"predict, {stat} may not be combined with marginal")


# ---------------------------------------------------------------------- ordinal
def _ordinal(res, stat: str, frame, eta, sd, opts: _Options):
    fam, cuts = res.family_obj, res.fit.aux
    cats = np.asarray(fam.categories, float)

    def probs(e: np.ndarray) -> np.ndarray:
        out = np.full(e.shape + (cats.size,), np.nan)
        ok = np.isfinite(e)
        out[ok] = fam.probabilities(e[ok], cuts)
        return out

    if sd is not None:
        pts = default_points(res, opts.points)
        p = integrate(probs, eta, sd, pts)
    else:
        p = probs(eta)
    if stat in ("mu", "pr"):
        if opts.outcome is None:
            cols = {f"pr{k + 1}": p[:, k] for k in range(cats.size)}
            return pd.DataFrame(cols, index=frame.index)
        k = _outcome_index(opts.outcome, cats, res.depvar)
        return pd.Series(p[:, k], index=frame.index, name="pr")
    y = _outcome_values(res, frame)
    ok = np.isfinite(y)
    k = np.where(ok, y, 0).astype(np.intp)
    rows = np.arange(frame.n)
    if stat == "density":
        out = p[rows, k]
    else:  # distribution: Pr(y <= observed)
        out = np.cumsum(p, axis=1)[rows, k]
        out = np.where(k == cats.size - 1, np.where(np.isfinite(p[:, 0]), 1.0, np.nan), out)
    return pd.Series(np.where(ok, out, np.nan), index=frame.index, name=stat)


def _outcome_index(outcome, cats: np.ndarray, depvar: str) -> int:
    """outcome(#k) -> k-1; outcome(value) -> the category with that value."""
    text = str(outcome).strip()
    if text.startswith("#"):
        try:
            k = int(text[1:])
        except ValueError:
            raise OptionError(f"outcome({text}) invalid") from None
        if not 1 <= k <= cats.size:
            raise OptionError(f"outcome({text}): there are {cats.size} outcomes")
        return k - 1
    try:
        value = float(text)
    except ValueError:
        raise OptionError(f"outcome({text}) invalid: give a value of {depvar} or #1, #2, "
                          "...") from None
    hit = np.flatnonzero(cats == value)
    if hit.size == 0:
        vals = ", ".join(f"{c:g}" for c in cats)
        raise OptionError(f"outcome({text}): {depvar} takes the values {vals}")
    return int(hit[0])


# -------------------------------------------------------------------------- GLM
def _glm(res, stat: str, frame, eta, sd, opts: _Options, data):
    fam = res.family_obj
    aux = res.fit.aux if res.fit.n_aux else None
    binomial = res.family == "binomial"
    trials = _trials(res, frame, data) if binomial else 1.0
    tr = trials[:, None] if binomial else 1.0
    pts = default_points(res, opts.points) if sd is not None else 0

    def expect(func):
        """func(eta) conditional on eta, or integrated over the random effects."""
        return func(eta) if sd is None else integrate(func, eta, sd, pts)

    if stat == "pr":
        return pd.Series(expect(fam.link.inverse), index=frame.index, name="pr")
    if binomial:
        mu = expect(lambda e: fam.link.inverse(e) * (tr if e.ndim == 2 else trials))
    else:
        mu = expect(fam.link.inverse)
    if stat == "mu":
        return pd.Series(mu, index=frame.index, name="mu")
    y = _outcome_values(res, frame)
    if stat in ("density", "distribution"):
        bound = fam.bind(trials=trials) if binomial else fam

        def value(e):
            yy = y[:, None] if e.ndim == 2 else y
            if stat == "density":
                return density(bound, yy, e, aux)
            return distribution(fam, yy, e, aux, tr if e.ndim == 2 else trials)

        return pd.Series(expect(value), index=frame.index, name=stat)
    if stat == "residuals":
        return pd.Series(y - mu, index=frame.index, name="residuals")
    out = RESIDUALS[stat](fam, y, mu, aux, trials)
    return pd.Series(np.where(np.isfinite(y) & np.isfinite(mu), out, np.nan),
                     index=frame.index, name=stat)


def _outcome_values(res, frame) -> np.ndarray:
    """The outcome as the family uses it (0/1, counts, ordinal category index); NaN where
    it is missing or not a category of the fitted model."""
    if frame.y is None:
        raise OptionError(f"predict: the outcome {res.design.depvar} is not in the data")
    y = np.asarray(frame.y, float)
    fam = res.family
    if fam == "bernoulli":
        return np.where(np.isfinite(y), (y != 0).astype(float), np.nan)
    if fam == "ordinal":
        cats = np.asarray(res.family_obj.categories, float)
        idx = np.clip(np.searchsorted(cats, y), 0, cats.size - 1)
        hit = np.isfinite(y) & (cats[idx] == y)
        return np.where(hit, idx.astype(float), np.nan)
    return y


def _trials(res, frame, data) -> np.ndarray:
    """Binomial trials of every row: the fitted constant, or the trials variable."""
    var = res.binomial_var
    if frame.in_sample:
        fdata = getattr(res.family_obj, "data", {}) or {}
        if "trials" in fdata:
            return np.asarray(fdata["trials"], float) * np.ones(frame.n)
        if var and var in res.design.extra:
            return np.asarray(res.design.extra[var], float)
    if var:
        if data is None or var not in data.columns:
            raise OptionError(f"predict: the binomial trials variable {var} is not in the data")
        return _numeric(data[var])
    trials = getattr(res.family_obj, "trials", None) or res.options.get("binomial")
    try:
        return np.full(frame.n, float(trials))
    except (TypeError, ValueError):
        return np.ones(frame.n)


__all__ = ["predict_glmm", "ME_STATS"]
