"""``meglm``: multilevel mixed-effects generalized linear models ([ME] meglm), and the
glue every me command shares (:func:`fit_me`).

Parse the Stata syntax (or lme4 formula), build the design, make the family (with
binomial trials, offset or ln(exposure)), choose the integration method (mvaghermite
with 7 points by default; Laplace implied for crossed models), fit with the GLMM engine
and assemble Stata's results.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import pandas as pd

from ..design import build_design
from ..distributed.frame import is_dask_frame
from ..errors import DataError, OptionError
from ..lmm.terms import engine_terms
from ..output.iterlog import IterationLog, iteration_log
from ..postestimation.groups import group_tables
from ..results.glmm import EFORM_OPTIONS, GLMMResults, build_glmm_results
from ..syntax import parse_model
from . import me_constraints, me_start, me_vce
from .me_checks import check_inputs, check_outcome
from .me_perfect import drop_perfect_predictors
from .me_separation import flag_separation

# options each command accepts beyond the shared ones (Stata's option tables)
COMMAND_OPTIONS = {
    "meglm": {"family", "link", "exposure", "eform", "irr", "or", "asis"},
    "melogit": {"binomial", "or", "asis"},
    "meprobit": {"binomial", "asis"},
    "mecloglog": {"binomial", "eform", "asis"},
    "mepoisson": {"exposure", "irr"},
    "menbreg": {"exposure", "irr", "dispersion"},
    "mestreg": set(),  # distribution(), time, nohr, tratio: checked in commands/mestreg.py
    "meologit": {"or"},
    "meoprobit": set(),
}
_RESTRICTED = {"family", "link", "exposure", "eform", "irr", "or", "binomial", "dispersion",
               "asis"}

NOT_YET = {
    "svy": "the svy prefix is not implemented yet",
}

CROSSED_NOTE = "note: crossed random-effects model specified; option intmethod(laplace) implied"
MAX_INTPOINTS = 128

STAGE_LINE = {"Refining starting values:": "Grid node"}


def _given(opts: dict[str, Any], key: str) -> bool:
    return opts.get(key) not in (None, False, "")


def _check_supported(command: str, opts: dict[str, Any], design) -> None:
    allowed = COMMAND_OPTIONS[command]
    for key in _RESTRICTED - allowed:
        if _given(opts, key):
            arg = "" if key in EFORM_OPTIONS or key == "asis" else "()"
            raise OptionError(f"option {key}{arg} not allowed with {command}")
    shown = [k for k in EFORM_OPTIONS if _given(opts, k)]
    if len(shown) > 1:
        raise OptionError(f"options {' and '.join(shown)} may not be combined")
    for key, msg in NOT_YET.items():
        if _given(opts, key):
            raise OptionError(f"option {key}: {msg}")
    me_start.start_method(opts.get("startvalues"))
    require_random_effects(command, design)
    for t in design.terms:
        if t.covariance not in ("independent", "exchangeable", "identity", "unstructured"):
            raise OptionError(f"covariance({t.covariance}) is not implemented yet for {command}")
    if _given(opts, "offset") and _given(opts, "exposure"):
        raise OptionError("options offset() and exposure() may not be combined")
    _check_collinear(command, opts, design)


BINARY_COMMANDS = ("meglm", "melogit", "meprobit", "mecloglog")


def require_random_effects(command: str, design) -> None:
    """An equation ``|| g:, noconstant`` without variables leaves no random effect; the
    me commands need at least one there ("noconstant" after the last equation belongs to
    it: the fixed-effects constant is removed with ``y x, noconstant || g:``).  A command
    line without any random-effects equation fits the model without random effects."""
    if design.terms and all(t.q == 0 for t in design.terms):
        raise OptionError(f"{command}: the model has no random effects (a random-effects "
                          "equation with noconstant needs variables; to drop the constant "
                          "of the fixed effects, type noconstant before the first ||)")


def _check_table_options(command: str, model, opts: dict[str, Any]) -> None:
    """fe_options outside a command's syntax table are refused, not ignored: the ordinal
    commands have no constant (their fe_options are offset() only, [ME] meologit L6380)
    and ``asis`` exists for the binary models only ([ME] melogit L4400)."""
    if command in ("meologit", "meoprobit") and model.noconstant:
        raise OptionError(f"option noconstant not allowed with {command} (the cutpoints "
                          "take the place of the constant)")
    if _given(opts, "asis") and command not in BINARY_COMMANDS:
        raise OptionError(f"option asis not allowed with {command}")


def _check_collinear(command: str, opts: dict[str, Any], design) -> None:
    """``collinear``: Stata keeps collinear variables instead of omitting them ([ME] meglm,
    Options).  Without collinear covariates there is nothing to keep and the fit is the
    same; with them the coefficients are not identified and memodels refuses rather
    than omit them silently."""
    if not _given(opts, "collinear"):
        return
    omitted = [c.name for c in design.columns if c.status == "omitted"]
    if omitted:
        raise OptionError(f"{command}, collinear: {', '.join(omitted)} collinear with the "
                          "other covariates; keeping collinear variables (their coefficients "
                          "are not identified) is not supported -- drop the option to have "
                          "them omitted, or drop the variables")


def _check_eform_family(fam: str, link: str, opts: dict[str, Any]) -> None:
    """meglm: ``or`` "is allowed for logistic models only", ``irr`` "for count models
    only" ([ME] meglm, Options, Reporting)."""
    if _given(opts, "or") and not (link == "logit"
                                   and fam in ("bernoulli", "binomial", "ordinal")):
        raise OptionError(f"option or not allowed with family({fam}) link({link}): it is "
                          "allowed for logistic models only")
    if _given(opts, "irr") and fam not in ("poisson", "nbinomial"):
        raise OptionError(f"option irr not allowed with family({fam}): it is allowed for "
                          "count models only")


