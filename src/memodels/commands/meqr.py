"""``meqrlogit`` and ``meqrpoisson``: Stata's QR-decomposition mixed logit and Poisson
commands ([ME] meqrlogit, [ME] meqrpoisson), as configurations of the one GLMM engine.

Adaptive quadrature centred at the posterior modes with the curvature at the modes
(Pinheiro and Bates 1995), the modes re-solved at every likelihood evaluation
("Performing gradient-based optimization"); ``laplace`` is one point.  Random effects
are shown as variances unless ``stddeviations`` (the manual's default; the issue's text
said otherwise, the manual decides).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..design import build_design
from ..errors import OptionError
from ..lmm.terms import engine_terms
from ..output.iterlog import iteration_log
from ..postestimation.groups import group_tables
from ..results.meqr import MeqrResults, build_meqr_results
from ..syntax import parse_model
from . import me_start
from .me_checks import check_inputs, check_outcome
from .me_separation import flag_separation
from .meglm import (
    make_family_for,
    make_log,
    maximize_options,
    offset_for,
    require_random_effects,
)

# [ME] meqrlogit and meqrpoisson, Syntax: meqrlogit has or and binomial() (no irr, no
# exposure()); meqrpoisson has irr and exposure() (no or, no binomial())
_NOT_ALLOWED = {"meqrlogit": ("irr", "exposure"), "meqrpoisson": ("or", "binomial")}


def _points(opts: dict[str, Any], n_levels: int) -> int | tuple[int, ...]:
    """intpoints(# [# ...]): one number for all levels or one per level (outermost first);
    ``laplace`` is one point."""
    if opts.get("laplace"):
        return 1
    pts = opts.get("intpoints")
    if pts is None:
        return 7
    values = [int(p) for p in (pts if isinstance(pts, tuple) else (pts,))]
    if len(values) > n_levels:
        raise OptionError(f"intpoints() has {len(values)} numbers for {n_levels} levels")
    for n in values:
        if not 1 <= n <= 128:
            raise OptionError(f"intpoints({n}) invalid; it must be between 1 and 128")
    if len(set(values)) == 1:
        return values[0]
    if 1 in values:
        raise OptionError("intpoints(1) (Laplace) must apply to every level")
    return tuple(values)


def _meqr_engine_options(opts: dict[str, Any], command: str, crossed_or_sparse: bool
                         ) -> dict[str, Any]:
    """meqr's own optimization options ([ME] meqrlogit, Options, Integration and
    Maximization): ``retolerance()``/``reiterate()`` set the tolerance (largest change of
    the standardized random effects) and iteration limit of the posterior-mode solve at
    each evaluation; ``matsqrt`` (the default) is the Cholesky square-root
    parameterization memodels uses; ``matlog`` is refused; ``refineopts()`` only as
    ``iterate(0)``, which skips memodels' refinement of the starting values (on the
    one-node likelihood, :mod:`memodels.glmm.resolved_exact`; ``refine``: False)."""
    from ..syntax.options import MAXIMIZE_OPTIONS, parse_options

    if opts.get("matlog"):
        raise OptionError(f"option matlog is not implemented for {command}: memodels "
                          "parameterizes the variance components by matrix square roots "
                          "(matsqrt, the default) only")
    refine = opts.get("refineopts")
    if refine not in (None, True, ""):
        inner = parse_options(str(refine), MAXIMIZE_OPTIONS)
        if "from" in inner:
            raise OptionError("from() is not allowed within refineopts(); specify it "
                              "globally")
        rest = {k: v for k, v in inner.items() if k not in ("log", "nolog")}
        if rest != {"iterate": 0}:
            raise OptionError(f"refineopts({refine}): memodels' {command} refines the "
                              "starting values on the one-node likelihood, not by Stata's "
                              "fixed-quadrature iterations; only refineopts(iterate(0)) (no "
                              "refinement stage) is implemented")
    out: dict[str, Any] = {}
    if opts.get("retolerance") not in (None, True):
        out["tol"] = float(opts["retolerance"])
    if opts.get("reiterate") not in (None, True):
        out["maxiter"] = int(opts["reiterate"])
    if out and crossed_or_sparse:
        raise OptionError("retolerance() and reiterate() are not implemented for the "
                          "Laplacian approximation with crossed or several levels "
                          "(the sparse engine solves the modes to its own tolerance)")
    if out.get("maxiter", 1) < 1 or out.get("tol", 1.0) <= 0:
        raise OptionError("retolerance() must be positive and reiterate() at least 1")
    if refine not in (None, True, ""):
        out["refine"] = False  # refineopts(iterate(0)): no refinement stage
    return out


def _fit_meqr(command: str, spec: str, data: pd.DataFrame, options: dict[str, Any]):
    from ..glmm.fit import fit_glmm
    from ..glmm.scaling import fit_scaled

    check_inputs(command, spec, data)
    call_options = dict(options)
    options = dict(options)
    from_value, matrices = options.pop("from_", None), options.pop("matrices", None)
    model = parse_model(spec, command, data, options=options)
    opts = dict(model.options)
    if opts.get("vce") not in (None, False, ""):
        # vce() is not a meqrlogit/meqrpoisson option (OIM only); melogit has vce(robust)
        raise OptionError(f"option vce() not allowed with {command}")
    for key in _NOT_ALLOWED[command]:
        if opts.get(key) not in (None, False, ""):
            arg = "()" if key in ("exposure", "binomial") else ""
            raise OptionError(f"option {key}{arg} not allowed with {command}")
    design = build_design(model, data)
    require_random_effects(command, design)
    for t in design.terms:
        if t.covariance in ("fixed", "pattern"):
            raise OptionError(f"covariance({t.covariance}()) not allowed with {command}; it "
                              "is available with melogit and the other me commands")
    if command == "meqrlogit":
        trials = opts.get("binomial")
        family = make_family_for("binomial" if trials else "bernoulli",
                                 [str(trials)] if trials else [], "logit", design)
    else:
        family = make_family_for("poisson", [], "log", design)
    offset = offset_for(opts, design)
    y = family.validate(design.y, design.depvar)
    check_outcome(family.name, family, y, design.depvar)
    terms = engine_terms(design.terms)
    points = _points(opts, len(terms))
    # "with R. notation laplace is assumed" ([ME] meqrlogit, Options): crossed designs are
    # fitted by the Laplace approximation
    crossed = any(t.level == "_all" or not getattr(t, "nested", True) for t in design.terms)
    if crossed and opts.get("intpoints") is None:
        points = 1
    method = "laplace" if points == 1 else "mcaghermite"
    if isinstance(points, tuple) and len(terms) == 1:
        points = points[0]
    out = iteration_log(opts)
    log = make_log(out)
    start = me_start.start_spec(opts, from_value, matrices, design, terms, family)
    fit = fit_scaled(fit_glmm, y, design.X, terms, family, offset=offset, intmethod=method,
                     intpoints=points, log=log, resolve_modes=True, start_spec=start,
                     maximize=maximize_options(opts, command),
                     re_options=_meqr_engine_options(
                         opts, command, method == "laplace" and len(terms) > 1))
    out("")
    flag_separation(fit, design, y, family)
    res = build_meqr_results(design, fit, command=command, cmdline=f"{command} {spec}",
                             options=opts, family_obj=family)
    # the call, with a reference to the data (not a copy), for estat quadchk's refits
    res.extra["group_ids"] = group_tables(design, data)
    res.extra["estimation_call"] = {"function": _fit_meqr, "command": command, "spec": spec,
                                    "options": call_options, "data": data}
    return res


def meqrlogit(spec: str, data: pd.DataFrame, **options: Any) -> MeqrResults:
    """Mixed-effects logistic regression by QR decomposition, as Stata's ``meqrlogit``
    ([ME] meqrlogit).

    Parameters
    ----------
    spec : str
        Stata's syntax after the command name (``"y x1 x2 || group: x1, covariance(un)"``)
        or an lme4-style formula (``"y ~ x1 + x2 + (1 + x1 | group)"``); options may
        follow a comma, with Stata's abbreviations.  ``memodels help meqrlogit`` lists them.
    data : pandas.DataFrame
        The data (never modified).
    **options
        Options as keywords, e.g. ``intpoints=7``, ``laplace=True``, ``or_=True``,
        ``nolog=True``, ``level=90``. An option memodels cannot honour is refused with a
        :class:`memodels.errors.MemodelsError`.

    Returns
    -------
    MeqrResults
        ``params``, ``bse``, ``vcov``, ``llf``, ``aic``, ``bic``, ``nobs``, ``converged``;
        ``print(res)`` shows Stata's output; ``res.predict()``, ``res.estat()``,
        ``res.margins()``, ``res.test()``, ``res.lincom()``, ``res.nlcom()``.

    Examples
    --------
    >>> import memodels
    >>> df = memodels.datasets.load("bangladesh")
    >>> res = memodels.meqrlogit("c_use urban age child* || district:", df, nolog=True)
    >>> round(res.llf, 4)                       # [ME] meqrlogit, example 1
    -1206.6742
    """
    return _fit_meqr("meqrlogit", spec, data, options)


def meqrpoisson(spec: str, data: pd.DataFrame, **options: Any) -> MeqrResults:
    """Mixed-effects Poisson regression by QR decomposition, as Stata's ``meqrpoisson``
    ([ME] meqrpoisson).

    Parameters
    ----------
    spec : str
        Stata's syntax after the command name (``"y x1 x2 || group: x1, covariance(un)"``)
        or an lme4-style formula (``"y ~ x1 + x2 + (1 + x1 | group)"``); options may
        follow a comma, with Stata's abbreviations.  ``memodels help meqrpoisson`` lists them.
    data : pandas.DataFrame
        The data (never modified).
    **options
        Options as keywords, e.g. ``irr=True``, ``intpoints=7``, ``nolog=True``,
        ``level=90``. An option memodels cannot honour is refused with a
        :class:`memodels.errors.MemodelsError`.

    Returns
    -------
    MeqrResults
        ``params``, ``bse``, ``vcov``, ``llf``, ``aic``, ``bic``, ``nobs``, ``converged``;
        ``print(res)`` shows Stata's output; ``res.predict()``, ``res.estat()``,
        ``res.margins()``, ``res.test()``, ``res.lincom()``, ``res.nlcom()``.

    Examples
    --------
    >>> import memodels
    >>> df = memodels.datasets.load("epilepsy")
    >>> res = memodels.meqrpoisson("seizures treat lbas lbas_trt lage v4 || subject:", df,
    ...                            nolog=True)
    >>> round(res.llf, 4)                       # [ME] meqrpoisson, example 1
    -665.2907
    """
    return _fit_meqr("meqrpoisson", spec, data, options)
