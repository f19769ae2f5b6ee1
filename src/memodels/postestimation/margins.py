"""``margins``: average predictions and average marginal effects with delta-method standard
errors ([R] margins; [ME] mixed, meglm, meqrlogit postestimation, Syntax for margins):
``xb`` after ``mixed`` and the meqr commands; after the me commands ``mu`` integrated over
the random effects ("Option marginal is assumed where applicable if
conditional(fixedonly) is not specified"; ``predict="mu fixedonly"`` for the fixed
portion), after meologit/meoprobit every outcome's probability
(:mod:`memodels.postestimation.margins_glmm`).

``res.margins(at={"x": [1, 2, 3]}, over="g", dydx="x")``:

* predictions are averaged over the estimation sample with the ``at()`` values substituted
  (a dict: every combination of the listed values, as ``at(x=(1 2 3) z=(0 1))``);
* ``over=``: separate averages within the groups of a variable;
* ``dydx=``: the average derivative of the prediction with respect to a continuous
  covariate (exact for the linear index, with the link's derivative for mu), or, for a
  factor variable ``"i.f"`` or a categorical column, the average discrete change from the
  base level for each level;
* standard errors by the delta method from the coefficients' VCE.

After the me commands and ``mestreg`` the prediction is the results' own
(``margins_prediction``; after mestreg mean or median survival time, marginal over the
random effects: :mod:`memodels.postestimation.margins_survival`), with the delta method
over all of e(b).

:func:`memodels.plot.marginsplot` draws the margins against the first ``at()`` variable
with their confidence intervals.
"""

from __future__ import annotations

import functools
import itertools
import re
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import OptionError
from ..lmm.centering import centred_quadratic
from .frame import fixed_matrix


