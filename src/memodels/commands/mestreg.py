"""``mestreg``: multilevel mixed-effects parametric survival models ([ME] mestreg).

``mestreg(spec, data, **options)`` with ``data`` declared by :func:`memodels.stset`
(Stata: ``stset``) and ``spec`` Stata's syntax after the command name (no depvar: the
outcome is ``(_t0, _t, _d)``)::

    mestreg("age female || patient:, distribution(weibull)", st)
    mestreg("age female || patient:", st, distribution="weibull", time=True)

The survival distribution is a :class:`memodels.families.Family`
(:mod:`memodels.survival`), fitted by the same GLMM engine as every me command
(:func:`memodels.glmm.fit.fit_glmm`: fixed-effects model, refined start, adaptive
quadrature).  As the manual says (L12978, L13677), mestreg does not allow delayed entry
or gaps: each subject's first record starts at ``_t0 = 0`` and its later records start
where the previous one ended; subjects must be nested within the clusters.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import numpy as np
import pandas as pd

from ..design import build_design
from ..distributed.frame import is_dask_frame
from ..errors import DataError
from ..lmm.terms import engine_terms
from ..output.iterlog import iteration_log
from ..postestimation.groups import group_tables
from ..results.base import LRTest
from ..results.glmm import build_glmm_results
from ..survival.metrics import display_eform, make_distribution
from ..survival.results import MEStregResults, title_for
from ..survival.stset import st_settings
from ..syntax import parse_model
from . import me_constraints, me_start, me_vce
from .me_checks import check_failures, check_inputs
from .me_separation import flag_separation
from .meglm import (
    _check_supported,
    _engine_kwargs,
    integration,
    is_crossed,
    make_log,
    offset_for,
)


def _check_no_delayed_entry(data: pd.DataFrame, sample: np.ndarray, id_var: str | None) -> None:
    """Stata's rule: no delayed entry and no gaps within a subject (L12978, L13677)."""
    t0 = data["_t0"].to_numpy(float)[sample]
    t = data["_t"].to_numpy(float)[sample]
    if id_var is None:
        if np.any(t0 > 0):
            raise DataError("mestreg does not allow delayed entry: "
                            f"{int(np.sum(t0 > 0))} records enter after _t = 0 (_t0 > 0)")
        return
    ids = pd.factorize(data[id_var].to_numpy()[sample])[0]
    order = np.lexsort((t, ids))
    ids_s, t0_s, t_s = ids[order], t0[order], t[order]
    first = np.r_[True, ids_s[1:] != ids_s[:-1]]
    if np.any(t0_s[first] > 0):
        raise DataError("mestreg does not allow delayed entry: some subjects' first record "
                        "starts after _t = 0 (_t0 > 0)")
    prev = np.r_[0.0, t_s[:-1]]
    if np.any(~first & (t0_s != prev)):
        raise DataError("mestreg does not allow gaps: a subject's record starts after the "
                        "end of its previous record")


def _check_nested_subjects(data: pd.DataFrame, sample: np.ndarray, id_var: str | None,
                           model) -> None:
    """Subjects must be nested within clusters (L12978)."""
    if id_var is None:
        return
    ids = data[id_var].to_numpy()[sample]
    for eq in model.equations:
        if eq.level == "_all" or eq.level not in data.columns:
            continue
        lev = data[eq.level].to_numpy()[sample]
        pairs = pd.DataFrame({"id": ids, "lev": lev}).drop_duplicates()
        if pairs["id"].duplicated().any():
            raise DataError(f"subjects ({id_var}) are not nested within {eq.level}: mestreg "
                            "requires subjects to be nested within clusters")


