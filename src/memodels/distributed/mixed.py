"""``mixed`` on a Dask DataFrame ([ME] mixed; the engine of :mod:`memodels.lmm`).

Passes over the persisted partition designs (:mod:`.frame`):

1. moments: per partition the count, means and centred cross-products of [X, y]
   (candidate columns) -> collinearity and the location check as in memory
   (:mod:`.columns`), and the OLS fit b0 on which y is centred;
2. cross-products (:func:`.lmm_stats.partition_stats`): O(groups x q^2) numbers.

The client then optimizes with :func:`memodels.lmm.fit.fit_lmm` on the likelihood
objects rebuilt from those statistics: the iteration log, the stopping rule and the
results are the in-memory ones.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import reduce
from typing import Any

import numpy as np

from ..covariance.structures import CovStructure
from ..design.hierarchy import plan_levels
from ..design.types import Design, FixedColumn, LevelInfo
from ..errors import DataError, EstimationError, OptionError
from ..lmm.fit import em_options, fit_lmm
from ..lmm.fit_residual import fit_lmm_residual
from ..output.iterlog import iteration_log
from ..results.mixed import build_mixed_results
from ..syntax import parse_model, parse_residuals
from . import columns as colmod
from . import residual as rmod
from .frame import Prepared, check_columns, prepare
from .lmm_stats import Stats, partition_stats
from .remote import RemoteRows, remote_terms
from .results import attach

REFUSED = {
    "vce": "vce()",
    "dfmethod": "dfmethod()",
    "pwscale": "pwscale()",
}


def part_moments(d) -> tuple[dict, list, list[dict]]:
    """Worker: the moments of a partition's X and y, its column coding (to compare) and
    the moments of each random-effects equation's covariates."""
    zmom = [colmod.moments(z, np.zeros(z.shape[0])) for z in d.Z]
    return colmod.moments(d.X, d.y), (d.columns if d.n else []), zmom


def pooled_moments(prep: Prepared) -> tuple[dict, list[dict]]:
    """Pass: pooled moments of [X, y] and of each equation's random-effects covariates,
    the partitions' column codings checked against the template, and collinear
    random-effects covariates refused."""
    import dask
    from dask import delayed

    out = dask.compute(*[delayed(part_moments)(d) for d in prep.designs])
    check_columns(prep, [o[1] for o in out])
    plans = plan_levels(prep.spec.equations)
    for t, (term, plan) in enumerate(zip(prep.template.terms, plans, strict=True)):
        eq = prep.spec.equations[t]
        if term.Z is None or eq.collinear:
            continue
        zm = reduce(colmod.pool, [o[2][t] for o in out])
        q_cand = term.Z.shape[1] - (1 if plan.constant else 0)
        omit = colmod.omitted(zm, q_cand, plan.constant)
        if omit.any():
            names = [nm for nm, o in zip(term.names, omit, strict=False) if o]
            raise OptionError(
                f"random-effects covariate(s) {' '.join(names)} at level {term.level} are "
                "collinear (in memory they would be omitted): drop them from the equation "
                "to fit on a Dask DataFrame")
    zmoms = [reduce(colmod.pool, [o[2][t] for o in out]) for t in range(len(plans))]
    return reduce(colmod.pool, [o[0] for o in out]), zmoms


def fixed_columns(prep: Prepared, mom: dict, constant: bool,
                  command: str = "mixed") -> tuple[list, np.ndarray, list]:
    """Template columns with collinearity decided globally; mask of kept candidate
    columns; notes."""
    cols = [FixedColumn(c.name, c.status, c.term, c.level_labels) for c in prep.columns]
    ok_cols = [c for c in cols if c.status == "ok"]
    p_cand = len(ok_cols) - (1 if constant else 0)
    omit = colmod.omitted(mom, p_cand, constant)
    notes = []
    for c, drop in zip(ok_cols[:p_cand], omit, strict=True):
        if drop:
            c.status = "omitted"
            notes.append(f"note: {c.name} omitted because of collinearity")
    keep = np.ones(len(ok_cols), bool)
    keep[:p_cand] = ~omit
    if constant:
        colmod.check_location(mom, [c.name for c in ok_cols], np.r_[~omit, False], command)
    return cols, keep, notes