# ---------------------------------------------------------------- family and link
def family_choice(command: str, opts: dict[str, Any]) -> tuple[str, list[str], str]:
    """(family, its arguments, link) for ``command`` and its options."""
    if command == "meglm":
        from ..families.registry import ALLOWED_LINKS as LINKS

        parts = str(opts.get("family") or "gaussian").split()
        fam, args = parts[0], parts[1:]
        if fam not in LINKS:
            raise OptionError(f"family({fam}) not allowed with meglm")
        link = str(opts.get("link") or LINKS[fam][0])
        if link not in LINKS[fam]:
            raise OptionError(
                f"link({link}) not allowed with family({fam}); allowed: "
                + ", ".join(LINKS[fam])
            )
        return fam, args, link
    binary_links = {"melogit": "logit", "meprobit": "probit", "mecloglog": "cloglog"}
    if command in binary_links:
        if _given(opts, "binomial"):
            return "binomial", [str(opts["binomial"])], binary_links[command]
        return "bernoulli", [], binary_links[command]
    if command in ("meologit", "meoprobit"):
        return "ordinal", [], "logit" if command == "meologit" else "probit"
    if command == "mepoisson":
        return "poisson", [], "log"
    if command == "menbreg":
        return "nbinomial", [str(opts.get("dispersion") or "mean")], "log"
    raise OptionError(f"command {command} is not a GLMM command")


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def make_family_for(fam: str, args: list[str], link: str, design) -> Any:
    """The family object from :mod:`memodels.families.registry`, with binomial trials
    bound (a constant ``#`` or a variable of the estimation sample)."""
    from ..families.registry import make_family

    kwargs: dict[str, Any] = {}
    spec_name = fam
    trials = None
    if fam == "binomial" and args:
        value = _number(args[0])
        if value is not None:
            if not (value > 0 and float(value).is_integer()):
                raise OptionError(f"binomial({args[0]}): the number of trials must be a "
                                  "positive integer")
            kwargs["trials"] = float(value)
        else:
            name = args[0]
            values = np.asarray(design.extra[name])
            if values.dtype == object:
                raise DataError(f"binomial trials variable {name} must be numeric")
            trials = values.astype(float)
            spec_name = f"binomial {name}"  # the family records its trials variable
    elif fam == "nbinomial":
        kwargs["dispersion"] = args[0] if args else "mean"
    family = make_family(spec_name, link, **kwargs)
    if trials is not None:
        family = family.bind(trials=trials)
    return family


