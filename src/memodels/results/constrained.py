"""Results of a constrained me fit ([ME] meglm, Options: constraints(); [R] constraint):
parameters fixed by the constraints are shown "(constrained)" without a standard error,
and the Wald and LR tests count only the dimensions the constraints leave free."""

from __future__ import annotations

import numpy as np

from .rows import ParamRow


def mark_constrained(rows: list[ParamRow], jac: np.ndarray, report) -> None:
    """Flag the reported rows that depend only on fixed estimation-metric coordinates
    (``jac``: d reported / d estimation metric, one row per entry of ``rows``)."""
    if report is None:
        return
    fixed = np.asarray(report.fixed, bool)
    for r, g in zip(rows, jac, strict=True):
        used = g != 0
        if used.any() and fixed[used].all():
            r.constrained = True
            r.se = 0.0


def constrained_wald(beta: np.ndarray, vcov_beta: np.ndarray, rows: list[ParamRow]
                     ) -> tuple[float, int]:
    """Wald chi2 of the fixed effects but _cons and those fixed by constraints: b'V^+b
    with df the rank of V (a linear constraint among them removes a dimension)."""
    keep = [i for i, r in enumerate(rows) if r.name != "_cons" and not r.constrained]
    if not keep:
        return np.nan, 0
    b = beta[keep]
    v = vcov_beta[np.ix_(keep, keep)]
    w, vec = np.linalg.eigh(0.5 * (v + v.T))
    pos = w > 1e-10 * max(w.max(), 1e-300)
    df = int(pos.sum())
    if df == 0:
        return np.nan, 0
    proj = vec[:, pos].T @ b
    return float(np.sum(proj**2 / w[pos])), df
