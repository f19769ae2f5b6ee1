"""The prediction ``margins`` averages after the me commands (meglm, melogit, meprobit,
mecloglog, mepoisson, menbreg, meologit, meoprobit): [ME] meglm postestimation, Syntax
for margins.

* statistics ``mu`` (the default; ``pr`` and ``n`` are its names for binary and count
  models), ``eta`` and ``xb``; after meologit/meoprobit ``pr`` with ``outcome()``, by
  default the probabilities of every outcome;
* "Option marginal is assumed where applicable if conditional(fixedonly) is not
  specified": the prediction is integrated over the random effects (population
  averaged; :mod:`memodels.postestimation.marginal`, with the model's number of
  quadrature points, or ``intpoints(#)``), so ``mu`` depends on the variance components
  as well as the coefficients; ``predict(mu fixedonly)`` (or ``conditional(fixedonly)``)
  sets the random effects to zero; ``eta`` marginally is the fixed portion ``xb``;
* ``conditional(ebmeans)``/``conditional(ebmodes)`` and the statistics that are
  "functions of stochastic quantities other than e(b)" are not allowed.

Standard errors: the delta method over all of e(b) in the estimation metric (the
gradient by central differences, the VCE ``fit.vcov``; the delta method does not depend
on the metric).  The hdp analysis's ``margins, at(lengthofstay=(1(1)10))`` after the
7-point random-intercept melogit reproduces (.3616372, .3454716, ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..errors import OptionError
from .marginal import default_points, integrate, random_sd, random_sigmas
from .margins_prediction import MarginsPrediction

_STATS = ("mu", "pr", "n", "eta", "xb")
_REFUSED = ("stdp", "density", "distribution", "pearson", "deviance", "anscombe",
            "reffects", "reses", "scores", "residuals", "fitted")


@dataclass(frozen=True)
class MarginsRequest:
    stat: str
    marginal: bool
    outcome: str | None
    points: int | None
    nooffset: bool


def parse_predict(text: str | None, ordinal: bool) -> MarginsRequest:
    """``predict(mu fixedonly)``, ``predict(pr outcome(#2))``, ``predict(eta)``, ..."""
    raw = (text or "").strip()
    tokens = re.findall(r"[A-Za-z_]+\([^)]*\)|[^\s,]+", raw.lower())
    stat, marginal, outcome, points, nooffset = None, True, None, None, False
    for tok in tokens:
        if tok in _STATS:
            if stat is not None:
                raise OptionError(f"margins: predict({raw}): only one statistic allowed")
            stat = tok
        elif tok in _REFUSED:
            raise OptionError(f"margins: predict({tok}) not allowed (a function of "
                              "stochastic quantities other than e(b))")
        elif tok in ("fixedonly", "conditional(fixedonly)"):
            marginal = False
        elif tok == "marginal":
            marginal = True
        elif tok.startswith("conditional("):
            raise OptionError(f"margins: option {tok} not allowed (conditional(fixedonly) "
                              "or the marginal prediction)")
        elif tok.startswith("outcome("):
            outcome = tok[8:-1].strip()
        elif tok.startswith("intpoints("):
            try:
                points = int(tok[10:-1])
            except ValueError:
                raise OptionError(f"margins: {tok} invalid") from None
        elif tok == "nooffset":
            nooffset = True
        else:
            raise OptionError(f"margins: predict({raw}): '{tok}' not understood")
    if ordinal and stat in ("mu", "pr") and outcome is None:
        outcome = "#1"  # "pr defaults to the first outcome" ([ME] meologit postestimation)
    stat = stat or ("pr" if ordinal else "mu")
    if outcome is not None and not ordinal:
        raise OptionError("margins: outcome() is only allowed after meologit and meoprobit")
    if ordinal and stat in ("mu", "n"):
        stat = "pr"
    return MarginsRequest(stat, marginal, outcome, points, nooffset)


@dataclass
class GLMMMarginsPrediction(MarginsPrediction):
    """Prediction callback for :func:`memodels.postestimation.margins.margins`."""

    res: object
    request: MarginsRequest
    outcome_index: int | None = None

    def __post_init__(self) -> None:
        self.use_offset = not self.request.nooffset

    @property
    def expression(self) -> str:
        r = self.request
        words = {"mu": "mean", "n": "mean", "pr": "probability", "eta": "linear predictor",
                 "xb": "linear prediction, fixed portion"}
        what = words[r.stat]
        if r.stat == "pr" and self.res.family == "ordinal" and self.outcome_index is not None:
            what = f"probability, outcome #{self.outcome_index + 1}"
        if r.stat == "xb":
            return "Linear prediction, fixed portion, predict(xb)"
        kind = "Marginal predicted" if r.marginal else "Predicted"
        cond = "" if r.marginal else ", fixed portion"
        fit = getattr(self.res, "fit", None)
        if fit is not None and fit.extra.get("fixed_only"):
            cond = ""  # no random effects: the prediction is the model's own
        return f"{kind} {what}{cond}"

    @property
    def ordinal_outcomes(self) -> list[int] | None:
        """Every outcome's index when the request names none (ordinal models)."""
        if self.res.family != "ordinal" or self.outcome_index is not None:
            return None
        return list(range(len(self.res.family_obj.categories)))

    def for_outcome(self, k: int) -> GLMMMarginsPrediction:
        return GLMMMarginsPrediction(self.res, self.request, k)

    def constant_in(self, k: int) -> bool:
        """Only the coefficients matter for xb, eta and fixed-only predictions (and the
        cutpoints for ordinal probabilities)."""
        fit = self.res.fit
        if self.request.stat in ("xb", "eta") or not self.request.marginal:
            keep = fit.n_beta + (fit.n_aux if self.res.family == "ordinal" else 0)
            return k >= keep
        return False

    def values(self, x, zs, off, theta: np.ndarray, mask: np.ndarray) -> np.ndarray:
        fit, res, r = self.res.fit, self.res, self.request
        nb, na = fit.n_beta, fit.n_aux
        eta = x @ theta[:nb] + (0.0 if off is None else off)
        if r.stat in ("xb", "eta"):
            return eta  # eta integrated over the random effects is its fixed portion
        fam = res.family_obj
        sd = random_sd(zs, random_sigmas(fit, theta[nb + na :])) if r.marginal else None
        points = default_points(res, r.points)
        if res.family == "ordinal":
            cuts = theta[nb : nb + na]
            k = self.outcome_index

            def prob(e: np.ndarray) -> np.ndarray:
                return fam.probabilities(e.ravel(), cuts)[:, k].reshape(e.shape)

            return prob(eta) if sd is None else integrate(prob, eta, sd, points)
        trials = _trials(res, mask)

        def mean(e: np.ndarray) -> np.ndarray:
            mu = fam.link.inverse(e)
            if trials is None:
                return mu
            return mu * (trials[:, None] if e.ndim == 2 else trials)

        return mean(eta) if sd is None else integrate(mean, eta, sd, points)


def _trials(res, mask: np.ndarray) -> np.ndarray | None:
    """Binomial trials of the estimation sample (None for other families)."""
    if res.family != "binomial":
        return None
    fdata = getattr(res.family_obj, "data", {}) or {}
    if "trials" in fdata:
        return (np.asarray(fdata["trials"], float) * np.ones(res.design.nobs))[mask]
    trials = getattr(res.family_obj, "trials", None)
    return np.full(int(mask.sum()), float(trials if trials is not None else 1.0))


def glmm_margins_prediction(res, predict: str | None) -> GLMMMarginsPrediction:
    """The margins prediction for ``predict`` after an me command."""
    ordinal = res.family == "ordinal"
    req = parse_predict(predict, ordinal)
    if req.stat == "pr" and res.family not in ("bernoulli", "binomial", "ordinal"):
        # "pr: synonym for mu for ordinal and binary response models" ([ME] meglm
        # postestimation, Syntax for margins), as predict refuses pr
        raise OptionError(f"margins: predict(pr) not allowed after {res.command} (family "
                          f"{res.family}); pr is for binary and ordinal models, use mu")
    if res.fit is not None and res.fit.extra.get("fixed_only") and req.marginal:
        # no random effects: the marginal prediction is the fixed-portion prediction
        req = MarginsRequest(req.stat, False, req.outcome, req.points, req.nooffset)
    if res.family_obj is None and req.stat not in ("xb", "eta"):
        raise OptionError(f"margins after {res.command}: only xb is available")
    k = None
    if ordinal and req.outcome is not None:
        from .predict_glmm import _outcome_index

        cats = np.asarray(res.family_obj.categories, float)
        k = _outcome_index(req.outcome, cats, res.depvar)
    return GLMMMarginsPrediction(res, req, k)


__all__ = ["glmm_margins_prediction", "GLMMMarginsPrediction", "parse_predict"]