def _ols(mom: dict, keep: np.ndarray, constant: bool) -> np.ndarray:
    """b0, the OLS fit of y on the kept columns, from the pooled centred moments."""
    p = keep.size
    idx = np.flatnonzero(keep[:p - 1] if constant else keep)
    C, m = mom["C"], mom["mean"]
    if constant:
        Cxx = C[np.ix_(idx, idx)]
        cxy = C[idx, -1]
        slopes = np.linalg.lstsq(Cxx, cxy, rcond=None)[0] if idx.size else np.zeros(0)
        return np.append(slopes, m[-1] - m[idx] @ slopes)
    n = mom["n"]
    G = C + n * np.outer(m, m)
    return np.linalg.lstsq(G[np.ix_(idx, idx)], G[idx, -1], rcond=None)[0]


def levels_of(spec, sizes: list[np.ndarray], sources: list[int],
              design_terms) -> list[LevelInfo]:
    """The group table (:func:`memodels.design.groups.level_table`) from group sizes."""
    plans = plan_levels(spec.equations)
    rows, seen = [], set()
    by_source = {s: i for i, s in enumerate(sources)}
    for ti, (plan, term) in enumerate(zip(plans, design_terms, strict=True)):
        if plan.distinct in seen or ti not in by_source:
            continue
        seen.add(plan.distinct)
        sz = sizes[by_source[ti]]
        g = sz.size
        rows.append(LevelInfo(term.level, term.path, g, int(sz.min()) if g else 0,
                              float(sz.sum()) / g if g else 0.0, int(sz.max()) if g else 0))
    return rows


def _check_sample(n: int, p: int, stats: Stats, design_terms, sources) -> None:
    """:func:`memodels.design.sample.check_lmm_sample` and the one-observation-per-group
    check of ``mixed``, from the group sizes."""
    if n <= p:
        err = DataError(f"insufficient observations: {n} observations for {p} "
                        "fixed-effects coefficients")
        err.rc = 2001  # type: ignore[attr-defined]
        raise err
    for k, src in enumerate(sources):
        term = design_terms[src]
        if "_cons" in term.names and stats.sizes[k].size and stats.sizes[k].max() <= 1:
            raise DataError(f"every group of {term.level} has a single observation: the "
                            f"variance of the random intercept at level {term.level} cannot "
                            "be told apart from the residual variance; drop the "
                            f"{term.level} equation")
    for k, src in enumerate(sources):
        if stats.n_groups[k] == n and stats.constant_col[k]:
            term = design_terms[src]
            label = " ".join(term.names)
            raise EstimationError(
                f"random effects {label} at level {term.level}: one effect per observation, "
                "not identified separately from the residual variance (each group has a "
                "single observation)")


def mixed_dask(spec: str, ddf, *, check_supported: Callable, maximize: Callable,
               partitioned: bool = False, **options: Any):
    """Fit ``mixed`` on a Dask DataFrame; see the module docstring."""
    import dask
    from dask import delayed

    model = parse_model(spec, "mixed", list(ddf.columns), options=options)
    opts = dict(model.options)
    for key, label in REFUSED.items():
        if opts.get(key):
            raise OptionError(f"option {label} not supported on a Dask DataFrame (fit in "
                              "memory)")
    if model.weight is not None or any(eq.weight is not None for eq in model.equations):
        raise OptionError("weights are not supported on a Dask DataFrame (fit in memory)")
    prep = prepare(model, ddf, "mixed", partitioned=partitioned)
    meta = prep.template
    reml = bool(opts.get("reml"))
    check_supported(opts, meta)
    constant = not model.noconstant
    mom, _ = pooled_moments(prep)
    cols, keep, notes = fixed_columns(prep, mom, constant)
    b0 = _ols(mom, keep, constant)
    design_terms = meta.terms
    sources = [i for i, t in enumerate(design_terms) if t.Z is not None and t.Z.shape[1]]
    parts = list(dask.compute(*[delayed(partition_stats)(d, keep, b0, sources)
                                for d in prep.designs]))
    structs = [CovStructure(design_terms[i].covariance, design_terms[i].Z.shape[1])
               for i in sources]
    stats = Stats(parts, [design_terms[i].Z.shape[1] for i in sources], structs, sources)
    p = int(keep.sum())
    _check_sample(stats.n, p, stats, design_terms, sources)

    out = iteration_log(opts)  # quiet from Python unless log; Stata's log in a session
    label = "log restricted-likelihood" if reml else "log likelihood"
    out("Performing gradient-based optimization: ")
    out("")

    def log(it: int, val: float) -> None:
        out(f"Iteration {it}:   {label} = {val:.8g}  ")

    kwargs: dict[str, Any] = {"maximize": maximize(opts)}
    kwargs.update(em_options(opts))
    n = stats.n
    y_stub = RemoteRows((n,), "the outcome")
    x_stub = RemoteRows((n, p), "the fixed-effects design")
    resid = _residual_info(opts, prep, list(ddf.columns), design_terms, stats, sources)
    try:
        if resid is not None:
            info, gs = resid
            for key in ("emiterate", "emtolerance", "emonly"):
                if key == "emonly" and kwargs.get(key):
                    raise OptionError("option emonly not allowed with residuals(): emonly "
                                      "is available only when residuals are independent "
                                      "with constant variance")
                kwargs.pop(key, None)
            fit = fit_lmm_residual(
                y_stub, x_stub, stats.terms, gs, reml=reml, log=log,
                transformed=_transformer(prep, keep, info, len(design_terms) - 1, sources,
                                         structs), start=stats.moment_start(),
                linear=stats.linear(b0), **kwargs)
        else:
            fit = fit_lmm(y_stub, x_stub, stats.terms, reml=reml, log=log,
                          model=stats.model(b0), start=stats.moment_start(),
                          linear=stats.linear(b0), **kwargs)
    except np.linalg.LinAlgError as exc:
        raise EstimationError(
            f"mixed: numerical failure while fitting the model ({exc}); the variance "
            "components may not be identified -- simplify the random-effects "
            "specification") from exc
    out("")
    out("Computing standard errors:")
    out("")
    design = Design(
        depvar=model.depvar, y=y_stub, X=x_stub, columns=cols,
        terms=remote_terms(design_terms, n),
        levels=levels_of(model, stats.sizes, sources, design_terms),
        index=RemoteRows((n,), "the estimation sample's index"),
        sample=RemoteRows((n,), "e(sample)"), n_dropped=prep.n_dropped,
        notes=notes, extra={}, value_labels={})
    res = build_mixed_results(design, fit, cmdline=f"mixed {spec}", options=opts, spec=model)
    res = attach(res, prep, keep=keep, b0=b0)
    if resid is not None:
        res.extra["dask_resid"] = (resid[0], len(design_terms) - 1)
    return res


