"""Results of the GLMM commands (meglm, melogit, meprobit, mecloglog, mepoisson, menbreg).

Rows and tests as Stata 14's me commands print them ([ME] meglm, [ME] melogit, ...):

* one coefficient table: fixed effects, the offset/exposure line (``ln(expected)  1
  (exposure)``), ancillary parameters in the estimation metric (``/lnalpha``,
  ``/lndelta``; with z and p), then the random effects by level path (``district``,
  ``school>class``, ``_all>male``): every effect's variance ``var(urban)``, then the
  covariances ``cov(urban,_cons)`` (with z and p) in a block of their own, and for the
  Gaussian family the residual variance ``var(e.depvar)``;
* parameter names as Stata's e(b): ``var(_cons[district])``, ``cov(urban,_cons[district])``,
  ``var(_cons[school>class])``, ``var(_cons[_all>male])``, ``/lnalpha``, ``var(e.weight)``;
* Wald chi2 of every fixed effect but ``_cons``; LR test against the fixed-effects model
  ("LR test vs. logistic model", ...) with 2 (ll - ll_fixed), chibar2(01) for one
  variance parameter, else chi2(k) with the conservative note.

``params``/``bse``/``vcov`` are in the reporting metric: fixed effects on the b scale
(``or``/``irr``/``eform`` change the display only), ancillary parameters as estimated,
variances and covariances with delta-method standard errors from the engine's
ln sd / atanh corr metric (:class:`memodels.glmm.types.GLMMFit`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..design.types import Design
from ..glmm.types import GLMMFit
from .base import EstimationResults, LRTest
from .constrained import constrained_wald, mark_constrained
from .fixed_rows import fixed_rows
from .rows import ParamRow
from .varcomp import estmetric_names as phi_names

TITLES = {
    "meglm": "Mixed-effects GLM",
    "melogit": "Mixed-effects logistic regression",
    "meprobit": "Mixed-effects probit regression",
    "mecloglog": "Mixed-effects cloglog regression",
    "mepoisson": "Mixed-effects Poisson regression",
    # the manual prints "nbinoomial" (L5769, L5867); read as a typo
    "menbreg": "Mixed-effects nbinomial regression",
}

FAMILY_LABELS = {
    "gaussian": "Gaussian",
    "bernoulli": "Bernoulli",
    "binomial": "binomial",
    "poisson": "Poisson",
    "nbinomial": "nbinomial",
    "gamma": "gamma",
    "ordinal": "ordinal",
}

EFORM_LABELS = {"or": "Odds Ratio", "irr": "IRR", "eform": "exp(b)"}
EFORM_OPTIONS = ("or", "irr", "eform")


def lr_reference_model(family: str, link: str) -> str:
    """The model named in "LR test vs. ... model" ([ME] melogit, meglm, mepoisson, ...)."""
    if family in ("bernoulli", "binomial"):
        return {"logit": "logistic"}.get(link, link)
    if family == "ordinal":
        return "o" + link
    if family == "gaussian" and link == "identity":
        return "linear"
    return FAMILY_LABELS.get(family, family)


@dataclass
class MERow(ParamRow):
    """A row of the me commands' single table.  ``show_z``: z and P>|z| are printed
    (ancillary parameters and covariances, not variances).  ``part`` separates the
    variance and covariance blocks of the same level ("var"/"cov")."""

    show_z: bool = False
    part: str = ""

    @property
    def z(self) -> float:
        if self.show_z and self.status == "ok" and self.se > 0:
            return self.estimate / self.se
        return ParamRow.z.fget(self)


@dataclass(repr=False)
class GLMMResults(EstimationResults):
    design: Design | None = None
    fit: GLMMFit | None = None
    spec: Any = None
    family: str = ""
    link: str = ""
    family_obj: Any = None
    intmethod: str = "mvaghermite"
    intpoints: int = 7
    ll_fixed: float = np.nan
    dispersion: str | None = None
    offset: str | None = None  # "offset" or "exposure" when the model has one
    offset_var: str | None = None
    binomial_var: str | None = None  # trials variable of binomial(varname)
    constraints: list[str] = field(default_factory=list)  # Stata's constraint report lines

    def margins_prediction(self, predict: str | None):
        """What ``margins`` averages after the me commands: ``mu`` marginal over the random
        effects by default; :mod:`memodels.postestimation.margins_glmm`."""
        from ..postestimation.margins_glmm import glmm_margins_prediction

        return glmm_margins_prediction(self, predict)

    @property
    def eform(self) -> str | None:
        """The display option in effect: "or", "irr", "eform" or None."""
        for key in EFORM_OPTIONS:
            if self.options.get(key):
                return key
        return None

    @property
    def vce_type(self) -> str:
        """Stata's e(vce): ``oim``, ``robust`` or ``cluster`` (details in ``extra``:
        ``vcetype``, ``clustvar``, ``n_clusters``, ``vce_note``)."""
        return str(self.extra.get("vce", "oim"))

    @property
    def coef_label(self) -> str:
        return EFORM_LABELS.get(self.eform or "", "Coef.")

    def table(self, level: float | None = None, eform: bool | None = None) -> pd.DataFrame:
        """Every displayed row with se, z, p and the CI.  Fixed effects are shown as exp(b)
        (SE exp(b) se, CI exp(b +- z se); z and p from b) when ``eform`` is true, or when
        it is None and the command was run with ``or``/``irr``/``eform``."""
        out = super().table(level)
        use = self.eform is not None if eform is None else bool(eform)
        if not use:
            return out
        lev = self.level if level is None else level
        for r in self.rows:
            if r.section != "fixed":
                continue
            est, se, lo, hi = eform_values(r, lev)
            out.loc[r.name, ["estimate", "se", "ci_lower", "ci_upper"]] = [est, se, lo, hi]
        return out

    @property
    def alpha(self) -> float:
        """exp(/lnalpha) (or exp(/lndelta)) for the negative binomial; NaN otherwise."""
        for name in ("/lnalpha", "/lndelta"):
            if name in self.params.index:
                return float(np.exp(self.params[name]))
        return np.nan

    def _render(self) -> str:
        from ..output.glmm_text import render_glmm

        return render_glmm(self)


def eform_values(r: ParamRow, level: float) -> tuple[float, float, float, float]:
    """exp(b), exp(b) se(b) and exp(b -+ z se) for a fixed-effects row."""
    if r.status == "base" or r.status == "omitted":
        return 1.0, np.nan, np.nan, np.nan
    lo, hi = r.ci(level)
    eb = float(np.exp(r.estimate))
    return eb, eb * r.se, float(np.exp(lo)), float(np.exp(hi))


# ------------------------------------------------------------------ variance blocks
@dataclass
class _Block:
    structure: Any
    names: tuple[str, ...]
    path: str
    offset: int  # position of the block's first element in phi


def _term_names(dt) -> tuple[str, tuple[str, ...]]:
    """(level path, effect names) of a design term as the me commands print them."""
    if dt.rfactor is not None:
        if dt.covariance == "identity":
            # _all: R.male is a random intercept at the crossed level _all>male
            return f"{dt.path}>{dt.rfactor}", ("_cons",)
        return dt.path, tuple(f"{lev}.{dt.rfactor}" for lev in dt.rfactor_levels)
    return dt.path, tuple(dt.names)


def _blocks(design: Design, fit: GLMMFit) -> list[_Block]:
    out, pos = [], 0
    for struct, src in zip(fit.structures, fit.term_sources, strict=True):
        path, names = _term_names(design.terms[src])
        if len(names) != struct.q:
            names = tuple(f"{names[0]}{i + 1}" for i in range(struct.q))
        out.append(_Block(struct, names, path, pos))
        pos += len(struct.phi_names())
    return out


def variance_parameters(design: Design, structures: list, sources: list[int],
                        n_before: int) -> list[tuple[str, str, int]]:
    """(e(b) name, "var" or "cov", index in the estimation-metric vector) of every reported
    variance component, before any fit: ``var(child1[district])`` -> its ln sd,
    ``cov(child2,child1[district])`` -> its atanh correlation."""
    from types import SimpleNamespace

    blocks = _blocks(design, SimpleNamespace(structures=structures, term_sources=sources))
    n_phi = sum(len(s.phi_names()) for s in structures)
    rows, grads = variance_rows_me(blocks, np.zeros(n_phi), n_before, n_before + n_phi)
    # at phi = 0 a variance's gradient is on its ln sd only, a covariance's on its atanh only
    return [(r.name, r.part, int(np.flatnonzero(g)[0])) for r, g in zip(rows, grads,
                                                                        strict=True)]


def _phi_positions(blk: _Block) -> tuple[dict[int, int], dict[tuple[int, int], int]]:
    lnsd, z = {}, {}
    for k, (kind, i, j) in enumerate(blk.structure.phi_names()):
        if kind == "lnsd":
            lnsd[i] = blk.offset + k
        else:
            z[(i, j)] = blk.offset + k
    return lnsd, z


def _cov_pairs(kind: str, q: int) -> list[tuple[int, int]]:
    """Covariance rows in the order and orientation Stata prints them: unstructured
    ``cov(urban,_cons)`` (i < j); exchangeable ``cov(child2,child1)``, ``cov(child3,child1)``,
    ``cov(child3,child2)`` ([ME] meglm, L3000; melogit cov(exchangeable) example, L1150)."""
    if kind == "unstructured":
        return [(i, j) for i in range(q) for j in range(i + 1, q)]
    if kind == "exchangeable":
        return [(j, i) for i in range(q) for j in range(i + 1, q)]
    return []


def variance_rows_me(
    blocks: list[_Block], phi: np.ndarray, n_before: int, n_total: int
) -> tuple[list[MERow], list[np.ndarray]]:
    """Variance rows (all levels), then covariance rows, with their gradients with respect
    to the full parameter vector (phi starts at ``n_before``)."""
    var_rows: list[tuple[MERow, np.ndarray]] = []
    cov_rows: list[tuple[MERow, np.ndarray]] = []
    for blk in blocks:
        s = blk.structure
        lnsd, zpos = _phi_positions(blk)
        shared = s.kind in ("identity", "exchangeable")
        for i in range(s.q):
            pos = lnsd[0 if shared else i]
            sd = float(np.exp(phi[pos]))
            grad = np.zeros(n_total)
            grad[n_before + pos] = 2 * sd * sd
            label = f"var({blk.names[i]})"
            row = MERow(name=f"var({blk.names[i]}[{blk.path}])", section="random", label=label,
                        block=blk.path, estimate=sd * sd, ci_rule="log", part="var")
            var_rows.append((row, grad))
        for a, b in _cov_pairs(s.kind, s.q):
            zp = zpos[(1, 0)] if s.kind == "exchangeable" else zpos[(max(a, b), min(a, b))]
            pa, pb = (lnsd[0], lnsd[0]) if shared else (lnsd[a], lnsd[b])
            r = float(np.tanh(phi[zp]))
            sda, sdb = float(np.exp(phi[pa])), float(np.exp(phi[pb]))
            est = r * sda * sdb
            grad = np.zeros(n_total)
            grad[n_before + zp] = (1 - r * r) * sda * sdb
            grad[n_before + pa] += est
            grad[n_before + pb] += est
            inner = f"{blk.names[a]},{blk.names[b]}"
            row = MERow(name=f"cov({inner}[{blk.path}])", section="random", label=f"cov({inner})",
                        block=blk.path, estimate=est, ci_rule="symmetric", show_z=True,
                        part="cov")
            cov_rows.append((row, grad))
    ordered = _group_by_path(var_rows) + _group_by_path(cov_rows)
    return [r for r, _ in ordered], [g for _, g in ordered]


def _group_by_path(items: list[tuple[MERow, np.ndarray]]) -> list[tuple[MERow, np.ndarray]]:
    """Rows of repeated equations at one level printed together under one header."""
    order: dict[str, list] = {}
    for item in items:
        order.setdefault(item[0].block, []).append(item)
    return [item for group in order.values() for item in group]


def estmetric_names(blocks: list[_Block]) -> list[str]:
    return [n for blk in blocks for n in phi_names(blk.structure, blk.names, blk.path)]


# ------------------------------------------------------------------------ builder
CANONICAL_LINK = {"gaussian": "identity", "bernoulli": "logit", "binomial": "logit",
                  "ordinal": "logit", "poisson": "log", "nbinomial": "log", "gamma": "log"}


def _family_and_link(family: Any, options: dict[str, Any]) -> tuple[str, str]:
    """(family name, link name) of a family object, or of a family name plus link()."""
    if isinstance(family, str):
        name = family.split()[0]
        link = ""
    else:
        name = getattr(family, "name", "")
        link = getattr(getattr(family, "link", None), "name", "")
    link = link or str(options.get("link") or "") or CANONICAL_LINK.get(name, "")
    return name, link


def _offset_row(options: dict[str, Any]) -> tuple[MERow | None, str | None, str | None]:
    if options.get("exposure"):
        var = str(options["exposure"])
        row = MERow(name=f"ln({var})", section="offset", label=f"ln({var})", block="",
                    estimate=1.0, status="exposure")
        return row, "exposure", var
    if options.get("offset"):
        var = str(options["offset"])
        row = MERow(name=var, section="offset", label=var, block="", estimate=1.0,
                    status="offset")
        return row, "offset", var
    return None, None, None


def build_glmm_results(
    design: Design,
    fit: GLMMFit,
    *,
    command: str,
    cmdline: str,
    options: dict[str, Any],
    family: Any,
    spec: Any = None,
    notes: list[str] | tuple[str, ...] = (),
) -> GLMMResults:
    """Assemble Stata's table, tests and e()-style facts from an engine fit."""
    level = float(options.get("level", 95) or 95)
    fam, link = _family_and_link(family, options)
    nb, na = fit.n_beta, fit.n_aux
    n_total = fit.params.size
    gaussian = fam == "gaussian"

    frows = fixed_rows(design, fit.beta)
    ok_fixed = [r for r in frows if r.status == "ok"]
    if len(ok_fixed) != nb:
        raise ValueError(f"engine returned {nb} coefficients for {len(ok_fixed)} kept columns")
    se_all = np.sqrt(np.clip(np.diag(fit.vcov), 0, None))
    grads: list[np.ndarray] = []
    for k, r in enumerate(ok_fixed):
        r.se = float(se_all[k])
        g = np.zeros(n_total)
        g[k] = 1.0
        grads.append(g)

    offset_row, offset_kind, offset_var = _offset_row(options)

    aux_rows: list[MERow] = []
    resid_rows: list[MERow] = []
    resid_grads: list[np.ndarray] = []
    aux_names = list(fit.aux_names)
    for k, name in enumerate(aux_names):
        pos = nb + k
        value = float(fit.params[pos])
        g = np.zeros(n_total)
        if gaussian and k == 0:
            # the engine estimates ln sd of e; Stata reports var(e.depvar)
            var = float(np.exp(2 * value))
            g[pos] = 2 * var
            label = f"var(e.{design.depvar})"
            resid_rows.append(MERow(name=label, section="residual", label=label, block="",
                                    estimate=var, ci_rule="log"))
            resid_grads.append(g)
            continue
        g[pos] = 1.0
        label = name if name.startswith("/") else f"/{name}"
        aux_rows.append(MERow(name=label, section="aux", label=label, block="",
                              estimate=value, show_z=True))
        grads.append(g)

    blocks = _blocks(design, fit)
    vrows, vgrads = variance_rows_me(blocks, fit.phi, nb + na, n_total)
    grads += vgrads + resid_grads
    jac = np.vstack(grads) if grads else np.zeros((0, n_total))
    v_rep = jac @ fit.vcov @ jac.T
    se_rep = np.sqrt(np.clip(np.diag(v_rep), 0, None))
    reported = ok_fixed + aux_rows + vrows + resid_rows
    for r, se in zip(reported, se_rep, strict=True):
        r.se = float(se)
    mark_constrained(reported, jac, fit.constraints)

    # Wald test of every fixed effect but the constant
    keep = [i for i, r in enumerate(ok_fixed) if r.name != "_cons"]
    wald: tuple[float, int] = (np.nan, 0)
    if keep:
        b = fit.beta[keep]
        v = fit.vcov_beta[np.ix_(keep, keep)]
        try:
            wald = (float(b @ np.linalg.solve(v, b)), len(keep))
        except np.linalg.LinAlgError:
            wald = (np.nan, len(keep))
    if fit.constraints is not None:
        wald = constrained_wald(fit.beta, fit.vcov_beta, ok_fixed)

    n_var = sum(s.n_params for s in fit.structures)
    if fit.constraints is not None:  # free dimensions of the variance components
        n_var = fit.constraints.n_free_re
    lr = None
    if (n_var > 0 and not options.get("nolrtest") and np.isfinite(fit.ll_fixed)
            and not fit.extra.get("noestimate")):
        stat = max(2.0 * (fit.llf - fit.ll_fixed), 0.0)
        kind = "chibar2(01)" if n_var == 1 else f"chi2({n_var})"
        lr = LRTest(f"LR test vs. {lr_reference_model(fam, link)} model", kind, stat, n_var)

    rows: list[ParamRow] = list(frows)
    if offset_row is not None:
        rows.append(offset_row)
    rows += aux_rows + vrows + resid_rows

    est_names = [r.name for r in ok_fixed] + [
        n if n.startswith("/") else f"/{n}" for n in aux_names
    ] + estmetric_names(blocks)
    dispersion = getattr(family, "dispersion", None) or options.get("dispersion")
    if fam == "nbinomial" and not dispersion:
        dispersion = "mean"
    res = GLMMResults(
        command=command,
        cmdline=cmdline,
        title=TITLES.get(command, TITLES["meglm"]),
        depvar=design.depvar,
        nobs=design.nobs,
        llf=float(fit.llf),
        ll_label="Log likelihood",
        rows=rows,
        vcov_matrix=v_rep,
        levels=design.levels,
        converged=fit.converged,
        iterations=fit.iterations,
        n_params=nb + na + n_var if fit.constraints is None else fit.constraints.n_free,
        wald=wald,
        lr_test=lr,
        level=level,
        notes=list(notes) + list(design.notes),
        warnings=list(fit.messages),
        options=dict(options),
        estmetric=pd.Series(np.asarray(fit.params, float), index=est_names),
        estmetric_vcov=pd.DataFrame(fit.vcov, index=est_names, columns=est_names),
        n_dropped=design.n_dropped,
        design=design,
        fit=fit,
        spec=spec,
        family=fam,
        link=link,
        family_obj=None if isinstance(family, str) else family,
        intmethod=fit.intmethod,
        intpoints=int(fit.intpoints),
        ll_fixed=float(fit.ll_fixed),
        dispersion=dispersion if fam == "nbinomial" else None,
        offset=offset_kind,
        offset_var=offset_var,
        binomial_var=getattr(family, "trials_var", None) if fam == "binomial" else None,
        constraints=list(fit.constraints.texts) if fit.constraints is not None else [],
    )
    if any(fit.boundary):
        res.warnings.append("a variance component is at the boundary of the parameter space (0)")
    return res

