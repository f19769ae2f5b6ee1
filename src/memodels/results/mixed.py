"""Results of ``mixed``: rows, tests and e()-style facts from an LMM fit ([ME] mixed)."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..design.types import Design
from ..lmm.fit import LMMFit
from ..optimize import numdiff
from .base import EstimationResults, LRTest
from .fixed_rows import fixed_rows
from .rows import ParamRow
from .varcomp import VarianceBlock, estmetric_names, residual_row, variance_rows


@dataclass(repr=False)
class MixedResults(EstimationResults):
    design: Design | None = None
    fit: LMMFit | None = None
    spec: Any = None

    @property
    def reml(self) -> bool:
        return bool(self.fit is not None and self.fit.reml)


def _blocks(design: Design, fit: LMMFit) -> list[VarianceBlock]:
    counts: dict[str, int] = {}
    for t in design.terms:
        counts[t.level] = counts.get(t.level, 0) + 1
    blocks, offset = [], 0
    for et in fit.terms:
        dt = design.terms[et.source]
        s = et.structure
        names = dt.names
        kind = s.kind.capitalize()
        header = f"{dt.level}: {kind}"
        if counts[dt.level] > 1 or (s.kind == "identity" and len(names) > 1):
            header += f" ({' '.join(names)})"
        blocks.append(VarianceBlock(s, tuple(names), dt.path, header, offset))
        offset += len(s.phi_names())
    return blocks


def build_mixed_results(
    design: Design, fit: LMMFit, *, cmdline: str, options: dict[str, Any], spec: Any = None
) -> MixedResults:
    stddev = bool(options.get("stddeviations"))
    level = float(options.get("level", 95) or 95)
    frows = fixed_rows(design, fit.beta)
    blocks = _blocks(design, fit)
    vrows, jac = variance_rows(blocks, fit.phi, stddev)
    if fit.resid is None:
        rrow, rgrad = residual_row(fit.phi, fit.phi.size - 1, stddev)
        rrows, rjac = [rrow], rgrad[None, :]
    else:
        rrows, rjac = residual_structure_rows(fit)
    jac = np.vstack([jac, rjac]) if jac.size else rjac
    v_rep = jac @ fit.vcov_phi @ jac.T
    se_rep = np.sqrt(np.clip(np.diag(v_rep), 0, None))
    for r, se in zip(vrows + rrows, se_rep, strict=True):
        r.se = float(se)
    se_b = np.sqrt(np.clip(np.diag(fit.vcov_beta), 0, None))
    ok = [r for r in frows if r.status == "ok"]
    for r, se in zip(ok, se_b, strict=True):
        r.se = float(se)
    nb = len(ok)
    k = nb + v_rep.shape[0]
    vmat = np.zeros((k, k))
    vmat[:nb, :nb] = fit.vcov_beta
    vmat[nb:, nb:] = v_rep

    # Wald test of all fixed effects but the constant
    keep = [i for i, r in enumerate(ok) if r.name != "_cons"]
    wald = None
    if keep:
        b = fit.beta[keep]
        v = fit.vcov_beta[np.ix_(keep, keep)]
        try:
            wald = (float(b @ np.linalg.solve(v, b)), len(keep))
        except np.linalg.LinAlgError:  # a singular VCE: chi2 is missing
            wald = (np.nan, len(keep))
    else:
        wald = (np.nan, 0)

    n_var = sum(s.structure.n_params for s in fit.terms) + fit.n_resid
    lr = None
    if n_var > 0 and not options.get("nolrtest"):
        stat = max(2.0 * (fit.llf - fit.ll_linear), 0.0)
        only_resid = fit.n_resid and not fit.terms
        kind = "chibar2(01)" if n_var == 1 and not only_resid else f"chi2({n_var})"
        note = BOUNDARY_NOTE if only_resid else None
        lr = LRTest("LR test vs. linear model", kind, stat, n_var, note)

    title = "Mixed-effects REML regression" if fit.reml else "Mixed-effects ML regression"
    ll_label = "Log restricted-likelihood" if fit.reml else "Log likelihood"
    resid_names = [f"rho{i + 1}" for i in range(fit.n_resid)]
    est_names = [r.name for r in ok] + _estmetric_names(blocks) + resid_names + ["lnsig_e"]
    est_vals = np.concatenate([fit.beta, fit.phi])
    est_v = np.zeros((est_vals.size, est_vals.size))
    est_v[:nb, :nb] = fit.vcov_beta
    est_v[nb:, nb:] = fit.vcov_phi
    res = MixedResults(
        command="mixed",
        cmdline=cmdline,
        title=title,
        depvar=design.depvar,
        nobs=design.nobs,
        llf=float(fit.llf),
        ll_label=ll_label,
        rows=frows + vrows + rrows,
        vcov_matrix=vmat,
        levels=design.levels,
        converged=fit.converged,
        iterations=fit.iterations,
        n_params=nb + n_var + 1,  # + sigma_e
        wald=wald,
        lr_test=lr,
        level=level,
        notes=list(design.notes),
        warnings=list(fit.messages),
        options=dict(options),
        estmetric=pd.Series(est_vals, index=est_names),
        estmetric_vcov=pd.DataFrame(est_v, index=est_names, columns=est_names),
        n_dropped=design.n_dropped,
        design=design,
        fit=fit,
        spec=spec,
    )
    if any(fit.boundary):
        res.warnings.append("a variance component is at the boundary of the parameter space (0)")
    return res


BOUNDARY_NOTE = (
    "Note: The reported degrees of freedom assumes the null hypothesis is not on the "
    "boundary of the parameter space.  If this is not true, then the reported test is "
    "conservative."
)


def residual_structure_rows(fit: LMMFit) -> tuple[list[ParamRow], np.ndarray]:
    """Rows of a residuals() structure and their Jacobian with respect to phi."""
    resid = fit.resid
    k0 = fit.phi.size - 1 - fit.n_resid

    def values(ph: np.ndarray) -> np.ndarray:
        return np.array([v for _, _, v, _ in resid.reported(ph[k0:-1], ph[-1])])

    rows = [
        ParamRow(name=name, section="residual", label=label, block=resid.header,
                 estimate=value, ci_rule=rule)
        for label, name, value, rule in resid.reported(fit.phi[k0:-1], fit.phi[-1])
    ]
    jac = numdiff.jacobian(values, fit.phi, rel=1e-7).reshape(len(rows), fit.phi.size)
    return rows, jac


def _estmetric_names(blocks: list[VarianceBlock]) -> list[str]:
    return [n for blk in blocks for n in estmetric_names(blk.structure, blk.effect_names,
                                                         blk.path)]


DDF_ALIASES = {"kroger": "kenwardroger", "kenwardroger": "kenwardroger",
               "satterthwaite": "satterthwaite", "residual": "residual",
               "repeated": "repeated", "anova": "anova"}


def apply_ddf(res: MixedResults, spec: str) -> None:
    """dfmethod(): t reference distributions for the fixed effects, an F model test, and
    Kenward-Roger-adjusted standard errors in the (small-sample) table ([ME] mixed, Methods
    and formulas); ``res.vcov`` stays the conventional e(V), ``ddf.vcov`` is e(V_df)."""
    from ..errors import OptionError
    from ..lmm.ddf import compute_ddf

    name, _, sub = spec.partition(",")
    method = DDF_ALIASES.get(name.strip().lower())
    if method is None:
        raise OptionError(f"dfmethod({spec}) invalid")
    ddf = compute_ddf(res.fit, res.design, method, oim="oim" in sub.lower())
    if "large_sample" not in res.extra:
        res.extra["large_sample"] = ([copy.copy(r) for r in res.rows], res.vcov_matrix.copy())
    ok = [r for r in res.rows if r.section == "fixed" and r.status == "ok"]
    se = np.sqrt(np.clip(np.diag(ddf.vcov), 0, None))
    for r, d, s in zip(ok, ddf.df, se, strict=True):
        r.df = float(d)
        r.se = float(s)
    # e(V) stays the conventional VCE (large-sample test, lincom, margins); Kenward-Roger's
    # adjusted one is Stata's e(V_df), used by the small-sample display and tests
    res.extra["ddf"] = ddf
    res.extra["dfmethod"] = ddf.title


def large_sample_view(res: MixedResults) -> MixedResults:
    """The results as displayed by plain ``mixed`` on replay after ``dfmethod()``: "we can
    obtain large-sample results upon replay by default" ([ME] mixed, example 13) -- z
    statistics, the Wald chi2 model test and the conventional (not Kenward-Roger
    adjusted) standard errors.  A display copy; ``res`` is unchanged."""
    stash = (res.extra or {}).get("large_sample")
    if stash is None:
        return res
    rows, vmat = stash
    new = copy.copy(res)
    new.rows = [copy.copy(r) for r in rows]
    new.vcov_matrix = vmat.copy()
    new.extra = {k: v for k, v in res.extra.items()
                 if k not in ("ddf", "dfmethod", "large_sample")}
    new.options = {k: v for k, v in res.options.items() if k not in ("dfmethod", "dftable")}
    return new
