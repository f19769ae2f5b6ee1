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
from ..lmm.terms import engine_terms
from ..results.mixed import MixedResults, apply_ddf, build_mixed_results
from ..syntax import parse_model, parse_residuals

NOT_YET = {
    "vce": "vce() other than oim is not implemented yet",
    "pwscale": "pwscale() is not implemented yet",
}


def _check_supported(options: dict[str, Any], design) -> None:
    for key, msg in NOT_YET.items():
        val = options.get(key)
        if val and not (key == "vce" and str(val).strip().lower() in ("oim", "")):
            raise OptionError(f"option {key}(): {msg}")
    if design.weights is not None and design.weight_kind != "fweight":
        raise OptionError(f"{design.weight_kind}s are not implemented yet for mixed; "
                          "only [fweight=] is")
    if any(t.level_weights is not None for t in design.terms):
        raise OptionError("level weights (fweight()/pweight() in a random-effects equation) "
                          "are not implemented yet for mixed")
    if options.get("reml") and options.get("mle"):
        raise OptionError("options reml and mle may not be combined")
    if options.get("matlog") and options.get("matsqrt"):
        raise OptionError("options matlog and matsqrt may not be combined")


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
    weights = design.weights if design.weight_kind == "fweight" else None
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
    res = build_mixed_results(design, fit, cmdline=cmdline, options=opts, spec=model)
    if opts.get("dfmethod"):
        apply_ddf(res, str(opts["dfmethod"]))
    return res
