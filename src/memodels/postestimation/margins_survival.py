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
import pandas as pd

from ..errors import OptionError
from .frame import fixed_matrix, term_covariates
from .marginal import default_points, random_sd
from .predict_survival import marginal_scale, random_sigmas, time_statistic

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
class SurvivalMarginsPrediction:
    """Prediction callback for :func:`memodels.postestimation.margins.margins`."""

    res: object
    stat: str
    marginal: bool
    exact: bool
    expression: str

    @property
    def params(self) -> np.ndarray:
        return np.asarray(self.res.fit.params, dtype=float)

    @property
    def vcov(self) -> np.ndarray:
        return np.asarray(self.res.fit.vcov, dtype=float)

    def _values(self, x: np.ndarray, zs: list[np.ndarray], off, theta: np.ndarray
                ) -> np.ndarray:
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

    def average(self, frame: pd.DataFrame, mask: np.ndarray, offset: np.ndarray | None
                ) -> tuple[float, np.ndarray]:
        """Average prediction over the masked rows and its gradient in e(b)."""
        design = self.res.design
        x = fixed_matrix(design, frame)[mask]
        zs = [term_covariates(design.terms[src], frame)[mask]
              for src in self.res.fit.term_sources]
        off = None if offset is None else offset[mask]
        theta = self.params
        m = float(np.mean(self._values(x, zs, off, theta)))
        grad = np.empty(theta.size)
        for k in range(theta.size):
            h = 1e-6 * max(1.0, abs(theta[k]))
            up, dn = theta.copy(), theta.copy()
            up[k] += h
            dn[k] -= h
            grad[k] = (np.mean(self._values(x, zs, off, up))
                       - np.mean(self._values(x, zs, off, dn))) / (2 * h)
        return m, grad


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
