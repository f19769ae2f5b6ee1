"""``mixed``: multilevel mixed-effects linear regression ([ME] mixed).

Glue only: parse the Stata syntax (or lme4 formula), build the design, fit by ML or
REML with the profiled-likelihood engine, and assemble Stata's results.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from ..covariance.residual import ResidualStructure
from ..design import build_design
from ..design.sample import check_lmm_sample
from ..distributed.frame import is_dask_frame
from ..errors import EstimationError, OptionError
from ..lmm.centering import centering, check_random_location, map_fit_back
from ..lmm.fit import em_options, fit_lmm
from ..lmm.fit_residual import fit_lmm_residual
from ..lmm.polish import NRSCALE
from ..lmm.robust import robust_vcov
from ..lmm.robust_multilevel import multilevel_robust_vcov
from ..lmm.robust_residual import residual_robust_vcov
from ..lmm.terms import engine_terms
from ..lmm.weighted import WeightedTwoLevel, scale_weights
from ..optimize.blas import single_threaded_blas
from ..output.console import console
from ..output.iterlog import IterationLog, iteration_log, shows_log
from ..postestimation.groups import group_tables
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
    if options.get("small"):
        # [ME] mixed, Options: "small replays previously obtained small-sample results.
        # This option is available only upon replay"
        raise OptionError("option small not allowed at estimation: it is available only "
                          "upon replay (mixed, small) after estimation with dfmethod()")
    if options.get("dftable") and not options.get("dfmethod"):
        raise OptionError("option dftable() requires option dfmethod()")
    # [ME] mixed, Syntax: "no weights are allowed if either option reml or option
    # dfmethod() is specified"; Options: "Only vce(oim) is allowed in combination with
    # dfmethod()"
    weighted = design.weights is not None or any(
        t.level_weights is not None for t in design.terms)
    if weighted and options.get("reml"):
        raise OptionError("weights not allowed with reml: no weights are allowed with REML "
                          "estimation")
    if weighted and options.get("dfmethod"):
        raise OptionError("weights not allowed with dfmethod()")
    if options.get("dfmethod") and _vce(options)[0] != "oim":
        raise OptionError(f"vce({options.get('vce')}) not allowed with dfmethod(): only "
                          "vce(oim) is allowed in combination with dfmethod()")
    for t in design.terms:
        if t.covariance in ("fixed", "pattern"):
            # [ME] mixed, Options: independent, exchangeable, identity, unstructured
            raise OptionError(f"covariance({t.covariance}({t.covariance_matrix or ''})) not "
                              "allowed with mixed; it is available with meglm and the other "
                              "me commands (mixed does not support constraints)")


def _maximize(opts: dict[str, Any]):
    """maximize_options ([ME] mixed, Options, Maximization; [R] maximize): technique(nr)
    only (bhhh is not allowed with mixed; dfp and bfgs are not implemented), no
    dnumerical; ``matsqrt`` (the default) is the optimization metric memodels uses -- the
    unique elements of a matrix square root of each level's Sigma / sigma_e^2, the
    (lower-triangular) Cholesky root, which like Stata's keeps Sigma positive
    semidefinite; ``matlog`` is refused.

    Stopping rule of the Newton stage: Stata's (nrtolerance and either tolerance or
    ltolerance), with the scaled gradient asked below nrtolerance() x 1e-4: the exact
    gradient makes the extra steps nearly free, and it pins the estimates to ~1e-5 of the
    optimum rather than the ~3e-3 standard errors nrtolerance(1e-5) alone allows;
    nrtolerance() tightens or loosens it in proportion (showtolerance prints it)."""
    from ..optimize.maximize import from_options

    if opts.get("matlog"):
        raise OptionError("option matlog is not implemented: memodels parameterizes the "
                          "variance components by matrix square roots (matsqrt, the "
                          "default) only")
    mx = from_options(opts, "mixed", allow=("nonrtolerance", "difficult", "trace",
                                            "gradient", "hessian", "showstep",
                                            "showtolerance"))
    mx = replace(mx, nrscale=NRSCALE)
    return mx.with_echo(iteration_log(opts))


def _em_logger(opts: dict[str, Any], reml: bool):
    """``emlog`` (the EM iteration log, shown by default with ``emonly``) and ``emdots``
    (one dot per EM iteration) ([ME] mixed, Options, EM options)."""
    dots = bool(opts.get("emdots"))
    lines = bool(opts.get("emlog")) or (bool(opts.get("emonly")) and shows_log(opts))
    if not (dots or lines):
        return None
    label = "log restricted-likelihood" if reml else "log likelihood"
    state = {"started": False, "dots": 0}

    out = IterationLog(True)  # asked for explicitly (emlog, emdots) or emonly with the log

    def em_log(it: int, val: float) -> None:
        if not state["started"]:
            state["started"] = True
            out("Performing EM optimization: ")
            out("")
        if it < 0:
            out("note: no EM iterations were performed (memodels uses EM starting values "
                "only for unweighted two-level models with independent residuals)")
        elif lines:
            out(f"Iteration {it}:   {label} = {val:.8g}  ")
        else:
            print(".", end="", file=console())
            state["dots"] += 1

    def finish() -> None:
        if state["dots"]:
            print("", file=console())
            state["dots"] = 0
        if state["started"] and not state.get("finished"):
            state["finished"] = True
            out("")

    em_log.finish = finish  # type: ignore[attr-defined]
    return em_log


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


def _weighted_model(design, opts, kind_vce, X: np.ndarray):
    """The two-level weighted pseudolikelihood on the fixed design ``X`` (design.X or its
    centred copy), or None when no weights or robust VCE."""
    level_w = [t for t in design.terms if t.level_weights is not None]
    pweights = design.weight_kind == "pweight" or any(
        t.level_weight_kind == "pweight" for t in level_w)
    if not (pweights or level_w or kind_vce != "oim"):
        return None, False
    terms = engine_terms(design.terms)
    if len(terms) != 1 or len(design.terms) != 1:
        if not (pweights or level_w or design.weights is not None):
            # vce(robust|cluster) at 3+ levels: memodels.lmm.robust_multilevel
            if opts.get("reml"):
                raise OptionError("vce(robust|cluster) is not allowed with REML")
            return None, False
        raise OptionError("weights at higher levels and pweights are implemented for "
                          "two-level models only (vce(robust|cluster) alone works at any "
                          "number of levels)")
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
    return WeightedTwoLevel(design.y, X, term, obs_w, cluster_w), pweights


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


def _has_constant_column(z: np.ndarray) -> bool:
    return bool(z.shape[0]) and bool(np.any(np.all(z == z[:1], axis=0) & (z[0] != 0)))


def _term_label(design, et) -> str:
    t = design.terms[et.source]
    return f"R.{t.rfactor}" if t.rfactor is not None else " ".join(t.names)


def _check_identified(design, eterms, resid, weighted: bool) -> None:
    """Refuse models whose variance components are not identified, which otherwise end in
    a numerical failure or an arbitrary split of a variance:

    * a random intercept with one observation per group (e.g. ``|| id: R.week`` with one
      observation per id and week): its variance and the residual variance enter the
      likelihood only through their sum;
    * a random intercept at the level of the residual panels together with a residual
      structure that already contains a common within-panel covariance (exchangeable,
      unstructured, banded or toeplitz covering every lag): [ME] mixed, example 9 uses
      ``noconstant`` for this reason."""
    n = design.y.size
    if resid is None and not weighted:
        for et in eterms:
            if et.n_groups == n and _has_constant_column(et.Z):
                level = design.terms[et.source].level
                raise EstimationError(
                    f"random effects {_term_label(design, et)} at level {level}: one effect "
                    "per observation, not identified separately from the residual variance "
                    "(each group has a single observation)")
    if resid is None:
        return
    absorbs = resid.kind in ("exchangeable", "unstructured")
    if resid.kind == "banded":
        absorbs = int(resid.order) >= resid.t_levels.size - 1
    if resid.kind == "toeplitz" and resid.t_levels.size:
        absorbs = int(resid.order) >= int(resid.t_levels.max() - resid.t_levels.min())
    if not absorbs:
        return
    panels = np.asarray(resid.panels)
    for et in eterms:
        g = np.asarray(et.groups)
        same = pd.Series(g).groupby(panels).nunique().max() == 1 and pd.Series(
            panels).groupby(g).nunique().max() == 1
        if same and _has_constant_column(et.Z):
            level = design.terms[et.source].level
            raise EstimationError(
                f"random intercept at level {level} with residuals({resid.kind}): the model "
                f"is not identified, the {resid.kind} residual covariance within {level} "
                f"already contains a common covariance; specify noconstant in the {level} "
                "equation (as in [ME] mixed, example 9)")


def _group_clusters(design, cluster_var: str, grp: np.ndarray, n_groups: int,
                    level: str) -> np.ndarray:
    """The vce(cluster) cluster of each group (codes 0..n_groups-1 per observation).
    Robust variances are clustered at the highest level "unless you specify
    vce(cluster clustvar), where clustvar identifies an even higher level of grouping"
    ([ME] mixed, example 7 notes): every group must lie within one cluster."""
    vals = pd.Series(np.asarray(design.extra[cluster_var]))
    if vals.isna().any():
        raise OptionError(f"vce(cluster {cluster_var}): {cluster_var} has missing values in "
                          "the estimation sample")
    per_group = vals.groupby(grp).nunique()
    if (per_group > 1).any():
        raise OptionError(f"highest-level groups are not nested within {cluster_var}: "
                          f"vce(cluster {cluster_var}) requires each {level} group to lie "
                          f"within one {cluster_var} cluster")
    first = np.zeros(n_groups, dtype=np.int64)
    first[grp[::-1]] = np.arange(grp.size)[::-1]
    clusters = vals.to_numpy()[first]
    if pd.unique(clusters).size < 2:
        raise OptionError(f"vce(cluster {cluster_var}): at least two clusters are required")
    return clusters


def _top_level_clusters(design, cluster_var: str) -> np.ndarray:
    top = engine_terms(design.terms)[0]
    return _group_clusters(design, cluster_var, np.asarray(top.groups), top.n_groups,
                           design.terms[top.source].level)


def _residual_setup(opts, design, resid, kind_vce: str, cluster_var: str | None):
    """Checks of residuals() against the other options; the vce(cluster) value of each
    residual panel (sorted panel order) when clustering is requested."""
    if opts.get("emonly"):  # [ME] mixed, Options: EM options
        raise OptionError("option emonly not allowed with residuals(): emonly is available "
                          "only when residuals are independent with constant variance")
    if design.weights is not None or any(t.level_weights is not None for t in design.terms):
        raise OptionError("weights with residuals() are not implemented yet")
    if kind_vce == "oim":
        return None
    if opts.get("reml"):
        raise OptionError("vce(robust|cluster) is not allowed with REML")
    if len(design.terms) != 1:
        raise OptionError("vce(robust|cluster) with residuals() is implemented for two-level "
                          "models only")
    if not cluster_var:
        return None
    codes = np.asarray(resid.panels)
    n_codes = int(codes.max()) + 1
    by_code = _group_clusters(design, cluster_var, codes, n_codes, design.terms[0].level)
    return by_code[codes[resid.order_idx][resid.starts]]


def mixed(spec: str, data: pd.DataFrame, **options: Any) -> MixedResults:
    """Fit a linear mixed model, as Stata's ``mixed`` ([ME] mixed).

    Maximum likelihood by default, REML with ``reml=True``; any number of nested levels,
    crossed effects, random coefficients, residual-error structures (``residuals()``),
    denominator degrees of freedom (``dfmethod()``), weights and robust standard errors.

    From Python the fit is quiet: the iteration log goes to the ``logging`` logger
    ``"memodels"`` and is printed only with ``log=True`` (``nolog`` always hides it; a
    :class:`memodels.session.Session` prints it as Stata does).  Problems of the fit
    (convergence, a variance at the boundary) are raised as
    :class:`memodels.errors.ConvergenceWarning` and listed in ``res.warnings``.

    Parameters
    ----------
    spec : str
        Stata's syntax after the command name (``"y x1 x2 || group: x1, covariance(un)"``)
        or an lme4-style formula (``"y ~ x1 + x2 + (1 + x1 | group)"``); options may
        follow a comma, with Stata's abbreviations.  ``memodels help mixed`` lists them.
    data : pandas.DataFrame
        The data (never modified).
    **options
        Options as keywords, e.g. ``reml=True``, ``covariance="unstructured"``,
        ``stddeviations=True``, ``nolog=True``, ``level=90``. An option memodels cannot
        honour is refused with a :class:`memodels.errors.MemodelsError`.

    Returns
    -------
    MixedResults
        ``params``, ``bse``, ``vcov``, ``llf``, ``aic``, ``bic``, ``nobs``, ``converged``;
        ``print(res)`` shows Stata's output; ``res.predict()``, ``res.estat()``,
        ``res.margins()``, ``res.test()``, ``res.lincom()``, ``res.nlcom()``.

    Examples
    --------
    >>> import memodels
    >>> pig = memodels.datasets.load("pig")
    >>> res = memodels.mixed("weight week || id:", pig, nolog=True)
    >>> round(res.llf, 4)                       # [ME] mixed, example 1
    -1014.9268
    >>> round(float(res.params["week"]), 6)     # the manual: 6.209896
    6.209896
    >>> same = memodels.mixed("weight ~ week + (1 | id)", pig, nolog=True)
    >>> bool(abs(same.llf - res.llf) < 1e-6)
    True

    BLAS runs single-threaded throughout (design, fit, results): every matrix product
    here is small or a single pass over the data, and a threaded BLAS's wake-ups cost
    more than the products (up to 30 ms for one n x 1 Gram product on a busy machine).
    """
    if is_dask_frame(data):  # the Dask engine (memodels[dask]; docs/dask.md)
        from ..distributed.mixed import mixed_dask

        return mixed_dask(spec, data, check_supported=_check_supported, maximize=_maximize,
                          **options)
    with single_threaded_blas():
        return _mixed(spec, data, **options)


def _mixed(spec: str, data: pd.DataFrame, **options: Any) -> MixedResults:
    model = parse_model(spec, "mixed", data, options=options)
    opts = dict(model.options)
    design = build_design(model, data)
    _check_supported(opts, design)
    check_lmm_sample(design)
    reml = bool(opts.get("reml"))
    out = iteration_log(opts)
    em_log = _em_logger(opts, reml)
    label = "log restricted-likelihood" if reml else "log likelihood"
    header = [False]

    def gradient_header() -> None:
        header[0] = True
        if em_log is not None:
            em_log.finish()
        out("Performing gradient-based optimization: ")
        out("")

    if em_log is None:
        gradient_header()

    def log(it: int, val: float) -> None:
        if not header[0]:  # after the EM log
            gradient_header()
        out(f"Iteration {it}:   {label} = {val:.8g}  ")

    kwargs: dict[str, Any] = {"maximize": _maximize(opts)}
    if em_log is not None:
        kwargs["em_log"] = em_log
    kwargs.update(em_options(opts))
    kind_vce, cluster_var = _vce(opts)
    # x + 1e9: fitted centred, mapped back exactly
    cen = centering(design.X, design.kept_names)
    X = design.X if cen is None else cen.transform(design.X)
    resid = _residual_structure(opts, design, list(data.columns))
    if resid is not None:
        clusters = _residual_setup(opts, design, resid, kind_vce, cluster_var)
        wmodel, pweights = None, False
    else:
        wmodel, pweights = _weighted_model(design, opts, kind_vce, X)
        clusters = _top_level_clusters(design, cluster_var) if cluster_var else None
    weights = design.weights if design.weight_kind == "fweight" and wmodel is None else None
    if wmodel is not None:
        kwargs["model"] = wmodel
    if resid is not None:
        kwargs.pop("emiterate", None)
        kwargs.pop("emtolerance", None)
        if kwargs.pop("em_log", None) is not None:
            em_log(-1, float("nan"))
    eterms = engine_terms(design.terms)
    _check_identified(design, eterms, resid, design.weights is not None or wmodel is not None)
    check_random_location(design, eterms)
    try:
        if resid is not None:
            fit = fit_lmm_residual(design.y, X, eterms, resid, reml=reml, log=log,
                                   **kwargs)
        else:
            fit = fit_lmm(design.y, X, eterms, reml=reml, weights=weights, log=log,
                          **kwargs)
    except np.linalg.LinAlgError as exc:
        raise EstimationError(
            f"mixed: numerical failure while fitting the model ({exc}); the variance "
            "components may not be identified -- simplify the random-effects or residual "
            "specification") from exc
    if em_log is not None:
        em_log.finish()
    out("")
    out("Computing standard errors:")
    out("")
    cmdline = f"mixed {spec}"
    robust = pweights or kind_vce != "oim"
    if robust:
        try:
            if resid is not None:
                vc = residual_robust_vcov(design.y, X, fit, resid, clusters)
            elif wmodel is None:  # three or more levels, no weights
                vc = multilevel_robust_vcov(design.y, X, fit, clusters)
            else:
                vc = robust_vcov(wmodel, fit, clusters)
        except np.linalg.LinAlgError as exc:
            raise EstimationError(f"mixed: the robust VCE could not be computed ({exc}): the "
                                  "Hessian of the pseudolikelihood is singular") from exc
        nb = fit.beta.size
        fit.vcov_beta = vc[:nb, :nb]
        if cen is not None:
            vc = map_fit_back(fit, cen, vc)
            cen = None
        fit.vcov_beta, fit.vcov_phi = vc[:nb, :nb], vc[nb:, nb:]
        opts["nolrtest"] = True
    if cen is not None:
        map_fit_back(fit, cen)
    res = build_mixed_results(design, fit, cmdline=cmdline, options=opts, spec=model)
    if robust:
        n_cl = len(np.unique(clusters)) if cluster_var else (
            resid.m if resid is not None else fit.terms[0].n_groups)
        res.extra["vce_note"] = (f"(Std. Err. adjusted for {n_cl} clusters in "
                                 f"{cluster_var or design.terms[0].level})")
        res.extra["se_label"] = "Robust"
        if pweights:
            res.title = "Mixed-effects regression"
            res.ll_label = "Log pseudolikelihood"
    if opts.get("dfmethod"):
        apply_ddf(res, str(opts["dfmethod"]))
    res.extra["group_ids"] = group_tables(design, data)
    return res
