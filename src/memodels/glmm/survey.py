"""Linearized (Taylor) variance of a GLMM fit under a survey design: ``svy:`` with the
me commands ([SVY] variance estimation, [ME] meglm, Remarks, Survey data; [SVY] svyset).

The pseudolikelihood is a sum over the top-level clusters of the model, each nested in
one primary sampling unit (PSU).  With s_hi the score total of PSU i in stratum h
(the sum of its clusters' scores, :func:`memodels.glmm.robust.cluster_scores`), n_h the
number of PSUs of stratum h in the design and f_h its sampling fraction (``fpc()``: a
rate <= 1, or the number of PSUs in the population),

    G = sum_h (1 - f_h) n_h/(n_h - 1) sum_i (s_hi - mean_h s)(s_hi - mean_h s)'

and V = H^{-1} G H^{-1} ([SVY] variance estimation, Linearized/robust variance
estimation), mapped to Stata's estimation metric as the robust VCE is.  PSUs of the
design without observations in the estimation sample (``subpop()``) count in n_h with
zero scores, as Stata's subpopulation estimation does.  Without strata and fpc the
stratum mean of the scores is 0 at the optimum, so V is the cluster sandwich at the PSUs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataError
from .robust import cluster_map, cluster_scores, optimizer_metric
from .types import GLMMFit


@dataclass
class SurveyDesign:
    """The first stage of a design over the rows of the survey data (index = the data's
    index): PSU identifiers, strata (None: one stratum) and fpc (None: with
    replacement)."""

    psu: pd.Series
    strata: pd.Series | None = None
    fpc: pd.Series | None = None


@dataclass
class SurveyInfo:
    n_strata: int
    n_psu: int
    design_df: int


def _stratum_fraction(fpc: np.ndarray, n_h: int, label) -> float:
    vals = np.unique(fpc[~np.isnan(fpc)])
    if vals.size != 1:
        raise DataError(f"fpc must be constant within stratum {label}")
    v = float(vals[0])
    if v <= 1:
        return v
    if v < n_h:
        raise DataError(f"fpc for stratum {label} is less than the number of sampled PSUs")
    return n_h / v


def linearized_vcov(fit: GLMMFit, top_groups: np.ndarray, n_top: int, index: pd.Index,
                    survey: SurveyDesign) -> tuple[np.ndarray, SurveyInfo]:
    """The linearized VCE in Stata's estimation metric and the design's counts; ``index``
    holds the estimation sample's rows, ``top_groups`` their top-level cluster codes."""
    strata_all = (survey.strata if survey.strata is not None
                  else pd.Series(0, index=survey.psu.index))
    keys_all = pd.MultiIndex.from_arrays([strata_all.to_numpy(), survey.psu.to_numpy()])
    psu_keys = keys_all.unique()
    code_of = {k: i for i, k in enumerate(psu_keys)}
    obs_keys = keys_all[survey.psu.index.get_indexer(index)]
    obs_codes = np.array([code_of[k] for k in obs_keys], dtype=np.int64)
    top_psu = cluster_map(top_groups, n_top, obs_codes, "the model's highest level",
                          "the PSUs")
    scores = cluster_scores(fit)
    to_opt, jac = optimizer_metric(fit)
    if to_opt is not None:
        scores = scores @ to_opt
    totals = np.zeros((len(psu_keys), scores.shape[1]))
    np.add.at(totals, top_psu, scores)
    stratum_of_psu = np.array([k[0] for k in psu_keys], dtype=object)
    fpc_obs = None if survey.fpc is None else survey.fpc.to_numpy(float)
    meat = np.zeros((scores.shape[1], scores.shape[1]))
    strata = pd.unique(stratum_of_psu)
    for h in strata:
        sel = stratum_of_psu == h
        n_h = int(sel.sum())
        if n_h < 2:
            raise DataError(f"stratum {h} has a single sampling unit: the linearized "
                            "variance is missing (Stata's singleunit(missing)); combine "
                            "strata")
        f_h = 0.0
        if fpc_obs is not None:
            f_h = _stratum_fraction(fpc_obs[(strata_all == h).to_numpy()], n_h, h)
        dev = totals[sel] - totals[sel].mean(axis=0)
        meat += (1 - f_h) * n_h / (n_h - 1) * dev.T @ dev
    neg = -fit.extra["hessian"]
    try:
        ok = bool(np.linalg.eigvalsh(neg).min() > 0)
    except np.linalg.LinAlgError:
        ok = False
    bread = np.linalg.inv(neg) if ok else np.linalg.pinv(neg)
    v = jac @ (bread @ meat @ bread) @ jac.T
    info = SurveyInfo(len(strata), len(psu_keys), len(psu_keys) - len(strata))
    return v, info


__all__ = ["SurveyDesign", "SurveyInfo", "linearized_vcov"]
