"""The me commands on a Dask DataFrame ([ME] meglm, Methods and formulas), client side.

The stages of :mod:`memodels.glmm.fit`, with the likelihood evaluated on the workers
(:mod:`.glmm_parts`): "Fitting fixed-effects model" (:func:`memodels.glm.fit.fit_glm`
on the sums of the partitions' log likelihood, gradient and Hessian), "Refining starting
values" (grid node 0), "Fitting full model" (:func:`memodels.glmm.newton.run`, Stata's
Newton-Raphson with the adaptive parameters held fixed within an iteration and updated
between iterations, each partition adapting its own groups' parameters and keeping them
on its worker), then :func:`memodels.glmm.fit.assemble` for the VCE in Stata's metric.
Each iteration sends the parameter vector to the workers and receives one scalar, one
gradient and one Hessian per partition.
"""

from __future__ import annotations

import warnings
from types import SimpleNamespace
from typing import Any

import numpy as np

from ..covariance.structures import CovStructure
from ..design.types import Design
from ..errors import ConvergenceWarning, DataError, OptionError
from ..glm.fit import fit_glm, start_values
from ..glmm import newton
from ..glmm.fit import assemble
from ..glmm.scaling import design_scaling, re_scaling
from ..glmm.start import GridSearch, StartSpec, grid_search, initial_params
from ..lmm.terms import EngineTerm
from ..output.console import console
from ..results.glmm import build_glmm_results
from ..syntax import parse_model
from . import glmm_parts as gp
from .frame import prepare
from .lmm_stats import global_codes
from .mixed import fixed_columns, levels_of, pooled_moments
from .remote import RemoteRows, remote_terms
from .results import predict_dask

SUPPORTED = ("bernoulli", "poisson", "nbinomial", "gaussian", "ordinal")
REFUSED = ("vce", "startvalues", "startgrid", "noestimate", "constraints", "pweight",
           "fweight", "iweight", "laplace", "dnumerical")


def _sum(results):
    ll = sum(float(r[0]) for r in results)
    g = sum(np.asarray(r[1], float) for r in results)
    h = sum(np.asarray(r[2], float) for r in results)
    return ll, g, h


class DaskGLM:
    """The fixed-effects GLM as sums over the partitions (``fit_glm(model=...)``)."""

    def __init__(self, parts: list, p: int, a: int, family, start_model) -> None:
        self.parts, self.p, self.a, self.family = parts, p, a, family
        self._start_model = start_model

    def start(self) -> np.ndarray:
        return start_values(self._start_model)

    def loglik(self, theta: np.ndarray) -> float:
        import dask
        from dask import delayed

        vals = dask.compute(*[delayed(gp.glm_loglik)(m, theta) for m in self.parts])
        total = float(sum(vals))
        return total if np.isfinite(total) else -np.inf

    def evaluate(self, theta: np.ndarray):
        import dask
        from dask import delayed

        ll, g, h = _sum(dask.compute(*[delayed(gp.glm_evaluate)(m, theta)
                                       for m in self.parts]))
        return (ll if np.isfinite(ll) else -np.inf), g, h


class DaskQuadrature:
    """The GLMM likelihood as sums over the partitions, with the interface
    :func:`memodels.glmm.newton.run` and :func:`memodels.glmm.fit.assemble` use.  The
    adaptive parameters are a list of persisted per-partition objects (on the workers)."""

    def __init__(self, parts: list, p: int, n_aux: int, k: int, method: str) -> None:
        self.parts, self.p, self.n_aux, self.k = parts, p, n_aux, k
        self.method = method

    @property
    def n_params(self) -> int:
        return self.k

    def adapt(self, params: np.ndarray, ad, tol: float = 1e-8, maxiter: int = 100):
        import dask
        from dask import delayed

        prev = ad if ad is not None else [None] * len(self.parts)
        if self.method != "mvaghermite":
            return list(dask.persist(*[delayed(gp.quad_adapt)(m, params, a)
                                       for m, a in zip(self.parts, prev, strict=True)]))
        # the in-memory fixed-point loop, iterated by all partitions together: it stops
        # when the largest change over all groups is below tol
        for _ in range(maxiter):
            new = list(dask.persist(*[delayed(gp.quad_adapt_step)(m, params, a)
                                      for m, a in zip(self.parts, prev, strict=True)]))
            change = max(dask.compute(*[delayed(gp.adapt_change)(m, n, a) for m, n, a
                                        in zip(self.parts, new, prev, strict=True)]))
            prev = new
            if change < tol:
                break
        return prev

    def loglik(self, params: np.ndarray, ad) -> float:
        import dask
        from dask import delayed

        vals = dask.compute(*[delayed(gp.quad_loglik)(m, params, a)
                              for m, a in zip(self.parts, ad, strict=True)])
        total = float(sum(vals))
        return total if np.isfinite(total) else -np.inf

    def derivatives(self, params: np.ndarray, ad):
        import dask
        from dask import delayed

        return _sum(dask.compute(*[delayed(gp.quad_derivatives)(m, params, a)
                                   for m, a in zip(self.parts, ad, strict=True)]))