def margins(res, *, data: pd.DataFrame | None = None, at: dict[str, Any] | None = None,
            over: str | None = None, dydx: str | None = None, predict: str | None = None,
            level: float | None = None, subset: Any = None,
            elasticity: str | None = None) -> pd.DataFrame:
    """The margins table (see the module docstring); ``subset`` (a boolean array or
    Series over the rows of ``data``: ``margins if/in``) restricts the observations
    averaged to those of the estimation sample it selects.  ``elasticity`` with
    ``dydx``: ``"eyex"`` averages (dy/dx)(x/y), ``"dyex"`` (dy/dx) x and ``"eydx"``
    (dy/dx)/y over the observations ([R] margins, eyex()/dyex()/eydx()), for the linear
    prediction (after mixed and the meqr commands, or ``predict(xb)``)."""
    # a results class may supply its own prediction (mestreg: mean/median survival time,
    # marginal over the random effects): an object with average(), vcov and expression
    hook = getattr(res, "margins_prediction", None)
    custom = hook(predict) if hook is not None else None
    if custom is None and predict not in (None, "xb"):
        raise OptionError(f"margins after {res.command}: predict({predict}) not allowed "
                          "(xb, the linear prediction of the fixed portion, is)")
    design = res.design
    if data is None:
        raise OptionError("margins needs the estimation data: margins(data=df)")
    sample = data.loc[design.index]
    beta = res.fit.beta
    vb = np.asarray(res.vcov_matrix)[: beta.size, : beta.size]
    if custom is not None:
        vb = custom.vcov
    offset = None
    off_var = getattr(res, "offset_var", None)
    if off_var and off_var in sample.columns:
        vals = sample[off_var].to_numpy(float)
        offset = np.log(vals) if getattr(res, "offset", None) == "exposure" else vals
    lev = res.level if level is None else level
    crit = float(stats.norm.ppf(0.5 + lev / 200))

    at_rows = [{}]
    if at:
        keys = list(at)
        unknown = [k for k in keys if k not in sample.columns]
        if unknown:
            raise OptionError(f"margins: at(): variable {unknown[0]} not found")
        values = [np.atleast_1d(at[k]).tolist() for k in keys]
        at_rows = [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*values)]
    keep = np.ones(len(sample), bool)
    if subset is not None:
        keep = np.asarray(pd.Series(np.asarray(subset, dtype=bool), index=data.index)
                          .loc[design.index], dtype=bool)
        if not keep.any():
            raise OptionError("margins: no observations (if/in selects none of the "
                              "estimation sample)")
    groups = [(None, keep)]
    if over is not None:
        codes = sample[over]
        groups = [(g, (codes == g).to_numpy() & keep)
                  for g in sorted(codes[keep].dropna().unique())]

    def average(pred, frame: pd.DataFrame, mask: np.ndarray) -> tuple[float, np.ndarray]:
        if pred is not None:
            return pred.average(frame, mask, offset)
        x = fixed_matrix(design, frame)[mask]  # xb (mixed, meqr): exact gradient
        off = None if offset is None else offset[mask]
        eta = x @ beta + (0.0 if off is None else off)
        return float(eta.mean()), x.mean(0)

    # after meologit/meoprobit without outcome(): every outcome's probability
    outcomes = getattr(custom, "ordinal_outcomes", None)
    predictions = ([(k + 1, custom.for_outcome(k)) for k in outcomes] if outcomes
                   else [(None, custom)])
    # the linear prediction at many at() values: X for a batch of at() rows at once
    batched = (_xb_means(design, sample, at_rows, [m for _, m in groups])
               if custom is None and dydx is None and len(at_rows) > 1 else None)
    rows = []
    for (outcome, pred), (ai, at_vals), (gi, (gname, mask)) in itertools.product(
            predictions, enumerate(at_rows), enumerate(groups)):
        average_of = functools.partial(average, pred)
        label = {**({"outcome": outcome} if outcome is not None else {}), **at_vals,
                 **({over: gname} if over is not None else {})}
        if batched is not None:
            xbar = batched[gi][ai]
            off = 0.0 if offset is None else float(offset[mask].mean())
            rows.append({**label, "margin": float(xbar @ beta + off), "_grad": xbar})
            continue
        frame = sample.assign(**at_vals) if at_vals else sample
        if dydx is None:
            m, grad = average_of(frame, mask)
            rows.append({**label, "margin": m, "_grad": grad})
            continue
        var = dydx[2:] if dydx.startswith("i.") else dydx
        col = frame[var]
        if elasticity is not None and pred is not None:
            raise OptionError(f"margins, {elasticity}() is supported for the linear "
                              "prediction (xb) only")
        is_factor = dydx.startswith("i.") or not pd.api.types.is_numeric_dtype(col) or \
            _enters_as_factor(var, design)
        if is_factor and elasticity is not None:
            raise OptionError(f"margins, {elasticity}(): {var} is a factor variable; "
                              "elasticities are for continuous covariates")
        if is_factor:
            levels = sorted(col.dropna().unique())
            base_m, base_g = average_of(frame.assign(**{var: levels[0]}), mask)
            for lv in levels[1:]:
                m, g = average_of(frame.assign(**{var: lv}), mask)
                rows.append({**label, "term": f"{lv}.{var}", "margin": m - base_m,
                             "_grad": g - base_g})
        elif elasticity is not None:
            rows.append({**label, "term": var,
                         **_elasticity(elasticity, design, frame, var, mask, beta, offset)})
        else:
            vals = col.to_numpy(float)
            h = 1e-5 * max(float(np.nanstd(vals)), 1.0)
            if custom is None:  # xb is at most quadratic in a covariate: the central
                # difference is exact for any step, and a step beyond the rounding of
                # x + 1e9 keeps it so (1e-5 sd would lose three digits there)
                h = max(h, 1e-5 * float(np.nanmax(np.abs(vals), initial=0.0)))
            up_m, up_g = average_of(frame.assign(**{var: col + h}), mask)
            dn_m, dn_g = average_of(frame.assign(**{var: col - h}), mask)
            rows.append({**label, "term": var, "margin": (up_m - dn_m) / (2 * h),
                         "_grad": (up_g - dn_g) / (2 * h)})
    out = pd.DataFrame(rows)
    grads = np.vstack(out.pop("_grad").to_numpy())
    if custom is None:  # mixed with x + 1e9: the delta method in the centred metric
        grads, vb = centred_quadratic(res.fit, grads, vb)
    se = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", grads, vb, grads), 0, None))
    out["se"] = se
    out["z"] = out["margin"] / se
    out["p"] = 2 * stats.norm.sf(np.abs(out["z"]))
    out["ci_lower"] = out["margin"] - crit * se
    out["ci_upper"] = out["margin"] + crit * se
    # the joint VCE of the margins, J V J' (K x K for K margins), kept as its factors:
    # a K x K matrix in attrs is deep-copied by every pandas operation on the table
    # (each row iterated), which made many at() values cost O(K^3)
    out.attrs["vcov"] = JointVCE(grads, vb)
    out.attrs["level"] = lev
    out.attrs["expression"] = (custom.expression if custom is not None
                               else "Linear prediction, fixed portion")
    return out


