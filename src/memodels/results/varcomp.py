"""Variance components in Stata's reporting metric, with delta-method standard errors.

Stata estimates {alpha, ln sigma_e} -- log standard deviations and atanh correlations --
and reports variances and covariances (default) or standard deviations and
correlations (``stddeviations``).  se(var) = 2 var se(ln sd), se(sd) = sd se(ln sd),
se(corr) = (1 - corr^2) se(atanh corr), and covariances through the product rule
([ME] mixed, Methods and formulas; [ME] meglm, Methods and formulas).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..covariance.structures import CovStructure
from .rows import ParamRow


@dataclass
class VarianceBlock:
    """One random-effects equation to report: its structure, names and position in phi."""

    structure: CovStructure
    effect_names: tuple[str, ...]  # per effect, or a single name shared by all (R.var)
    path: str  # used in parameter names: var(_cons[school>class])
    header: str  # printed block header: "id: Unstructured"
    offset: int  # index of the block's first element in phi


def _pair_label(names: tuple[str, ...], i: int, j: int, shared: bool) -> str:
    if shared:
        return names[0]
    return f"{names[i]},{names[j]}"


def variance_rows(
    blocks: list[VarianceBlock], phi: np.ndarray, stddev: bool
) -> tuple[list[ParamRow], np.ndarray]:
    """Rows for every block plus the Jacobian d(reported)/d(phi), shape (rows, len(phi))."""
    rows: list[ParamRow] = []
    jac: list[np.ndarray] = []
    for blk in blocks:
        s = blk.structure
        pn = s.phi_names()
        shared = s.kind in ("identity", "exchangeable")
        names = blk.effect_names
        group_label = " ".join(names) if shared else None
        lnsd_pos = {}
        z_pos = {}
        for k, (kind, i, j) in enumerate(pn):
            if kind == "lnsd":
                lnsd_pos[i] = blk.offset + k
            else:
                z_pos[(i, j)] = blk.offset + k
        for rp in s.reported():
            grad = np.zeros(phi.size)
            if rp.kind == "var":
                pos = lnsd_pos[0 if shared else rp.i]
                sd = float(np.exp(phi[pos]))
                lab_inner = group_label if shared else names[rp.i]
                if stddev:
                    est, grad[pos], kind, rule = sd, sd, "sd", "log"
                else:
                    est, grad[pos], kind, rule = sd * sd, 2 * sd * sd, "var", "log"
            else:
                key = (1, 0) if s.kind == "exchangeable" else (max(rp.i, rp.j), min(rp.i, rp.j))
                zp = z_pos[key]
                r = float(np.tanh(phi[zp]))
                lab_inner = group_label if shared else _pair_label(names, rp.i, rp.j, False)
                if shared:
                    pi = pj = lnsd_pos[0]
                else:
                    pi, pj = lnsd_pos[rp.i], lnsd_pos[rp.j]
                sdi, sdj = float(np.exp(phi[pi])), float(np.exp(phi[pj]))
                if stddev:
                    est, kind, rule = r, "corr", "atanh"
                    grad[zp] = 1 - r * r
                else:
                    est, kind, rule = r * sdi * sdj, "cov", "symmetric"
                    grad[zp] = (1 - r * r) * sdi * sdj
                    grad[pi] += est
                    grad[pj] += est
            label = f"{kind}({lab_inner})"
            rows.append(
                ParamRow(
                    name=f"{kind}({lab_inner}[{blk.path}])",
                    section="random",
                    label=label,
                    block=blk.header,
                    estimate=est,
                    ci_rule=rule,
                )
            )
            jac.append(grad)
    return rows, np.array(jac).reshape(len(rows), phi.size)


def residual_row(phi: np.ndarray, pos: int, stddev: bool) -> tuple[ParamRow, np.ndarray]:
    sd = float(np.exp(phi[pos]))
    grad = np.zeros(phi.size)
    if stddev:
        est, grad[pos], label, name = sd, sd, "sd(Residual)", "sd(e)"
    else:
        est, grad[pos], label, name = sd * sd, 2 * sd * sd, "var(Residual)", "var(e)"
    row = ParamRow(name=name, section="residual", label=label, block="", estimate=est,
                   ci_rule="log")
    return row, grad


def estmetric_names(structure: CovStructure, names: tuple[str, ...], path: str) -> list[str]:
    """Names of one block's parameters in Stata's estimation metric:
    lnsd(week[id]), atanh(week,_cons[id]); identity/exchangeable share one name."""
    shared = structure.kind in ("identity", "exchangeable")
    out = []
    for kind, i, j in structure.phi_names():
        if kind == "lnsd":
            inner = " ".join(names) if shared else names[i]
            out.append(f"lnsd({inner}[{path}])")
        else:
            inner = " ".join(names) if shared else f"{names[j]},{names[i]}"
            out.append(f"atanh({inner}[{path}])")
    return out
