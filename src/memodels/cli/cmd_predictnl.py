"""``predictnl`` in a session ([R] predictnl): a nonlinear function of the linear
prediction and the coefficients, with delta-method standard errors per observation.

    predictnl newvar = exp [if] [in] [, se(newvar) variance(newvar) ci(lo hi) p(newvar)
                                        level(#)]

``exp`` may use ``xb()`` (or ``predict(xb)``: the linear prediction of the fixed portion),
``_b[name]`` of the fixed-effects coefficients, variables and Stata's functions.  The
gradient of ``exp`` with respect to the fixed effects is taken by central differences;
variance = g V g' with V the fixed effects' VCE; ``p()`` is the two-sided normal p-value
of exp / se, ``ci()`` the normal confidence interval.  Predictions of ``mu``, ``pr`` and
the random effects depend on the variance components and are refused with a message.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import OptionError
from ..postestimation.frame import fixed_matrix
from ..syntax.expressions import evaluate, parse_expression
from ..syntax.options import OptionTable
from .common import SessionError
from .parsing import LEVEL, NAME_RX, arg, flag, parse_opts, qualifier_mask, split_qualifiers

if TYPE_CHECKING:
    from ..session import Session

OPTIONS = OptionTable([arg("se"), arg("variance", 3), arg("ci"), arg("p"), LEVEL,
                       flag("force"), arg("g")])
_ASSIGN = re.compile(r"^\s*(?:(?:byte|int|long|float|double)\s+)?([A-Za-z_]\w*)\s*=(?!=)(.*)$",
                     re.DOTALL)
_XB = re.compile(r"\bxb\(\s*\)|\bpredict\(\s*xb\s*\)")
_PREDICT = re.compile(r"\bpredict\(([^()]*)\)")
_B = re.compile(r"(?<![\w.])_b\[([^\]]+)\]")


def _coefficient(name: str, names: list[str]) -> int:
    key = name.strip()
    for cand in (key, key.split(":", 1)[-1]):
        if cand in names:
            return names.index(cand)
    raise SessionError(f"predictnl: _b[{name}] is not a fixed-effects coefficient of the "
                       "model (predictnl takes the fixed effects' coefficients)", 111)


def predictnl(session: Session, rest: str) -> str:
    """``predictnl newvar = exp [if] [in] [, se() variance() ci() p() level()]``."""
    res = session.require_e()
    data = session.require_data()
    m = _ASSIGN.match(rest)
    if m is None:
        raise SessionError("predictnl: syntax is predictnl newvar = exp [if] [in] [, ...]")
    name = m.group(1)
    parts = split_qualifiers(m.group(2))
    opts = parse_opts(parts.options, OPTIONS, "predictnl")
    if opts.get("g") is not None:
        raise OptionError("predictnl, g() is not supported")
    new = [name]
    for key in ("se", "variance", "p"):
        if opts.get(key):
            new.append(str(opts[key]).strip())
    if opts.get("ci"):
        ci = str(opts["ci"]).split()
        if len(ci) != 2:
            raise OptionError("predictnl, ci(): two new variable names required")
        new += ci
    for nm in new:
        if not NAME_RX.match(nm):
            raise SessionError(f"{nm} invalid name", 198)
        if nm in data.columns:
            raise SessionError(f"variable {nm} already defined", 110)
    expr = parts.body
    if not expr.strip():
        raise SessionError("predictnl: expression required after =")
    pm = _PREDICT.search(_XB.sub("", expr))
    if pm is not None:
        raise OptionError(f"predictnl: predict({pm.group(1).strip()}) is not supported; "
                          "xb() (the linear prediction of the fixed portion) and _b[] are")
    design = getattr(res, "design", None)
    if design is None or getattr(res, "fit", None) is None:
        raise SessionError(f"predictnl is not available after {res.command}", 321)
    beta = np.asarray(res.fit.beta, dtype=float)
    names = [str(k) for k in res.fe_params.index]
    if len(names) != beta.size:
        raise SessionError("predictnl: the fixed effects could not be matched to e(b)", 498)
    vb = np.asarray(res.vcov_matrix, dtype=float)[: beta.size, : beta.size]
    x = fixed_matrix(design, data)
    refs: dict[str, int] = {}

    def sub_b(mm: re.Match[str]) -> str:
        k = _coefficient(mm.group(1), names)
        col = f"__pnl_b{k}"
        refs[col] = k
        return col

    text = _B.sub(sub_b, _XB.sub("__pnl_xb", expr))
    columns = [str(c) for c in data.columns] + ["__pnl_xb", *refs]
    node = parse_expression(text, columns)

    def value(b: np.ndarray) -> np.ndarray:
        frame = data.assign(__pnl_xb=x @ b, **{c: b[k] for c, k in refs.items()})
        out = np.asarray(evaluate(node, frame))
        if out.dtype == object:
            raise SessionError("type mismatch: predictnl requires a numeric expression", 109)
        return out.astype(float)

    f0 = value(beta)
    grads = np.empty((len(f0), beta.size))
    for k in range(beta.size):
        h = 1e-6 * max(abs(beta[k]), 1.0)
        up, dn = beta.copy(), beta.copy()
        up[k] += h
        dn[k] -= h
        grads[:, k] = (value(up) - value(dn)) / (2 * h)
    var = np.einsum("ij,jk,ik->i", grads, vb, grads)
    se = np.sqrt(np.clip(var, 0, None))
    mask = qualifier_mask(data, parts)
    lev = float(opts.get("level", res.level))
    crit = float(stats.norm.isf((1 - lev / 100) / 2))
    out: dict[str, Any] = {name: f0}
    if opts.get("se"):
        out[str(opts["se"]).strip()] = se
    if opts.get("variance"):
        out[str(opts["variance"]).strip()] = var
    if opts.get("p"):
        with np.errstate(divide="ignore", invalid="ignore"):
            out[str(opts["p"]).strip()] = 2 * stats.norm.sf(np.abs(f0 / se))
    if opts.get("ci"):
        lo, hi = str(opts["ci"]).split()
        out[lo], out[hi] = f0 - crit * se, f0 + crit * se
    notes = []
    for nm, values in out.items():
        col = np.where(mask & np.isfinite(values), values, np.nan)
        data[nm] = pd.Series(col, index=data.index)
        missing = int(np.isnan(col).sum())
        if missing:
            notes.append(f"({missing:,} missing value{'s' if missing != 1 else ''} "
                         "generated)")
    return "\n".join(dict.fromkeys(notes))


__all__ = ["predictnl"]
