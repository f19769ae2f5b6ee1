"""The prediction ``margins`` averages after ``mestreg`` ([ME] mestreg postestimation,
Syntax for margins): ``mean`` (the default) and ``median`` survival times, marginal with
respect to the random effects unless ``conditional(fixedonly)`` is given, and ``xb``.

"Option marginal is assumed where applicable if conditional(fixedonly) is not
specified"; conditional(ebmeans) and conditional(ebmodes), and the statistics that are
"functions of stochastic quantities other than e(b)" (hazard, surv, density, ...), are not
allowed.

The marginal prediction depends on every element of e(b) -- the coefficients, the
ancillary parameter and the variance components -- so its delta-method standard errors
use the gradient with respect to all of them (central differences in Stata's estimation
metric, with the matching VCE ``fit.vcov``; the delta method is invariant to the metric).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..errors import OptionError
from .marginal import default_points, random_sd, random_sigmas
from .margins_prediction import MarginsPrediction
from .predict_survival import marginal_scale, time_statistic

_NOT_ALLOWED = ("hazard", "eta", "stdp", "surv", "survival", "density", "distribution",
                "reffects", "scores", "mu", "pr", "n")


def parse_predict(text: str | None) -> tuple[str, bool, bool]:
    """(statistic, marginal, exactmarginal) of ``predict(...)``; statistic "xb" means the
    generic linear-prediction path."""
    words = re.sub(r"\s+", " ", (text or "").lower().replace("(", " ( ").replace(")", " ) "))
    words = words.replace(" ( ", "(").replace(" ) ", ")").split()
    stats = [w for w in words if w in ("mean", "median", "xb") or w in _NOT_ALLOWED]
    if len(stats) > 1:
        raise OptionError(f"margins: predict({text}): only one statistic allowed")
    stat = stats[0] if stats else "mean"
    if stat in _NOT_ALLOWED:
        raise OptionError(f"margins after mestreg: predict({stat}) not allowed "
                          "(mean, median or xb)")
    marginal, exact = True, False
    for w in words:
        if w in ("mean", "median", "xb", "marginal"):
            continue
        if w in ("fixedonly", "conditional(fixedonly)"):
            marginal = False
        elif w == "exactmarginal":
            exact = True
        elif w.startswith("conditional("):
            raise OptionError(f"margins after mestreg: option {w} not allowed")
        else:
            raise OptionError(f"margins: predict({text}): '{w}' not understood")
    return stat, marginal, exact


@dataclass
class SurvivalMarginsPrediction(MarginsPrediction):
    """Prediction callback for :func:`memodels.postestimation.margins.margins`."""

    res: object
    stat: str
    marginal: bool
    exact: bool
    expression: str

    def values(self, x: np.ndarray, zs: list[np.ndarray], off, theta: np.ndarray,
               mask: np.ndarray) -> np.ndarray:
        fit, fam = self.res.fit, self.res.family_obj
        nb, na = fit.n_beta, fit.n_aux
        a = float(theta[nb]) if na else 0.0
        eta = x @ theta[:nb] + (0.0 if off is None else off)
        sd = None
        if self.marginal:
            sd = random_sd(zs, random_sigmas(fit, theta[nb + na :]))
        points = default_points(self.res, None)
        return time_statistic(self.stat, fam, None, eta, sd, a, points,
                              marginal_scale(fam, a, self.exact))


def mestreg_margins_prediction(res, predict: str | None) -> SurvivalMarginsPrediction | None:
    """The margins prediction for ``predict`` after mestreg; None for ``xb`` (the
    generic fixed-portion linear prediction)."""
    stat, marginal, exact = parse_predict(predict)
    if stat == "xb":
        return None
    what = "Marginal predicted" if marginal else "Predicted"
    label = "mean" if stat == "mean" else "median"
    given = f"predict({predict})" if predict else "predict()"
    return SurvivalMarginsPrediction(res, stat, marginal, exact, f"{what} {label}, {given}")


__all__ = ["mestreg_margins_prediction", "SurvivalMarginsPrediction", "parse_predict"]