def _residual_info(opts, prep: Prepared, columns, design_terms, stats: Stats,
                   sources: list[int]):
    """(ResidualInfo, the sample-wide structure) for residuals(), None without one; the
    in-memory checks of ``mixed`` (identification with a random intercept at the panels'
    level)."""
    import dask
    from dask import delayed

    text = opts.get("residuals")
    if not text:
        return None
    rs = parse_residuals(str(text), columns)
    if rs.type == "independent" and rs.by is None:
        return None
    found = dask.compute(*[delayed(rmod.part_levels)(d, rs.t, rs.by) for d in prep.designs])
    tl = np.unique(np.concatenate([f[0] for f in found])) if rs.t else np.zeros(0)
    bv = np.unique(np.concatenate([f[1] for f in found])) if rs.by else np.zeros(0)
    info = rmod.ResidualInfo(rs.type, rs.order, rs.t, rs.by, tl, bv, rmod.by_labels(bv))
    gs = rmod.global_structure(info)
    info.order = gs.order
    absorbs = gs.kind in ("exchangeable", "unstructured")
    if gs.kind == "banded":
        absorbs = int(gs.order) >= gs.t_levels.size - 1
    if gs.kind == "toeplitz" and gs.t_levels.size:
        absorbs = int(gs.order) >= int(gs.t_levels.max() - gs.t_levels.min())
    last = stats.n_groups[sources.index(len(design_terms) - 1)] if (
        len(design_terms) - 1) in sources else None
    for k, src in enumerate(sources):
        if absorbs and stats.n_groups[k] == last and stats.constant_col[k]:
            level = design_terms[src].level
            raise EstimationError(
                f"random intercept at level {level} with residuals({gs.kind}): the model "
                f"is not identified, the {gs.kind} residual covariance within {level} "
                f"already contains a common covariance; specify noconstant in the {level} "
                "equation (as in [ME] mixed, example 9)")
    return info, gs


def _transformer(prep: Prepared, keep: np.ndarray, info, panel_term: int,
                 sources: list[int], structs):
    """rho -> (likelihood object of the transformed data, sum_j log|R_j|): one pass."""

    def transformed(rho: np.ndarray):
        import dask
        from dask import delayed

        out = dask.compute(*[delayed(rmod.resid_stats)(d, keep, info, panel_term, sources,
                                                       rho) for d in prep.designs])
        stats = Stats([o[0] for o in out], [prep.template.terms[i].Z.shape[1]
                                           for i in sources], structs, sources)
        b0 = stats.ols()
        stats.recentre(b0)
        return stats.model(b0), float(sum(o[1] for o in out))

    return transformed