def mestreg(spec: str, data: pd.DataFrame, **options: Any) -> MEStregResults:
    """Mixed-effects parametric survival regression, as Stata's ``mestreg``
    ([ME] mestreg).

    ``distribution()`` is required: exponential, weibull, loglogistic (llogistic),
    lognormal (lnormal) or gamma.  ``time`` fits exponential/Weibull in the AFT metric;
    ``nohr`` displays coefficients instead of hazard ratios (PH), ``tratio`` time ratios
    (AFT).  Other options as for the me commands (``intmethod()``, ``intpoints()``,
    ``covariance()``, ``offset()``, ``noconstant``, ``nolog``, ``level()``, ...).

    Parameters
    ----------
    spec : str
        Stata's syntax after the command name, without a dependent variable (the data
        are stset): ``"age female || patient:, distribution(weibull)"``; or a formula
        with an empty left-hand side, ``"~ age + female + (1 | patient)"``.
    data : pandas.DataFrame
        Data declared by :func:`memodels.stset` (never modified).
    **options
        Options as keywords: ``distribution="weibull"``, ``time=True``, ``nolog=True``...

    Returns
    -------
    MEStregResults
        As the other commands' results, plus survival predictions
        (``res.predict("surv")``, ``"hazard"``, ``"median"``...) and ``res.stcurve()``.

    Examples
    --------
    >>> import memodels
    >>> cath = memodels.stset(memodels.datasets.load("catheter"), time="time",
    ...                       failure="infect")
    >>> res = memodels.mestreg("age female || patient:, distribution(weibull)", cath,
    ...                        nolog=True)
    >>> round(res.llf, 4)                       # [ME] mestreg, example 1
    -98.7425
    """
    from ..glmm.fit import fit_glmm
    from ..glmm.scaling import fit_scaled

    if is_dask_frame(data):  # the Dask engine (memodels[dask]; docs/dask.md)
        from ..distributed.glmm import fit_me_dask

        return fit_me_dask("mestreg", spec, data, dict(options),
                           check_supported=_check_supported)
    check_inputs("mestreg", spec, data)
    st = st_settings(data)
    options, matrices, definitions = me_constraints.pop_python_options(options)
    options = dict(options)
    survey = options.pop("survey", None)  # svy: (memodels.glmm.survey.SurveyDesign)
    from_value = options.pop("from_", None)
    model = parse_model(spec, "mestreg", data, options=options)
    opts = dict(model.options)
    design, restricted = me_constraints.apply_matrices(build_design(model, data), matrices)
    _check_supported("mestreg", opts, design)
    _check_no_delayed_entry(data, design.sample, st.id)
    _check_nested_subjects(data, design.sample, st.id, model)

    family = make_distribution(str(opts["distribution"]), time=bool(opts.get("time")))
    display_eform(family, opts)  # nohr/tratio valid for this metric?
    t0 = data["_t0"].to_numpy(float)[design.sample]
    d = data["_d"].to_numpy(float)[design.sample]
    family = family.bind(t0=t0, d=d)
    cons = me_constraints.build_constraints(design, restricted, tuple(family.aux_names),
                                            False, definitions, opts)
    offset = offset_for(opts, design)
    y = family.validate(design.y, "_t")
    check_failures(d)
    crossed = is_crossed(model, design)
    method, points, notes = integration(opts, crossed)
    terms = engine_terms(design.terms)
    vce, weights, level_weights = me_vce.prepare(opts, design, terms, method, crossed)

    start = me_start.start_spec(opts, from_value, matrices, design, terms, family)
    out = iteration_log(opts)
    if not opts.get("noshow"):
        for line in st.header_lines():
            out(line)
        out("")
    log = make_log(out, criterion="log pseudolikelihood" if vce.robust else "log likelihood")
    fit = fit_scaled(fit_glmm, y, design.X, terms, family, offset=offset,
                   intmethod=method, intpoints=points, log=log, start_spec=start,
                   noestimate=bool(opts.get("noestimate")),
                   **me_constraints.engine_kwargs(cons),
                   **me_vce.weight_kwargs(weights, level_weights),
                   **_engine_kwargs(opts, fit_glmm))
    out("")
    flag_separation(fit, design, y, family, failures=d)
    if survey is not None:
        vce = me_vce.apply_survey(fit, design, terms, survey, weights, level_weights)
    else:
        me_vce.apply_vce(fit, design, terms, vce)
    base = build_glmm_results(design, fit, command="mestreg", cmdline=f"mestreg {spec}",
                              options=opts, family=family, spec=model, notes=notes)
    res = MEStregResults(**{f.name: getattr(base, f.name) for f in fields(base)})
    res.title = title_for(family)
    if not terms:  # no random effects: streg's model ([ST] streg titles)
        label = family.label[:1].upper() + family.label[1:]
        res.title = f"{label} {'PH' if family.metric == 'ph' else 'AFT'} regression"
    res.st = st
    res.st_shown = out.show and not opts.get("noshow")
    res.distribution = family.name
    res.frm2 = "hazard" if family.metric == "ph" else "time"
    if res.lr_test is not None:
        lr = res.lr_test
        res.lr_test = LRTest(f"LR test vs. {family.label} model", lr.kind, lr.stat, lr.df)
    me_vce.decorate_results(res, design, vce)
    res.extra["group_ids"] = group_tables(design, data)
    return res


__all__ = ["mestreg"]