def offset_for(opts: dict[str, Any], design) -> np.ndarray | None:
    """``offset(var)`` as is, ``exposure(var)`` as ln(var) (must be positive)."""
    if _given(opts, "offset"):
        name = str(opts["offset"])
        return _numeric_extra(design, name, "offset()")
    if _given(opts, "exposure"):
        name = str(opts["exposure"])
        x = _numeric_extra(design, name, "exposure()")
        bad = int(np.sum(~(x > 0)))
        if bad:
            raise DataError(f"exposure variable {name} must be greater than zero "
                            f"({bad} observation{'s' if bad > 1 else ''} with {name} <= 0)")
        return np.log(x)
    return None


def _numeric_extra(design, name: str, what: str) -> np.ndarray:
    values = np.asarray(design.extra[name])
    if values.dtype == object or values.dtype.kind in "USO":
        # a string variable is not coerced, even when its values look like numbers
        raise DataError(f"{what} variable {name} must be numeric (it is a string variable)")
    try:
        return np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise DataError(f"{what} variable {name} must be numeric") from None


# ------------------------------------------------------------------- integration
def is_crossed(model, design) -> bool:
    """Crossed models: ``_all: R.var`` equations, or lme4 terms not declared nested."""
    if any(t.level == "_all" and t.rfactor is not None for t in design.terms):
        return True
    eqs = getattr(model, "equations", ())
    return len(eqs) > 1 and any(not e.nested for e in eqs)


def integration(opts: dict[str, Any], crossed: bool) -> tuple[str, int, list[str]]:
    """(intmethod, intpoints, notes) from ``intmethod()``, ``intpoints()``, ``laplace``."""
    notes: list[str] = []
    method = opts.get("intmethod")
    if _given(opts, "laplace"):
        if method not in (None, "laplace"):
            raise OptionError(f"options laplace and intmethod({method}) may not be combined")
        method = "laplace"
    if method is None:
        if crossed:
            method = "laplace"
            notes.append(CROSSED_NOTE)
        else:
            method = "mvaghermite"
    method = str(method)
    if method not in ("mvaghermite", "mcaghermite", "ghermite", "laplace"):
        raise OptionError(f"intmethod({method}) not allowed")
    points = opts.get("intpoints")
    if points is None:
        return method, (1 if method == "laplace" else 7), notes
    if isinstance(points, tuple):
        raise OptionError("intpoints() takes one number (the same for every level)")
    if method == "laplace":
        raise OptionError("option intpoints() not allowed with intmethod(laplace)")
    n = int(points)
    if not 1 <= n <= MAX_INTPOINTS:
        raise OptionError(f"intpoints({n}) invalid; the number of integration points must be "
                          f"between 1 and {MAX_INTPOINTS}")
    if n == 1 and method in ("mvaghermite", "mcaghermite"):
        # "the limiting case of N_Q = 1, otherwise known as the Laplacian approximation"
        # ([ME] me, Computation time and the Laplacian approximation)
        notes.append("note: intpoints(1) with adaptive quadrature is the Laplacian "
                     "approximation; intmethod(laplace) used")
        return "laplace", 1, notes
    return method, n, notes