def _check_options(command: str, opts: dict, model) -> None:
    for key in REFUSED:
        if opts.get(key) not in (None, False, ""):
            raise OptionError(f"option {key}() not supported with {command} on a Dask "
                              "DataFrame (fit in memory)")
    if model.weight is not None or any(eq.weight is not None for eq in model.equations):
        raise OptionError(f"weights are not supported with {command} on a Dask DataFrame")
    if opts.get("intmethod") == "laplace" or str(opts.get("intpoints", "")) == "1":
        raise OptionError(f"intmethod(laplace) is not supported with {command} on a Dask "
                          "DataFrame: use adaptive quadrature (mvaghermite, mcaghermite)")


def _survival_results(base, family):
    """The mestreg results object, as :func:`memodels.commands.mestreg.mestreg` makes it."""
    from dataclasses import fields

    from ..results.base import LRTest
    from ..survival.results import MEStregResults, title_for

    res = MEStregResults(**{f.name: getattr(base, f.name) for f in fields(base)})
    res.title = title_for(family)
    res.distribution = family.name
    res.frm2 = "hazard" if family.metric == "ph" else "time"
    if res.lr_test is not None:
        lr = res.lr_test
        res.lr_test = LRTest(f"LR test vs. {family.label} model", lr.kind, lr.stat, lr.df)
    return res


def _ordinal_categories(family, prep, depvar: str) -> None:
    """The ordinal family learns the categories and their proportions of the whole
    sample (in memory: ``family.validate(y)``)."""
    import dask
    from dask import delayed

    found = dask.compute(*[delayed(gp.outcome_counts)(d) for d in prep.designs])
    vals = np.unique(np.concatenate([f[0] for f in found]))
    counts = np.zeros(vals.size)
    for v, c in found:
        counts[np.searchsorted(vals, v)] += c
    family.validate(vals, depvar)  # the in-memory checks and the categories
    family.proportions = counts / counts.sum()


