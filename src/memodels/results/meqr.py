"""Results of ``meqrlogit`` / ``meqrpoisson``: Stata's QR-decomposition commands print the
random effects as ``mixed`` does (``id: Identity`` blocks, variances and covariances by
default, standard deviations and correlations with ``stddeviations``) and store e(b) in
the log-sd / atanh metric ([ME] meqrlogit, Stored results and Methods and formulas).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..design.types import Design
from ..glmm.types import GLMMFit
from .base import LRTest
from .fixed_rows import fixed_rows
from .glmm import GLMMResults
from .varcomp import VarianceBlock, variance_rows

TITLES = {"meqrlogit": "Mixed-effects logistic regression",
          "meqrpoisson": "Mixed-effects Poisson regression"}
LR_LABELS = {"meqrlogit": "LR test vs. logistic regression",
             "meqrpoisson": "LR test vs. Poisson regression"}


class MeqrResults(GLMMResults):
    """GLMM results (predict, estat) shown in the mixed-style layout of the meqr commands."""

    def summary(self) -> str:
        from ..output.stata_text import render

        return render(self)

    def margins_prediction(self, predict: str | None):
        """After meqrlogit/meqrpoisson margins predicts ``xb`` only ([ME] meqrlogit
        postestimation, Syntax for margins: mu is "not allowed with margins")."""
        from ..errors import OptionError

        stat = (predict or "xb").strip().lower()
        if stat != "xb":
            raise OptionError(f"margins after {self.command}: predict({predict}) not allowed "
                              "(xb, the linear predictor for the fixed portion, is)")
        return None


def build_meqr_results(design: Design, fit: GLMMFit, *, command: str, cmdline: str,
                       options: dict[str, Any], notes: list[str] | None = None,
                       family_obj: Any = None) -> MeqrResults:
    stddev = bool(options.get("stddeviations"))  # variances are the default ([ME] meqrlogit)
    level = float(options.get("level", 95) or 95)
    nb = fit.n_beta
    frows = fixed_rows(design, fit.beta)
    ok = [r for r in frows if r.status == "ok"]
    se = np.sqrt(np.clip(np.diag(fit.vcov), 0, None))
    for r, s in zip(ok, se[:nb], strict=True):
        r.se = float(s)
    counts: dict[str, int] = {}
    for t in design.terms:
        counts[t.level] = counts.get(t.level, 0) + 1
    blocks, offset = [], 0
    for st, src in zip(fit.structures, fit.term_sources, strict=True):
        dt = design.terms[src]
        header = f"{dt.level}: {st.kind.capitalize()}"
        if counts[dt.level] > 1 or (st.kind == "identity" and len(dt.names) > 1):
            header += f" ({' '.join(dt.names)})"
        blocks.append(VarianceBlock(st, tuple(dt.names), dt.path, header, offset))
        offset += len(st.phi_names())
    phi = fit.phi
    vrows, jac = variance_rows(blocks, phi, stddev)
    v_phi = fit.vcov_phi
    v_rep = jac @ v_phi @ jac.T if jac.size else np.zeros((0, 0))
    for r, s in zip(vrows, np.sqrt(np.clip(np.diag(v_rep), 0, None)), strict=True):
        r.se = float(s)
    k = nb + v_rep.shape[0]
    vmat = np.zeros((k, k))
    vmat[:nb, :nb] = fit.vcov_beta
    vmat[nb:, nb:] = v_rep
    keep = [i for i, r in enumerate(ok) if r.name != "_cons"]
    wald = (np.nan, 0)
    if keep:
        b = fit.beta[keep]
        try:  # as results.glmm: a singular VCE (e.g. separation) leaves the test missing
            wald = (float(b @ np.linalg.solve(fit.vcov_beta[np.ix_(keep, keep)], b)),
                    len(keep))
        except np.linalg.LinAlgError:
            wald = (np.nan, len(keep))
    n_var = sum(s.n_params for s in fit.structures)
    lr = None
    if n_var and not options.get("nolrtest"):
        stat = max(2.0 * (fit.llf - fit.ll_fixed), 0.0)
        lr = LRTest(LR_LABELS[command], "chibar2(01)" if n_var == 1 else f"chi2({n_var})",
                    stat, n_var)
    est_names = [r.name for r in ok] + [
        f"{'lnsd' if kind == 'lnsd' else 'atanh'}({blk.effect_names[i]}[{blk.path}])"
        if kind == "lnsd" else f"atanh({blk.effect_names[j]},{blk.effect_names[i]}[{blk.path}])"
        for blk in blocks for kind, i, j in blk.structure.phi_names()
    ]
    extra = {"integration_line": _integration_line(fit), "fit": fit}
    res = MeqrResults(
        command=command, cmdline=cmdline, title=TITLES[command], depvar=design.depvar,
        nobs=design.nobs, llf=float(fit.llf), ll_label="Log likelihood", rows=frows + vrows,
        vcov_matrix=vmat, levels=design.levels, converged=fit.converged,
        iterations=fit.iterations, n_params=nb + n_var, wald=wald, lr_test=lr, level=level,
        notes=list(design.notes) + list(notes or []), warnings=list(fit.messages),
        options=dict(options),
        estmetric=pd.Series(fit.params, index=est_names),
        estmetric_vcov=pd.DataFrame(fit.vcov, index=est_names, columns=est_names),
        n_dropped=design.n_dropped, extra=extra,
        design=design, fit=fit, family="bernoulli" if command == "meqrlogit" else "poisson",
        link="logit" if command == "meqrlogit" else "log", intmethod=fit.intmethod,
        intpoints=fit.intpoints, ll_fixed=float(fit.ll_fixed), family_obj=family_obj,
        offset="exposure" if options.get("exposure") else (
            "offset" if options.get("offset") else None),
        offset_var=options.get("exposure") or options.get("offset") or None,
    )
    if command == "meqrlogit" and options.get("binomial"):
        res.family = "binomial"
        res.binomial_var = str(options["binomial"])
    if any(fit.boundary):
        res.warnings.append("a variance component is at the boundary of the parameter space (0)")
    return res


def _integration_line(fit: GLMMFit) -> str:
    if fit.intmethod == "laplace":
        return "Integration points =   1"
    return f"Integration points = {fit.intpoints:>3}"