# ---------------------------------------------------------------------- the log
def make_log(out=None, criterion: str = "log likelihood"):
    """Stata's iteration log: stage header, blank line, then
    ``Iteration 0:   log likelihood = -1228.5263`` (``Grid node 0:`` when refining;
    ``log pseudolikelihood`` with a robust VCE).  ``out``: the line writer
    (:class:`memodels.output.iterlog.IterationLog`; by default one that prints)."""
    out = out if out is not None else IterationLog(True)
    state: dict[str, Any] = {"stage": None}

    def log(stage: str, iteration: int, ll: float, flag: str = "") -> None:
        if stage != state["stage"]:
            if state["stage"] is not None:
                out("")
            out(stage)
            out("")
            state["stage"] = stage
        word = STAGE_LINE.get(stage, "Iteration")
        tail = f" {flag}" if flag else ""
        out(f"{word} {iteration}:   {criterion} = {ll:.8g}  {tail}")

    return log


def _engine_kwargs(opts: dict[str, Any], fit_glmm) -> dict[str, Any]:
    """The maximize_options ([R] maximize) for the engine: ``iterate`` (kept as its own
    keyword too) and ``maximize`` (:class:`memodels.optimize.maximize.Maximize`, with the
    trace displays printed when the log is on)."""
    mx = maximize_options(opts, "me", techniques=("nr", "bhhh", "dfp", "bfgs"))
    kwargs: dict[str, Any] = {"iterate": mx.iterate}
    if "maximize" in inspect.signature(fit_glmm).parameters:
        kwargs["maximize"] = mx
    return kwargs


def maximize_options(opts: dict[str, Any], command: str,
                     techniques: tuple[str, ...] = ("nr",)):
    """:class:`memodels.optimize.maximize.Maximize` from the options; the extra lines of
    ``trace``/``gradient``/``hessian``/``showstep``/``showtolerance`` go to stdout."""
    from ..optimize.maximize import from_options

    mx = from_options(opts, command, techniques=techniques)
    return mx.with_echo(iteration_log(opts))


# ------------------------------------------------------------------------ glue
def fit_me(command: str, spec: str, data: pd.DataFrame, options: dict[str, Any]) -> GLMMResults:
    """Parse, build the design, fit and assemble the results of one me command."""
    from ..glmm.fit import fit_glmm
    from ..glmm.scaling import fit_scaled

    if is_dask_frame(data):  # the Dask engine (memodels[dask]; docs/dask.md)
        from ..distributed.glmm import fit_me_dask

        return fit_me_dask(command, spec, data, options, check_supported=_check_supported)
    check_inputs(command, spec, data)
    call_options = dict(options)
    options, matrices, definitions = me_constraints.pop_python_options(options)
    from_value = options.pop("from_", None)
    survey = options.pop("survey", None)  # svy: (memodels.glmm.survey.SurveyDesign)
    model = parse_model(spec, command, data, options=options)
    opts = dict(model.options)
    _check_table_options(command, model, opts)
    design = build_design(model, data)
    fam, args, link = family_choice(command, opts)
    if fam == "bernoulli" and not _given(opts, "asis"):
        design = drop_perfect_predictors(model, data, design)
    design, restricted = me_constraints.apply_matrices(design, matrices)
    _check_supported(command, opts, design)
    _check_eform_family(fam, link, opts)
    if fam == "ordinal":
        if getattr(model, "noconstant", False):
            # not an ordinal fe_option ([ME] meologit, Syntax): the cutpoints are the
            # constant
            raise OptionError(f"option noconstant not allowed with {command} (ordinal "
                              "models have cutpoints instead of a constant)")
        # no constant: its effect is absorbed into the cutpoints ([ME] meologit, M&F)
        from .me_ordinal import drop_constant

        design = drop_constant(design)
    family = make_family_for(fam, args, link, design)
    # validated first: the ordinal family learns its categories (its cutpoints /cut1 ...
    # are ancillary parameters that constraints can name)
    y = family.validate(design.y, design.depvar)
    check_outcome(fam, family, y, design.depvar)
    cons = me_constraints.build_constraints(design, restricted, tuple(family.aux_names),
                                            fam == "gaussian", definitions, opts)
    offset = offset_for(opts, design)
    crossed = is_crossed(model, design)
    method, points, notes = integration(opts, crossed)
    if fam == "nbinomial":
        opts.setdefault("dispersion", args[0] if args else "mean")
    terms = engine_terms(design.terms)
    vce, weights, level_weights = me_vce.prepare(opts, design, terms, method, crossed)
    start = me_start.start_spec(opts, from_value, matrices, design, terms, family)
    out = iteration_log(opts)
    log = make_log(out, criterion="log pseudolikelihood" if vce.robust else "log likelihood")
    fit = fit_scaled(fit_glmm, y, design.X, terms, family, offset=offset,
                   intmethod=method, intpoints=points, log=log, start_spec=start,
                   noestimate=bool(opts.get("noestimate")),
                   **me_constraints.engine_kwargs(cons),
                   **me_vce.weight_kwargs(weights, level_weights),
                   **_engine_kwargs(opts, fit_glmm))
    out("")
    flag_separation(fit, design, y, family)
    if survey is not None:
        vce = me_vce.apply_survey(fit, design, terms, survey, weights, level_weights)
    else:
        me_vce.apply_vce(fit, design, terms, vce)
    res = build_glmm_results(design, fit, command=command, cmdline=f"{command} {spec}",
                             options=opts, family=family, spec=model, notes=notes)
    me_vce.decorate_results(res, design, vce)
    # the call, with a reference to the data (not a copy), for estat quadchk's refits
    res.extra["group_ids"] = group_tables(design, data)
    res.extra["estimation_call"] = {"function": fit_me, "command": command, "spec": spec,
                                    "options": call_options, "data": data}
    if not terms:
        res.title = fixed_only_title(fam, link)
    return res


