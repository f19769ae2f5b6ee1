"""Weights and vce() of the me commands: what :func:`memodels.commands.meglm.fit_me`
passes to the engine and how the results change ([ME] meglm, Syntax: weight,
``fweight()``/``iweight()``/``pweight()``; Options, SE/Robust; Remarks, Survey data).

* ``[fw=]``, ``[iw=]``, ``[pw=]`` are observation-level weights; ``fweight(varname)``,
  ``iweight(varname)``, ``pweight(varname)`` in a random-effects equation weight that
  level's clusters (constant within them; the design checks it).  "Weights are not
  allowed with crossed models or the Laplacian approximation" (Methods and formulas).
* ``vce(robust)`` clusters at the highest level; ``vce(cluster clustvar)`` at a variable
  nesting it.  "As is the case with other estimation commands in Stata, standard errors
  in the presence of sampling weights are robust" (example 5).
* With a robust VCE the criterion is reported as "Log pseudolikelihood", the standard
  errors as "Robust", the header notes "(Std. Err. adjusted for # clusters in var)" and
  no LR test against the fixed-effects model is shown (only the Wald test).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..design.types import Design
from ..errors import OptionError
from ..glmm.robust import apply_robust, cluster_map
from ..glmm.types import GLMMFit
from ..glmm.weights import WEIGHTS_NOT_ALLOWED
from ..lmm.terms import EngineTerm
from ..results.survey_stats import adjusted_wald_f, set_design_df


@dataclass
class MEVce:
    """The VCE an me command reports: ``kind`` is oim, robust or cluster (Stata's
    e(vce)); ``clustvar`` the variable the clusters come from (e(clustvar))."""

    kind: str = "oim"
    clustvar: str | None = None
    pweighted: bool = False
    n_clusters: int = 0
    survey: Any = None  # svy: the design's counts (memodels.glmm.survey.SurveyInfo)
    population_size: float | None = None  # svy: the sum of the product of stage weights

    @property
    def robust(self) -> bool:
        return self.kind != "oim"


def vce_spec(opts: dict, design: Design) -> MEVce:
    """Parse ``vce()`` (already normalized to oim, robust or ``cluster var``); sampling
    weights at any level imply vce(robust)."""
    text = str(opts.get("vce") or "").strip()
    word, _, rest = text.partition(" ")
    pweighted = design.weight_kind == "pweight" or any(
        t.level_weight_kind == "pweight" for t in design.terms)
    if word in ("", "oim"):
        if word == "oim" and pweighted:
            raise OptionError("vce(oim) not allowed with pweights")
        kind, clustvar = ("robust", None) if pweighted else ("oim", None)
    elif word == "robust":
        kind, clustvar = "robust", None
    elif word == "cluster" and rest.strip():
        kind, clustvar = "cluster", rest.strip()
    else:
        raise OptionError(f"vce({text}) invalid; vcetype may be oim, robust, or cluster "
                          "clustvar")
    return MEVce(kind, clustvar, pweighted)


def engine_weights(design: Design, terms: list[EngineTerm]
                   ) -> tuple[np.ndarray | None, list[np.ndarray | None] | None]:
    """Observation weights and, per engine term, its level's weights (per observation,
    data order).  A weighted level without random effects (no engine term) has no
    integral of its own, so its weights multiply those of the next level below that has
    one, or the observation weights."""
    obs = None if design.weights is None else np.asarray(design.weights, float)
    if not any(t.level_weights is not None for t in design.terms):
        return obs, None
    by_path: dict[str, int] = {}  # the first engine term of each level (repeated
    for k, t in enumerate(terms):  # equations are merged into it by the engine)
        by_path.setdefault(design.terms[t.source].path, k)
    level: list[np.ndarray | None] = [None] * len(terms)
    seen: set[str] = set()
    for idx, dt in enumerate(design.terms):
        if dt.level_weights is None or dt.path in seen:
            continue
        seen.add(dt.path)
        w = np.asarray(dt.level_weights, float)
        target = by_path.get(dt.path)
        if target is None:  # fold into the next level below with random effects
            below = [k for k, t in enumerate(terms) if t.source > idx]
            target = below[0] if below else None
        if target is None:
            obs = w if obs is None else obs * w
        else:
            level[target] = w if level[target] is None else level[target] * w
    return obs, level


def check_weights_and_vce(design: Design, vce: MEVce, method: str, crossed: bool,
                          weighted: bool) -> None:
    """Errors Stata gives before estimating."""
    if weighted and (crossed or method == "laplace"):
        raise OptionError(WEIGHTS_NOT_ALLOWED)
    if vce.robust and crossed:
        raise OptionError(f"vce({vce.kind}) is not allowed with crossed random effects: "
                          "robust variances are clustered at the highest level")


def prepare(opts: dict, design: Design, terms: list[EngineTerm], method: str,
            crossed: bool) -> tuple[MEVce, np.ndarray | None, list[np.ndarray | None] | None]:
    """The VCE, the engine's observation and level weights, and the checks Stata makes
    before estimating."""
    vce = vce_spec(opts, design)
    weights, level_weights = engine_weights(design, terms)
    weighted = weights is not None or level_weights is not None
    check_weights_and_vce(design, vce, method, crossed, weighted)
    if vce.robust and terms:
        cluster_codes(design, terms, vce)  # clustvar must nest the highest level
    return vce, weights, level_weights


def weight_kwargs(weights: np.ndarray | None,
                  level_weights: list[np.ndarray | None] | None) -> dict:
    """The engine's weight arguments, only when the model is weighted."""
    out: dict = {}
    if weights is not None:
        out["weights"] = weights
    if level_weights is not None:
        out["level_weights"] = level_weights
    return out