def _elasticity(kind: str, design, frame: pd.DataFrame, var: str, mask: np.ndarray,
                beta: np.ndarray, offset: np.ndarray | None) -> dict[str, Any]:
    """The average elasticity of the linear prediction and its gradient in beta."""
    col = pd.to_numeric(frame[var], errors="coerce")
    h = 1e-5 * max(float(np.nanstd(col.to_numpy(float))), 1.0)
    x0 = fixed_matrix(design, frame)[mask]
    dx = (fixed_matrix(design, frame.assign(**{var: col + h}))[mask]
          - fixed_matrix(design, frame.assign(**{var: col - h}))[mask]) / (2 * h)
    eta = x0 @ beta + (0.0 if offset is None else offset[mask])
    v = col.to_numpy(float)[mask]
    d = dx @ beta
    if kind == "dyex":
        return {"margin": float(np.mean(v * d)), "_grad": (v[:, None] * dx).mean(0)}
    with np.errstate(divide="ignore", invalid="ignore"):
        per = dx / eta[:, None] - (d / eta ** 2)[:, None] * x0
        if kind == "eydx":
            return {"margin": float(np.mean(d / eta)), "_grad": per.mean(0)}
        return {"margin": float(np.mean(v * d / eta)), "_grad": (v[:, None] * per).mean(0)}


def fixed_variables(design) -> list[str]:
    """The data columns the fixed-effects columns are computed from."""
    names: list[str] = []
    for col in design.columns:
        for part in col.name.split("#"):
            if part == "_cons":
                continue
            var = part[2:] if part.startswith("c.") else part.rsplit(".", 1)[-1]
            names.append(var)
    return list(dict.fromkeys(names))


def _xb_means(design, sample: pd.DataFrame, at_rows: list[dict], masks: list[np.ndarray],
              batch_cells: int = 400_000) -> list[np.ndarray]:
    """For each group mask, the (K x p) averages of the fixed-effects row x over the
    masked observations at each of the K at() settings: the margin of xb is
    ``xbar @ beta`` and its delta-method gradient is ``xbar``.  The at() settings are
    evaluated in batches of stacked copies of the sample (about ``batch_cells``
    observations at a time), so the work and memory are linear in K."""
    n = len(sample)
    keys = list(at_rows[0])
    wanted = [v for v in fixed_variables(design) if v in sample.columns]
    base = sample[wanted].reset_index(drop=True)
    step = max(1, batch_cells // max(n, 1))
    parts: list[list[np.ndarray]] = [[] for _ in masks]
    for start in range(0, len(at_rows), step):
        chunk = at_rows[start:start + step]
        big = base.iloc[np.tile(np.arange(n), len(chunk))].reset_index(drop=True)
        big = big.assign(**{k: np.repeat(pd.Series([r[k] for r in chunk]).to_numpy(), n)
                            for k in keys})
        x = fixed_matrix(design, big).reshape(len(chunk), n, -1)
        for gi, mask in enumerate(masks):
            parts[gi].append(x[:, mask, :].mean(axis=1))
    return [np.vstack(p) for p in parts]


class JointVCE:
    """The delta-method covariance of the margins, ``J V J'``, from the Jacobian ``J``
    (one row per margin) and the VCE ``V`` of e(b): ``np.asarray(vce)`` or
    :attr:`matrix` forms the K x K matrix on request; :meth:`block` gives the rows and
    columns of some margins.  Immutable, so copying a table shares it."""

    def __init__(self, jacobian: np.ndarray, vcov: np.ndarray) -> None:
        self.jacobian = np.asarray(jacobian, dtype=float)
        self.vcov = np.asarray(vcov, dtype=float)
        self.jacobian.setflags(write=False)
        self.vcov.setflags(write=False)

    @property
    def shape(self) -> tuple[int, int]:
        k = self.jacobian.shape[0]
        return (k, k)

    @property
    def matrix(self) -> np.ndarray:
        return self.jacobian @ self.vcov @ self.jacobian.T

    def block(self, rows) -> np.ndarray:
        j = self.jacobian[np.asarray(rows)]
        return j @ self.vcov @ j.T

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        m = self.matrix
        return m if dtype is None else m.astype(dtype)

    def __deepcopy__(self, memo) -> JointVCE:
        return self

    def __copy__(self) -> JointVCE:
        return self

    def __repr__(self) -> str:
        return f"JointVCE({self.shape[0]} margins)"


def _enters_as_factor(var: str, design) -> bool:
    """True when ``var`` enters some fixed-effects column as a factor (``2.var``,
    ``1b.var#c.x``), not only as a continuous variable (``c.var``, ``1.f#c.var``)."""
    pat = re.compile(rf"^\d+[a-z]*\.{re.escape(var)}$")
    return any(pat.match(part) for c in design.columns for part in c.name.split("#"))
