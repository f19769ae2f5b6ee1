"""``estat vce``, ``estat summarize`` ([R] estat vce, [R] estat summarize) and ``hausman``
([R] hausman) in a session: the standard postestimation commands every [ME] command's
postestimation entry lists.

* ``estat vce [, correlation]``: the VCE of the estimates (memodels' ``e(V)``, rows and
  columns named as ``res.vcov``: the variance components in the metric the table shows),
  or the correlations; kept in ``r(V)``.
* ``estat summarize [varlist]``: mean, standard deviation, minimum and maximum over the
  estimation sample of the dependent variable and the covariates; kept in ``r(stats)``.
* ``hausman consistent [efficient] [, constant alleqs df(#) sigmamore sigmaless]``:
  (b - B)'(V_b - V_B)^-1 (b - B) over the coefficients of the fixed effects the two
  stored estimates share (``_cons`` only with ``constant``), the generalized inverse and
  the rank as df when V_b - V_B is singular, as Stata computes it; ``sigmamore`` and
  ``sigmaless`` are refused (they need the models' residual variances rescaled).
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import OptionError
from ..output import numfmt
from ..syntax.options import OptionTable
from ..syntax.varlist import resolve_varlist
from .common import SessionError
from .parsing import arg, flag, parse_opts, split_options, to_int

if TYPE_CHECKING:
    from ..session import Session

VCE_OPTIONS = OptionTable([flag("correlation", 3), flag("covariance", 3), arg("format"),
                           flag("nolines")])
SUM_OPTIONS = OptionTable([flag("equation"), flag("labels"), flag("noheader"),
                           flag("noweights")])
HAUSMAN_OPTIONS = OptionTable([flag("constant", 4), flag("alleqs"), arg("df", 0, to_int),
                               flag("sigmamore"), flag("sigmaless"), flag("skipeqs")])


def _matrix_text(frame: pd.DataFrame, title: str, fmt: str | None) -> str:
    """A symmetric matrix as Stata lists it: the lower triangle, 6 columns per panel."""
    digits = 7
    if fmt:
        m = re.match(r"%-?\d*\.(\d+)[fg]", fmt)
        if m is None:
            raise OptionError(f"format({fmt}) invalid")
        digits = int(m.group(1))
    names = [str(c) for c in frame.columns]
    v = frame.to_numpy(float)
    lines = [title]
    for start in range(0, len(names), 6):
        cols = list(range(start, min(start + 6, len(names))))
        lines += ["", f"{'e(V)':>12} |" + "".join(f"{names[j][-11:]:>12}" for j in cols),
                  "-" * 13 + "+" + "-" * (12 * len(cols))]
        for i in range(start, len(names)):
            cells = [(f"{numfmt.g9(v[i, j]):>12}" if fmt is None else
                      f"{v[i, j]:>12.{digits}g}") if j <= i else " " * 12 for j in cols]
            lines.append(f"{names[i][-12:]:>12} |" + "".join(cells).rstrip())
    return "\n".join(lines)


def estat_vce(session: Session, options: str) -> str:
    """``estat vce [, correlation]``."""
    res = session.require_e()
    opts = parse_opts(options, VCE_OPTIONS, "estat vce")
    v = res.vcov
    if opts.get("correlation"):
        sd = np.sqrt(np.clip(np.diag(v.to_numpy(float)), 0, None))
        with np.errstate(divide="ignore", invalid="ignore"):
            corr = v.to_numpy(float) / np.outer(sd, sd)
        out = pd.DataFrame(corr, index=v.index, columns=v.columns)
        title = f"Correlation matrix of coefficients of {res.command} model"
    else:
        out = v.copy()
        title = f"Covariance matrix of coefficients of {res.command} model"
    session.r = {"V": out}
    return _matrix_text(out, title, opts.get("format"))


def _summary_vars(res: Any, data: pd.DataFrame) -> list[str]:
    names = [res.depvar] if str(res.depvar) in data.columns else []
    for col in res.fe_params.index:
        for part in str(col).split("#"):
            if part == "_cons":
                continue
            var = part[2:] if part.startswith("c.") else part.rsplit(".", 1)[-1]
            var = var.split(":")[-1]
            if var in data.columns and var not in names:
                names.append(var)
    return names


def estat_summarize(session: Session, rest: str) -> str:
    """``estat summarize [varlist]``."""
    res = session.require_e()
    data = session.require_data()
    body, options = split_options(rest)
    opts = parse_opts(options, SUM_OPTIONS, "estat summarize")
    if opts.get("equation"):
        raise OptionError("estat summarize, equation is not supported")
    design = getattr(res, "design", None)
    if design is None:
        raise SessionError(f"estat summarize is not available after {res.command}", 321)
    sample = data.loc[design.index]
    names = resolve_varlist(body, [str(c) for c in data.columns]) if body.strip() \
        else _summary_vars(res, data)
    rows = []
    for nm in names:
        x = pd.to_numeric(sample[nm], errors="coerce").to_numpy(float)
        rows.append([np.nanmean(x), np.nanstd(x, ddof=1), np.nanmin(x), np.nanmax(x)])
    table = pd.DataFrame(rows, index=names, columns=["mean", "sd", "min", "max"])
    session.r = {"stats": table}
    lines = []
    if not opts.get("noheader"):
        lines += ["", f"  Estimation sample {res.command:<23}Number of obs = {res.nobs:>10,}"]
    lines += ["", "  " + "-" * 61,
              f"  {'Variable':>12} |{'Mean':>13}{'Std. Dev.':>13}{'Min':>11}{'Max':>11}",
              "  " + "-" * 13 + "+" + "-" * 47]
    for nm, (mean, sd, lo, hi) in table.iterrows():
        lines.append(f"  {str(nm)[-12:]:>12} |{numfmt.g9(mean):>13}{numfmt.g9(sd):>13}"
                     f"{numfmt.g9(lo):>11}{numfmt.g9(hi):>11}")
    lines.append("  " + "-" * 61)
    return "\n".join(lines)


def _stored(session: Session, name: str) -> Any:
    if name == ".":
        return session.require_e()
    if name not in session.estimates:
        raise SessionError(f"estimation result {name} not found", 111)
    return session.estimates[name]


def hausman(session: Session, rest: str) -> str:
    """``hausman consistent [efficient] [, constant df(#)]``."""
    body, options = split_options(rest)
    opts = parse_opts(options, HAUSMAN_OPTIONS, "hausman")
    for bad in ("sigmamore", "sigmaless"):
        if opts.get(bad):
            raise OptionError(f"hausman, {bad} is not supported (it rescales the models' "
                              "residual variances); the default is")
    names = body.split()
    if not 1 <= len(names) <= 2:
        raise SessionError("hausman: syntax is hausman name-consistent [name-efficient]", 198)
    cons, eff = _stored(session, names[0]), _stored(session, names[1] if len(names) > 1
                                                     else ".")
    b1, b0 = cons.fe_params, eff.fe_params
    common = [k for k in b1.index if k in b0.index and (opts.get("constant")
                                                       or k != "_cons")]
    if not common:
        raise SessionError("hausman: the two estimates have no coefficients in common", 498)
    d = b1[common].to_numpy(float) - b0[common].to_numpy(float)
    v = cons.vcov.loc[common, common].to_numpy(float) - eff.vcov.loc[common, common] \
        .to_numpy(float)
    w, vecs = np.linalg.eigh((v + v.T) / 2)
    tol = max(abs(w).max(initial=0.0), 0.0) * 1e-10 * len(w)
    keep = np.abs(w) > tol
    rank = int(keep.sum())
    proj = vecs[:, keep].T @ d
    chi2 = float(np.sum(proj ** 2 / w[keep])) if rank else float("nan")
    df = int(opts.get("df", rank))
    p = float(stats.chi2.sf(chi2, df)) if rank and chi2 >= 0 else float("nan")
    session.r = {"chi2": chi2, "df": float(df), "p": p, "rank": float(rank)}
    n1 = names[0]
    n2 = names[1] if len(names) > 1 else "."
    lines = ["", f"{'':>17}---- Coefficients ----",
             f"{'':>12} |{'(b)':>12}{'(B)':>12}{'(b-B)':>14}{'sqrt(diag(V_b-V_B))':>22}",
             f"{'':>12} |{n1[-11:]:>12}{n2[-11:]:>12}{'Difference':>14}{'S.E.':>22}",
             "-" * 13 + "+" + "-" * 64]
    sd = np.diag(v)
    for k, name in enumerate(common):
        se = math.sqrt(sd[k]) if sd[k] > 0 else float("nan")
        lines.append(f"{name[-12:]:>12} |{numfmt.g9(b1[name]):>12}{numfmt.g9(b0[name]):>12}"
                     f"{numfmt.g9(d[k]):>14}{numfmt.g9(se) if se == se else '.':>22}")
    lines += ["-" * 78,
              "                           b = consistent under Ho and Ha; obtained from "
              f"{cons.command}",
              "            B = inconsistent under Ha, efficient under Ho; obtained from "
              f"{eff.command}", "",
              "    Test:  Ho:  difference in coefficients not systematic", "",
              f"                  chi2({df}) = (b-B)'[(V_b-V_B)^(-1)](b-B)",
              f"                          = {chi2:>10.2f}"]
    if chi2 < 0 or not rank:
        lines += ["                chi2<0 ==> model fitted on these data fails to meet the "
                  "asymptotic", "                assumptions of the Hausman test"]
    else:
        lines.append(f"                Prob>chi2 = {p:>10.4f}")
    if (w < -tol).any():
        lines.append("                (V_b-V_B is not positive definite)")
    return "\n".join(lines)


__all__ = ["estat_summarize", "estat_vce", "hausman"]