def cluster_codes(design: Design, terms: list[EngineTerm], vce: MEVce) -> np.ndarray | None:
    """The vce(cluster) group of every top-level cluster of the engine (None for
    vce(robust) when the engine's top level is the model's highest level)."""
    top = terms[0]
    level = design.terms[0].level
    if vce.kind == "cluster":
        values = np.asarray(design.extra[vce.clustvar])
        return cluster_map(top.groups, top.n_groups, values, level, vce.clustvar)
    if design.terms[top.source].path == design.terms[0].path:
        return None
    # the highest level has no random effects: cluster at it all the same
    return cluster_map(top.groups, top.n_groups, design.terms[0].groups, level, level)


def apply_vce(fit: GLMMFit, design: Design, terms: list[EngineTerm], vce: MEVce) -> None:
    """Replace the fit's VCE by the robust one when asked for (or implied)."""
    if not vce.robust:
        return
    if not terms:  # no random effects: clustered at the observations or at clustvar
        from ..glmm.fixed_only import apply_fixed_only_robust

        values = None if vce.clustvar is None else np.asarray(design.extra[vce.clustvar])
        vce.n_clusters = apply_fixed_only_robust(fit, values)
        return
    codes = cluster_codes(design, terms, vce)
    apply_robust(fit, codes)
    vce.n_clusters = int(terms[0].n_groups if codes is None else codes.max() + 1)
    if vce.clustvar is None:
        vce.clustvar = design.terms[0].level


def apply_survey(fit: GLMMFit, design: Design, terms: list[EngineTerm], survey,
                 weights: np.ndarray | None = None,
                 level_weights: list[np.ndarray | None] | None = None) -> MEVce:
    """``svy:``: replace the fit's VCE by the linearized one of the survey design
    (:mod:`memodels.glmm.survey`); the design's counts and the population size (the sum
    over the observations of the product of their stage weights) go to the results."""
    from ..glmm.survey import linearized_vcov

    if not terms:
        raise OptionError("svy: the model has no random effects (use the fixed-effects "
                          "estimator's own svy support)")
    top = terms[0]
    v, info = linearized_vcov(fit, top.groups, top.n_groups, design.index, survey)
    fit.extra["vcov_oim"] = fit.vcov
    fit.vcov = v
    n = len(design.index)
    w = np.ones(n) if weights is None else np.asarray(weights, float)
    for lw in level_weights or []:
        if lw is not None:
            w = w * np.asarray(lw, float)
    return MEVce(kind="linearized", pweighted=True, n_clusters=info.n_psu, survey=info,
                 population_size=float(np.sum(w)))


def decorate_results(res, design: Design, vce: MEVce) -> None:
    """Stata's e(vce), e(vcetype), e(clustvar), e(wtype) and the robust display."""
    res.extra["vce"] = vce.kind
    res.extra["wtype"] = design.weight_kind
    if vce.kind == "linearized":
        info = vce.survey
        res.extra.update({"vcetype": "Linearized", "se_label": "Linearized",
                          "N_strata": info.n_strata, "N_psu": info.n_psu,
                          "df_r": info.design_df, "svy": True})
        if vce.population_size is not None:
            res.extra["population_size"] = vce.population_size
        # t with the design df everywhere, and the adjusted Wald F ([SVY] svy estimation)
        set_design_df(res.rows, info.design_df)
        if res.wald is not None:
            f, k, df2 = adjusted_wald_f(res.wald[0], res.wald[1], info.design_df)
            res.extra.update({"F": f, "df_m": k, "F_df2": df2})
        res.ll_label = "Log pseudolikelihood"
        res.lr_test = None
        return
    if not vce.robust:
        return
    res.extra["vcetype"] = "Robust"
    res.extra["se_label"] = "Robust"
    res.extra["clustvar"] = vce.clustvar
    res.extra["n_clusters"] = vce.n_clusters
    if vce.clustvar is not None:  # (no random effects and vce(robust): observations)
        res.extra["vce_note"] = (f"(Std. Err. adjusted for {vce.n_clusters:,} clusters "
                                 f"in {vce.clustvar})")
    res.ll_label = "Log pseudolikelihood"
    res.lr_test = None  # Stata reports the Wald test only


__all__ = ["MEVce", "prepare", "vce_spec", "engine_weights", "weight_kwargs",
           "check_weights_and_vce",
           "cluster_codes", "apply_vce", "apply_survey", "decorate_results"]
