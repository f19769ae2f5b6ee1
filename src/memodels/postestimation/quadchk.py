"""``estat quadchk``: a check of the quadrature approximation of a fitted me/meqr model.

Stata offers ``quadchk`` after the xt random-effects commands ([XT] quadchk) but not after
the me commands.  The idea is the same: the model is refitted with fewer and with more
integration points, starting from the estimates, and the log likelihood and every
parameter of e(b) (the estimation metric: coefficients, ancillary parameters, ln sd and
atanh corr of the random effects) are compared with the fitted ones.  When the
quadrature approximation is accurate, the results barely change with the number of
points ([XT] quadchk, Remarks: "if the coefficients do not change by more than a
relative difference of 10^-4, the choice of quadrature points does not significantly
affect the outcome"); a relative difference larger than 0.01 means that the
approximation may not be accurate, and the model should be refitted with more points.

The default comparison fits use half and one and a half times the estimation's number
of points, rounded (7 points: 4 and 11), at least one fewer and one more; the
``intpoints=(n1, n2)`` option chooses them.  The relative difference is
(comparison - fitted) / |fitted| (Stata's relative difference, divided by the absolute
value so that its sign is the difference's).

Not allowed after ``mixed`` (no numerical integration) and after the Laplacian
approximation (``intmethod(laplace)``, ``laplace``, ``intpoints(1)``, crossed models),
whose accuracy is not a matter of the number of points.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, OptionError
from .tables import fmt, make_table

# the me/meqr GLMM commands (quadrature fits); mestreg's refit needs its stset data
QUADCHK_COMMANDS = ("meglm", "melogit", "meprobit", "mecloglog", "mepoisson", "menbreg",
                    "meologit", "meoprobit", "meqrlogit", "meqrpoisson")
MAX_POINTS = 128
THRESHOLD = 0.01
LL_ROW = "log likelihood"


def default_points(n: int) -> tuple[int, int]:
    """Half and one and a half times ``n`` points, rounded half up (7 -> 4 and 11), at
    least one fewer and one more; at most 128."""
    low = min(max(1, int(np.floor(0.5 * n + 0.5))), n - 1)
    high = min(max(n + 1, int(np.floor(1.5 * n + 0.5))), MAX_POINTS)
    return low, high


def _check_model(res) -> int:
    """The estimation's number of points, or a clear refusal."""
    command = getattr(res, "command", "")
    if command == "mixed":
        raise OptionError("estat quadchk not allowed after mixed: the linear mixed model's "
                          "likelihood is computed exactly, without numerical integration")
    if command not in QUADCHK_COMMANDS:
        raise OptionError(f"estat quadchk not allowed after {command}; it is available after "
                          f"{', '.join(QUADCHK_COMMANDS)}")
    fit = getattr(res, "fit", None)
    if fit is None or getattr(fit, "extra", {}).get("fixed_only") or not res.levels:
        raise OptionError("estat quadchk: the model has no random effects (no numerical "
                          "integration to check)")
    if res.options.get("noestimate") or fit.extra.get("noestimate"):
        raise OptionError("estat quadchk not allowed after noestimate: the results are "
                          "starting values, not estimates")
    method = str(getattr(res, "intmethod", "") or "")
    if method == "laplace":
        raise OptionError("estat quadchk not allowed after the Laplacian approximation "
                          "(intmethod(laplace), laplace or intpoints(1)): its accuracy does "
                          "not depend on a number of points; refit with intmethod(mvaghermite)"
                          " (meqr: intpoints(#) with # > 1) to check a quadrature")
    if isinstance(res.options.get("intpoints"), tuple) and len(
            set(res.options["intpoints"])) > 1:
        raise OptionError("estat quadchk is not implemented for different numbers of "
                          "integration points per level (intpoints(# # ...))")
    return int(res.intpoints)


def _check_points(intpoints: Any, n: int) -> tuple[int, int]:
    if intpoints is None:
        low, high = default_points(n)
        if high == n:
            raise OptionError(f"estat quadchk: the model has {n} points, the most allowed; "
                              "specify intpoints(# #) below it")
        return low, high
    values = intpoints.split() if isinstance(intpoints, str) else list(
        np.atleast_1d(intpoints))
    if len(values) != 2:
        raise OptionError("estat quadchk, intpoints(): specify two numbers of points, e.g. "
                          "intpoints(4 11)")
    out = []
    for v in values:
        try:
            k = float(v)
        except (TypeError, ValueError):
            raise OptionError(f"estat quadchk, intpoints(): {v!r} is not a number") from None
        if k != int(k) or not 1 <= k <= MAX_POINTS:
            raise OptionError(f"estat quadchk, intpoints({v}) invalid; the number of "
                              f"integration points must be an integer between 1 and "
                              f"{MAX_POINTS}")
        out.append(int(k))
    if n in out:
        raise OptionError(f"estat quadchk, intpoints(): the comparison fits must use other "
                          f"numbers of points than the estimation's {n}")
    return out[0], out[1]


def _same_design(old, new) -> bool:
    """The refitted design is the estimation's: outcome, fixed and random-effects designs,
    groups and weights."""
    def same(a, b) -> bool:
        if a is None or b is None:
            return a is None and b is None
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and np.array_equal(a, b)

    if not (same(old.y, new.y) and same(old.X, new.X) and same(old.weights, new.weights)
            and len(old.terms) == len(new.terms)):
        return False
    return all(same(s.groups, t.groups) and same(s.Z, t.Z) and same(s.rfactor_codes,
                                                                    t.rfactor_codes)
               for s, t in zip(old.terms, new.terms, strict=True))