def fixed_only_title(fam: str, link: str) -> str:
    """The title of a model without random effects: the plain model it is."""
    binary = {"logit": "Logistic regression", "probit": "Probit regression",
              "cloglog": "Complementary log-log regression"}
    if fam in ("bernoulli", "binomial") and link in binary:
        return binary[link]
    if fam == "ordinal":
        return {"logit": "Ordered logistic regression",
                "probit": "Ordered probit regression"}.get(link, "Ordered regression")
    if fam == "poisson" and link == "log":
        return "Poisson regression"
    if fam == "nbinomial" and link == "log":
        return "Negative binomial regression"
    return "Generalized linear model"


def meglm(spec: str, data: pd.DataFrame, **options: Any) -> GLMMResults:
    """Fit a generalized linear mixed model, as Stata's ``meglm`` ([ME] meglm).

    Families gaussian (default), bernoulli, binomial, poisson, nbinomial, gamma and
    ordinal with the links identity, log, logit, probit and cloglog; integration by
    mean-variance adaptive Gauss-Hermite quadrature (7 points) unless ``intmethod=`` /
    ``intpoints=`` say otherwise.

    Parameters
    ----------
    spec : str
        Stata's syntax after the command name (``"y x1 x2 || group: x1, covariance(un)"``)
        or an lme4-style formula (``"y ~ x1 + x2 + (1 + x1 | group)"``); options may
        follow a comma, with Stata's abbreviations.  ``memodels help meglm`` lists them.
    data : pandas.DataFrame
        The data (never modified).
    **options
        Options as keywords, e.g. ``family="bernoulli"``, ``link="probit"``,
        ``intpoints=12``, ``nolog=True``, ``level=90``. An option memodels cannot honour is
        refused with a :class:`memodels.errors.MemodelsError`.

    Returns
    -------
    GLMMResults
        ``params``, ``bse``, ``vcov``, ``llf``, ``aic``, ``bic``, ``nobs``, ``converged``;
        ``print(res)`` shows Stata's output; ``res.predict()``, ``res.estat()``,
        ``res.margins()``, ``res.test()``, ``res.lincom()``, ``res.nlcom()``.

    Examples
    --------
    >>> import memodels
    >>> pig = memodels.datasets.load("pig")
    >>> res = memodels.meglm("weight week || id:", pig, nolog=True)
    >>> round(res.llf, 4)                       # [ME] meglm, example 1
    -1014.9268
    """
    return fit_me("meglm", spec, data, options)
