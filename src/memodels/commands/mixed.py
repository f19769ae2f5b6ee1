"""``mixed``: multilevel mixed-effects linear regression ([ME] mixed).

Glue only: parse the Stata syntax (or lme4 formula), build the design, fit by ML or
REML with the profiled-likelihood engine, and assemble Stata's results.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import pandas as pd

from ..covariance.residual import ResidualStructure
from ..design import build_design
from ..errors import OptionError
from ..lmm.fit import fit_lmm
from ..lmm.fit_residual import fit_lmm_residual
from ..lmm.robust import robust_vcov
from ..lmm.terms import engine_terms
from ..lmm.weighted import WeightedTwoLevel, scale_weights
from ..results.mixed import MixedResults, apply_ddf, build_mixed_results
from ..syntax import parse_model, parse_residuals


def _check_supported(options: dict[str, Any], design) -> None:
    if options.get("reml") and options.get("mle"):
        raise OptionError("options reml and mle may not be combined")
    if options.get("matlog") and options.get("matsqrt"):
        raise OptionError("options matlog and matsqrt may not be combined")
    if options.get("nostderr") and options.get("residuals"):
        # [ME] mixed, Options: "nostderr is available only when residuals are modeled as
        # independent with constant variance"
        raise OptionError("option nostderr not allowed with residuals()")
    if options.get("dftable") and not options.get("dfmethod"):
        # [ME] mixed, Options: dftable() "requires dfmethod() at estimation"
        raise OptionError("option dftable() requires option dfmethod()")
    if design.weights is not None and design.weight_kind not in ("fweight", "pweight"):
        raise OptionError(f"{design.weight_kind}s are not allowed with mixed")
    for t in design.terms:
        if t.covariance in ("fixed", "pattern"):
            # [ME] mixed, Options: independent, exchangeable, identity, unstructured
            raise OptionError(f"covariance({t.covariance}({t.covariance_matrix or ''})) not "
                              "allowed with mixed; it is available with meglm and the other "
                              "me commands (mixed does not support constraints)")


def _vce(options: dict[str, Any]) -> tuple[str, str | None]:
    text = str(options.get("vce") or "oim").strip()
    word, _, rest = text.partition(" ")
    word = word.lower()
    if word in ("oim", ""):
        return "oim", None
    if word.startswith("r"):
        return "robust", None
    if word.startswith("cl"):
        return "cluster", rest.strip()
    raise OptionError(f"vce({text}) invalid; mixed allows vce(oim), vce(robust) and "
                      "vce(cluster clustvar)")


def _weighted_model(design, opts, kind_vce):
    """The two-level weighted pseudolikelihood, or None when no weights or robust VCE."""
    level_w = [t for t in design.terms if t.level_weights is not None]
    pweights = design.weight_kind == "pweight" or any(
        t.level_weight_kind == "pweight" for t in level_w)
    if not (pweights or level_w or kind_vce != "oim"):
        return None, False
    terms = engine_terms(design.terms)
    if len(terms) != 1 or len(design.terms) != 1:
        raise OptionError("weights at higher levels, pweights and vce(robust|cluster) are "
                          "implemented for two-level models only")
    if opts.get("reml") and (pweights or kind_vce != "oim"):
        raise OptionError("pweights and vce(robust|cluster) are not allowed with REML")
    term = terms[0]
    n = design.y.size
    obs_w = np.ones(n) if design.weights is None else np.asarray(design.weights, float)
    g = np.asarray(term.groups)
    cluster_w = np.ones(term.n_groups)
    if level_w:
        first = np.zeros(term.n_groups, dtype=np.int64)
        first[g[::-1]] = np.arange(n)[::-1]
        cluster_w = np.asarray(level_w[0].level_weights, float)[first]
    obs_w, cluster_w = scale_weights(obs_w, cluster_w, g, term.n_groups,
                                     str(opts["pwscale"]) if opts.get("pwscale") else None)
    return WeightedTwoLevel(design.y, design.X, term, obs_w, cluster_w), pweights


def _residual_structure(opts: dict[str, Any], design, columns: list[str]):
    """The residuals() option as a ResidualStructure over the lowest-level panels, or
    None for the default independent homoskedastic errors."""
    text = opts.get("residuals")
    if not text:
        return None
    rs = parse_residuals(str(text), columns)
    if rs.type == "independent" and rs.by is None:
        return None
    if not design.terms:
        raise OptionError("residuals() requires at least one random-effects equation "
                          "(the residual structure is within the lowest-level groups)")
    panels = np.asarray(design.terms[-1].groups)
    t = np.asarray(design.extra[rs.t], float) if rs.t else None
    by = labels = None
    if rs.by:
        raw = np.asarray(design.extra[rs.by])
        uniq, by = np.unique(raw, return_inverse=True)
        labels = tuple(str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)
                       for v in uniq)
    return ResidualStructure(rs.type, rs.order, panels, t=t, by=by, by_labels=labels or ())


def mixed(spec: str, data: pd.DataFrame, **options: Any) -> MixedResults:
    """Fit a linear mixed model, as Stata's ``mixed``.

    ``spec`` is Stata's syntax after the command name, e.g.
    ``"weight week || id: week, covariance(unstructured) reml"``, or an lme4-style
    formula ``"weight ~ week + (1 + week | id)"``.  Options may also be keywords
    (``reml=True``, ``covariance="unstructured"``, ``stddeviations=True``,
    ``nolog=True``).
    """
    model = parse_model(spec, "mixed", list(data.columns), options=options)
    opts = dict(model.options)
    design = build_design(model, data)
    _check_supported(opts, design)
    reml = bool(opts.get("reml"))
    log = None
    if not opts.get("nolog") and opts.get("log", True):
        label = "log restricted-likelihood" if reml else "log likelihood"
        print("Performing gradient-based optimization: ", file=sys.stdout)
        print("", file=sys.stdout)

        def log(it: int, val: float) -> None:
            print(f"Iteration {it}:   {label} = {val:.8g}  ", file=sys.stdout)

    kwargs: dict[str, Any] = {}
    if opts.get("iterate") not in (None, True):
        kwargs["iterate"] = int(float(opts["iterate"]))
    if opts.get("nrtolerance") not in (None, True):
        kwargs["nrtolerance"] = float(opts["nrtolerance"])
    if opts.get("emiterate") not in (None, True):
        kwargs["emiterate"] = int(float(opts["emiterate"]))
    if opts.get("emtolerance") not in (None, True):
        kwargs["emtolerance"] = float(opts["emtolerance"])
    if opts.get("emonly"):
        kwargs["emonly"] = True
        kwargs.setdefault("emiterate", 20)
    # matsqrt (default) and matlog choose the optimization metric of Sigma; both reach the
    # same optimum, and memodels optimizes its own (Cholesky) metric either way
    kind_vce, cluster_var = _vce(opts)
    wmodel, pweights = _weighted_model(design, opts, kind_vce)
    weights = design.weights if design.weight_kind == "fweight" and wmodel is None else None
    if wmodel is not None:
        kwargs["model"] = wmodel
    resid = _residual_structure(opts, design, list(data.columns))
    if resid is not None:
        if weights is not None:
            raise OptionError("weights with residuals() are not implemented yet")
        kwargs.pop("emiterate", None)
        kwargs.pop("emtolerance", None)
        fit = fit_lmm_residual(design.y, design.X, engine_terms(design.terms), resid,
                               reml=reml, log=log, **kwargs)
    else:
        fit = fit_lmm(design.y, design.X, engine_terms(design.terms), reml=reml,
                      weights=weights, log=log, **kwargs)
    if log is not None:
        print("", file=sys.stdout)
        print("Computing standard errors:", file=sys.stdout)
        print("", file=sys.stdout)
    cmdline = f"mixed {spec}"
    robust = pweights or kind_vce != "oim"
    if robust:
        clusters = None
        if cluster_var:
            vals = np.asarray(design.extra[cluster_var])
            first = np.zeros(fit.terms[0].n_groups, dtype=np.int64)
            grp = np.asarray(fit.terms[0].groups)
            first[grp[::-1]] = np.arange(grp.size)[::-1]
            clusters = vals[first]
        vc = robust_vcov(wmodel, fit, clusters)
        nb = fit.beta.size
        fit.vcov_beta, fit.vcov_phi = vc[:nb, :nb], vc[nb:, nb:]
        opts["nolrtest"] = True
    res = build_mixed_results(design, fit, cmdline=cmdline, options=opts, spec=model)
    if robust:
        n_cl = len(np.unique(clusters)) if cluster_var else fit.terms[0].n_groups
        res.extra["vce_note"] = (f"(Std. Err. adjusted for {n_cl} clusters in "
                                 f"{cluster_var or design.terms[0].level})")
        res.extra["se_label"] = "Robust"
        if pweights:
            res.title = "Mixed-effects regression"
            res.ll_label = "Log pseudolikelihood"
    if opts.get("dfmethod"):
        apply_ddf(res, str(opts["dfmethod"]))
    return res