def _refit(res, call: dict[str, Any], data: pd.DataFrame, points: int):
    """The estimation's call at ``points`` points, from the estimates, without a log."""
    from ..commands.dispatch import NUMERICAL_FAILURES, numerical_failure

    options = {k: v for k, v in call["options"].items() if k not in ("log", "from_")}
    options.update(nolog=True, intpoints=points, from_=res)
    try:
        new = call["function"](call["command"], call["spec"], data, options)
    except NUMERICAL_FAILURES as exc:
        raise numerical_failure(call["command"], exc) from exc
    if not (_same_design(res.design, new.design)
            and list(new.estmetric.index) == list(res.estmetric.index)):
        raise DataError("estat quadchk: the data differ from the estimation data (the "
                        "refitted model has another sample or design); pass the estimation "
                        "data with data=")
    return new


def quadchk(res, data: pd.DataFrame | None = None, intpoints: Any = None,
            nooutput: bool = False, **options: Any):
    """Refit at fewer and more points and compare (see the module docstring).

    Returns a DataFrame (a :class:`~memodels.postestimation.tables.StataTable`: ``print``
    gives the Stata-style table): index ``"log likelihood"`` and the e(b) names, columns
    ``"<n> points"`` (the fitted and the two comparison fits), ``"difference <n>"`` and
    ``"relative difference <n>"`` per comparison.  ``attrs``: ``points`` (fitted,
    low, high), ``flagged`` (rows whose relative difference exceeds 0.01), ``converged``.
    ``data``: the estimation data (by default the data the command was given)."""
    if options:
        raise OptionError(f"estat quadchk: option(s) {', '.join(options)} not allowed")
    n = _check_model(res)
    n1, n2 = _check_points(intpoints, n)
    call = (getattr(res, "extra", None) or {}).get("estimation_call")
    if call is None:
        raise OptionError(f"estat quadchk: these {res.command} results do not record the "
                          "estimation call; refit the model with this version of memodels")
    data = call["data"] if data is None else data
    refits = [_refit(res, call, data, k) for k in (n1, n2)]
    names = list(res.estmetric.index)
    base = np.r_[res.llf, res.estmetric.to_numpy(float)]
    cols: dict[str, np.ndarray] = {f"{n} points": base}
    comps = []
    for k, r in zip((n1, n2), refits, strict=True):
        vals = np.r_[r.llf, r.estmetric.reindex(names).to_numpy(float)]
        cols[f"{k} points"] = vals
        comps.append(vals)
    for k, vals in zip((n1, n2), comps, strict=True):
        cols[f"difference {k}"] = vals - base
    for k, vals in zip((n1, n2), comps, strict=True):
        with np.errstate(divide="ignore", invalid="ignore"):
            cols[f"relative difference {k}"] = (vals - base) / np.abs(base)
    index = pd.Index([LL_ROW, *names], name="parameter")
    df = pd.DataFrame(cols, index=index)
    rel = df[[f"relative difference {k}" for k in (n1, n2)]].abs()
    flagged = [str(i) for i in df.index if not (rel.loc[i] <= THRESHOLD).all()]
    converged = [bool(res.converged), *(bool(r.converged) for r in refits)]
    text = _text(df, (n, n1, n2), refits, flagged, converged, nooutput)
    out = make_table(df, "Quadrature check", text)
    out.attrs.update(points=(n, n1, n2), flagged=flagged, converged=converged)
    return out


def _text(df: pd.DataFrame, points: tuple[int, int, int], refits: list, flagged: list[str],
          converged: list[bool], nooutput: bool) -> str:
    n, n1, n2 = points
    width = max(16, *(len(str(i)) + 1 for i in df.index))
    cw = 14
    lines: list[str] = []
    if not nooutput:
        for k, r in zip((n1, n2), refits, strict=True):
            lines.append(f"Refitting model quadrature = {k} points: log likelihood = "
                         f"{r.llf:.8g}" + ("" if r.converged else " (not converged)"))
        lines.append("")
    rule = "-" * (width + 3 * cw + 2)
    pad = " " * width
    lines += [f"{pad}{'Quadrature check':^{3 * cw}}", "",
              f"{pad}{'Fitted':>{cw}}{'Comparison':>{cw}}{'Comparison':>{cw}}",
              f"{pad}{'quadrature':>{cw}}{'quadrature':>{cw}}{'quadrature':>{cw}}",
              f"{pad}{f'{n} points':>{cw}}{f'{n1} points':>{cw}}{f'{n2} points':>{cw}}",
              rule]
    for name, row in df.iterrows():
        label = "Log likelihood" if name == LL_ROW else str(name)
        lines.append(f"{label:<{width}}{fmt(row[f'{n} points'], cw)}"
                     f"{fmt(row[f'{n1} points'], cw)}{fmt(row[f'{n2} points'], cw)}")
        lines.append(f"{pad}{'':>{cw}}{fmt(row[f'difference {n1}'], cw)}"
                     f"{fmt(row[f'difference {n2}'], cw)}  Difference")
        lines.append(f"{pad}{'':>{cw}}{fmt(row[f'relative difference {n1}'], cw)}"
                     f"{fmt(row[f'relative difference {n2}'], cw)}  Relative difference")
        lines.append(rule)
    if flagged:
        lines += ["", f"Relative differences larger than {THRESHOLD:g}: "
                  f"{', '.join(flagged)}.",
                  "The quadrature approximation may not be accurate; refit the model with "
                  "more integration points (intpoints())."]
    else:
        lines += ["", f"All relative differences are within {THRESHOLD:g}: the number of "
                  "integration points does not noticeably affect the results."]
    if not all(converged):
        which = [f"{k} points" for k, c in zip(points, converged, strict=True) if not c]
        lines.append(f"Warning: the fit with {', '.join(which)} did not converge; the "
                     "comparison is not reliable.")
    return "\n".join(line.rstrip() for line in lines)