def _fake_rows(mean: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """Two rows with these column means and (population) standard deviations."""
    return np.vstack([mean - sd, mean + sd])


def _refuse_scaling(command, family, mom, zmoms, keep, constant, structs, sources,
                    tmpl) -> None:
    """The in-memory design scaling (:mod:`memodels.glmm.scaling`) would transform this
    design: refuse (its decision, made on two rows with the sample's column means and
    standard deviations)."""
    idx = np.flatnonzero(keep)
    sd_x = np.sqrt(np.clip(np.diag(mom["C"])[idx] / max(mom["n"], 1), 0, None))
    x2 = _fake_rows(mom["mean"][idx], sd_x)
    if constant:
        x2[:, -1] = 1.0
    eterms_fake = []
    for st, i in zip(structs, sources, strict=True):
        zm = zmoms[i]
        q = tmpl.terms[i].Z.shape[1]
        zsd = np.sqrt(np.clip(np.diag(zm["C"])[:q] / max(zm["n"], 1), 0, None))
        eterms_fake.append(EngineTerm(np.zeros(2, np.int64), 1,
                                      _fake_rows(zm["mean"][:q], zsd), st, i))
    if design_scaling(x2, family) is not None or re_scaling(eterms_fake, None) is not None:
        raise OptionError(f"{command} on a Dask DataFrame: the covariates are badly scaled "
                          "(in memory they would be centred and rescaled internally); "
                          "centre and rescale them (e.g. to standard deviation 1) first")


def _check_outcome(fam: str, family, sums, depvar: str, survival: bool,
                   ordinal: bool) -> int:
    """The in-memory outcome checks (:mod:`memodels.commands.me_checks`) from the
    partitions' summaries; the sample size."""
    from ..commands.me_checks import check_failures, check_outcome, check_sample_size

    n = sum(s["n"] for s in sums)
    values = np.unique(np.concatenate([s["values"] for s in sums]))
    check_sample_size(n)
    if survival:
        late = sum(s.get("late", 0) for s in sums)
        if late:
            raise DataError("mestreg does not allow delayed entry: "
                            f"{late} records enter after _t = 0 (_t0 > 0)")
        fails = sum(s.get("failures", 0.0) for s in sums)
        check_failures(np.array([fails, fails]))  # (the sample size is checked above)
    elif not ordinal:  # (ordinal outcomes: checked by the family)
        check_outcome(fam, family, np.r_[values, values[:1]] if values.size == 1 else values,
                      depvar)
    return n


def fit_me_dask(command: str, spec: str, ddf, options: dict[str, Any], *,
                check_supported, partitioned: bool = False):
    """One me command on a Dask DataFrame; see the module docstring."""
    import dask
    from dask import delayed

    from ..commands import meglm as me  # the shared glue of the me commands

    options = dict(options)
    partitioned = bool(options.pop("partitioned", partitioned))
    for key in ("from_", "matrices", "constraints"):
        if options.get(key) is not None:
            raise OptionError(f"{key} not supported on a Dask DataFrame (fit in memory)")
    model = parse_model(spec, command, list(ddf.columns), options=options)
    opts = dict(model.options)
    _check_options(command, opts, model)
    survival = command == "mestreg"
    if survival:
        fam, args, link = "survival", [], ""
        missing = [c for c in ("_t", "_t0", "_d") if c not in ddf.columns]
        if missing:
            raise DataError("data not st: mestreg on a Dask DataFrame needs the columns _t, "
                            "_t0 and _d (as memodels.stset() makes them)")
    else:
        fam, args, link = me.family_choice(command, opts)
    if not survival and (fam not in SUPPORTED or fam == "binomial"):
        raise OptionError(f"{command}: family {fam} is not supported on a Dask DataFrame yet "
                          "(supported: " + ", ".join(SUPPORTED) + ")")
    prep = prepare(model, ddf, command, partitioned=partitioned)
    tmpl = prep.template
    check_supported(command, opts, tmpl)
    if survival:
        from ..survival.metrics import display_eform, make_distribution

        family = make_distribution(str(opts["distribution"]), time=bool(opts.get("time")))
        display_eform(family, opts)  # nohr/tratio valid for this metric?
    else:
        family = me.make_family_for(fam, args, link, tmpl)
    method, points, notes = me.integration(opts, False)
    if method == "laplace":
        raise OptionError(f"intmethod(laplace) is not supported with {command} on a Dask "
                          "DataFrame: use adaptive quadrature (mvaghermite, mcaghermite)")
    ordinal = fam == "ordinal"
    if ordinal and model.noconstant:
        raise OptionError(f"option noconstant not allowed with {command} (ordinal "
                          "models have cutpoints instead of a constant)")
    constant = not model.noconstant
    mom, zmoms = pooled_moments(prep)
    cols, keep, col_notes = fixed_columns(prep, mom, constant, command)
    if ordinal:  # the cutpoints absorb the constant ([ME] meologit, M&F); as in memory,
        # it is removed after collinearity
        cols = [c for c in cols if c.name != "_cons"]
        keep = keep.copy()
        keep[-1] = False
        constant = False
        _ordinal_categories(family, prep, model.depvar)
    p = int(keep.sum())
    sources = [i for i, t in enumerate(tmpl.terms) if t.Z is not None and t.Z.shape[1]]
    structs = [CovStructure(tmpl.terms[i].covariance, tmpl.terms[i].Z.shape[1])
               for i in sources]
    levels_seen = [tmpl.terms[i].path for i in sources]
    if len(set(levels_seen)) < len(levels_seen):
        raise OptionError(f"{command} on a Dask DataFrame: repeated equations at one level "
                          "are not supported (fit in memory)")
    _refuse_scaling(command, family, mom, zmoms, keep, constant, structs, sources, tmpl)
    a = len(family.aux_names)
    k = p + a + sum(s.n_theta for s in structs)
    frames = prep.ddf.to_delayed() if survival else [None] * len(prep.designs)
    parts = [delayed(gp.build_part)(d, keep, family, model.depvar, me.offset_for, opts,
                                    method, points, structs, sources, k, f)
             for d, f in zip(prep.designs, frames, strict=True)]
    parts = list(dask.persist(*parts))
    sums = dask.compute(*[delayed(gp.summary)(m) for m in parts])
    n = _check_outcome(fam, family, sums, model.depvar, survival, ordinal)
    ybar = sum(s["sy"] for s in sums) / n
    ysd = np.sqrt(max(sum(s["syy"] for s in sums) / n - ybar ** 2, 0.0))
    moff = sum(s["soff"] for s in sums) / n
    start_model = SimpleNamespace(
        family=family, X=np.vstack([np.r_[np.zeros(p - 1), 1.0] if constant else
                                    np.zeros(p)] * 2),
        y=np.array([ybar - ysd, ybar + ysd]), w=None, offset=np.array([moff, moff]),
        p=p, a=a)
    log = None
    if not opts.get("nolog") and opts.get("log", True):
        log = me.make_log()
    history: list = []

    def note(stage: str, it: int, val: float, flag: str = "") -> None:
        history.append((stage, it, val))
        if log is not None:
            log(stage, it, val, flag) if flag else log(stage, it, val)

    glm = fit_glm(None, None, family, model=DaskGLM(parts, p, a, family, start_model))
    for it, val in glm.log:
        note("Fitting fixed-effects model:", it, val)
    terms = [EngineTerm(np.zeros(0, np.int64), 0, np.zeros((0, s.q)), s, i)
             for s, i in zip(structs, sources, strict=True)]
    theta0 = [t.structure.start_theta(1.0) for t in terms]
    x_stub = RemoteRows((n, p), "the fixed-effects design")
    y_stub = RemoteRows((n,), "the outcome")
    params = initial_params(StartSpec(), y_stub, x_stub, terms, family, None, glm, None,
                            theta0)
    quad = DaskQuadrature(parts, p, a, k, method)
    cache: dict = {}

    def at_start(par: np.ndarray) -> float:
        try:
            ad_q = quad.adapt(par, None)
            ll_q = quad.loglik(par, ad_q)
        except (FloatingPointError, ValueError, np.linalg.LinAlgError):
            return -np.inf
        cache[par.tobytes()] = ad_q
        return ll_q

    resid = p if getattr(family, "name", "") == "gaussian" else None
    params = grid_search(StartSpec(), params, terms, p + a, at_start,
                         lambda it, ll: note("Refining starting values:", it, ll), resid)
    ad = cache.get(params.tobytes()) or quad.adapt(params, None)
    mx = me.maximize_options(opts, command)

    def infeasible(par: np.ndarray):  # as in memory: Stata's default grid
        par = grid_search(StartSpec(grids=(GridSearch(),)), par, terms, p + a, at_start,
                          lambda i, v: note("Refining starting values:", i, v), resid,
                          infeasible_start=True)
        return par, cache.get(par.tobytes()) or quad.adapt(par, None)

    run = newton.run(quad, params, ad, mx,
                     lambda i, v, flag: note("Fitting full model:", i, v, flag), infeasible)
    params, ad, converged, it = run.params, run.adaptive, run.converged, run.iterations
    if not converged:
        warnings.warn("convergence not achieved", ConvergenceWarning, stacklevel=3)
    ad = quad.adapt(params, ad)
    llf, grad, hess = quad.derivatives(params, ad)
    fit = assemble(quad, params, ad, llf, grad, hess, glm, family, terms, history,
                   converged, it, method, points)
    if log is not None:
        print("", file=console())
    infos = dask.compute(*[delayed(gp.group_info)(d, sources) for d in prep.designs])
    _, n_groups, sizes = global_codes(list(infos), len(sources))
    design = Design(
        depvar=model.depvar, y=y_stub, X=x_stub, columns=cols,
        terms=remote_terms(tmpl.terms, n),
        levels=levels_of(model, sizes, sources, tmpl.terms), index=RemoteRows((n,), "index"),
        sample=RemoteRows((n,), "e(sample)"), n_dropped=prep.n_dropped, notes=col_notes,
        extra={}, value_labels={})
    res = build_glmm_results(design, fit, command=command, cmdline=f"{command} {spec}",
                             options=opts, family=family, spec=model, notes=notes)
    if survival:
        res = _survival_results(res, family)
    res.extra["vce"] = "oim"
    res.extra["dask_frame"] = prep.ddf
    res.extra["dask_parts"] = parts
    res.extra["dask_designs"] = prep.designs
    res.extra["dask_keep"] = keep
    res.extra["dask_predict"] = predict_dask
    return res


__all__ = ["fit_me_dask", "DaskGLM", "DaskQuadrature"]
