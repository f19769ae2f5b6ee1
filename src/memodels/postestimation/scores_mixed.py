"""``predict, scores`` after ``mixed`` ([ME] mixed postestimation, Syntax for predict:
"scores calculates the parameter-level scores, one for each parameter in the model
including regression coefficients and variance components.  The score for a parameter
is the first derivative of the log likelihood (or pseudolikelihood) with respect to that
parameter.  One score per highest-level group is calculated, and it is placed on the
last record within that group.").

The parameters are e(b)'s, in Stata's estimation metric (the coefficients, ``lns1_1_1``
log standard deviations, ``atanh`` correlations and ``lnsig_e``; :attr:`estmetric`).  The
scores are central differences of the groups' (weighted) log likelihoods, the ones the
robust VCE of :mod:`memodels.lmm.robust` uses; they are available for two-level ML fits
without ``residuals()`` (after ``reml`` they are refused: the derivatives of the log
likelihood at the REML estimates are not the REML criterion's scores).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import OptionError
from ..lmm.robust import cluster_loglik_function
from ..lmm.terms import engine_terms
from ..lmm.weighted import WeightedTwoLevel, scale_weights
from ..optimize import numdiff


def mixed_scores(res, index: pd.Index) -> pd.DataFrame:
    """The scores of the highest-level groups on each group's last record of the
    estimation sample (missing elsewhere), aligned with ``index``."""
    design, fit = res.design, res.fit
    terms = engine_terms(design.terms)
    if len(terms) != 1 or len(design.terms) != 1:
        raise OptionError("predict, scores after mixed is available for two-level models "
                          "(one random-effects equation)")
    if getattr(res, "residual_spec", None) is not None or res.options.get("residuals"):
        raise OptionError("predict, scores after mixed is not available with residuals()")
    if res.options.get("reml"):
        raise OptionError("predict, scores after mixed, reml is not supported (refit by "
                          "maximum likelihood)")
    term = terms[0]
    n = design.y.size
    g = np.asarray(term.groups)
    obs_w = np.ones(n) if design.weights is None else np.asarray(design.weights, float)
    cluster_w = np.ones(term.n_groups)
    level = design.terms[0]
    if level.level_weights is not None:
        first = np.zeros(term.n_groups, dtype=np.int64)
        first[g[::-1]] = np.arange(n)[::-1]
        cluster_w = np.asarray(level.level_weights, float)[first]
    if design.weights is not None or level.level_weights is not None:
        scale = res.options.get("pwscale")
        obs_w, cluster_w = scale_weights(obs_w, cluster_w, g, term.n_groups,
                                         str(scale) if scale else None)
    wmodel = WeightedTwoLevel(design.y, design.X, term, obs_w, cluster_w)
    per_cluster, psi = cluster_loglik_function(wmodel, fit)
    scores = numdiff.jacobian(per_cluster, psi, rel=1e-6)  # (groups, P)
    names = list(res.estmetric.index)
    if len(names) != scores.shape[1]:
        raise OptionError("predict, scores: e(b) does not match the model's parameters")
    last = np.zeros(term.n_groups, dtype=np.int64)
    last[g] = np.arange(n)  # the last observation of each group (in data order)
    values = np.full((n, scores.shape[1]), np.nan)
    values[last] = scores
    out = pd.DataFrame(values, index=design.index, columns=names)
    return out.reindex(index)


__all__ = ["mixed_scores"]
