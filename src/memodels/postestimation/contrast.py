"""``contrast`` and ``pwcompare``: contrasts and pairwise comparisons of the marginal
linear predictions of factor levels ([R] contrast, [R] pwcompare; allowed after every
command of the [ME] manual, each postestimation entry's list of standard commands).

The marginal linear prediction of a level (or a cell of ``a#b``) is Stata's default
``asbalanced`` margin: the fixed-portion linear prediction x'b with the factor at that
level, averaged with equal weight over every combination of the levels of the model's
other factor variables, continuous covariates at their estimation-sample means.  So a
level's margin is l'b for a known row l, and a contrast of levels is C L b with its
variance C L V L' C' (V the VCE of the fixed effects).

Operators ([R] contrast, Contrast operators): ``r.`` each level against the reference
(base) level, ``a.`` each level against the next, ``ar.`` against the previous, ``g.``
against the grand mean of the levels; no operator is ``r.``.  An interaction ``a#b``
contrasts with the Kronecker product of the two operators' matrices.  Each term's joint
Wald test (chi2 with df the rank of its contrasts' VCE) is Stata's "Contrasts of
marginal linear predictions" table; the individual contrasts get delta-method SEs, z
tests and confidence intervals, adjusted for multiple comparisons within the term by
``mcompare(bonferroni | sidak | scheffe)`` ([R] pwcompare, Methods and formulas).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import OptionError
from .frame import fixed_matrix
from .margins import fixed_variables

OPERATORS = ("r", "a", "ar", "g")
MCOMPARE = ("noadjust", "bonferroni", "sidak", "scheffe")


@dataclass
class Factor:
    """A factor variable of the fixed effects: its levels (as in the data), their labels
    and the position of its base level."""

    name: str
    levels: list
    labels: list[str]
    base: int = 0


def _level_value(text: str, sample: pd.Series):
    values = sample.dropna().unique().tolist()
    for v in values:
        if str(v) == text:
            return v
        try:
            if float(v) == float(text):
                return v
        except (TypeError, ValueError):
            continue
    return None


def factors(res, sample: pd.DataFrame) -> dict[str, Factor]:
    """The factor variables of the fixed effects with their levels in the estimation
    sample and their base levels (from the ``(base)`` columns)."""
    out: dict[str, Factor] = {}
    bases: dict[str, str] = {}
    for col in res.design.columns:
        for part in col.name.split("#"):
            if part.startswith("c.") or "." not in part:
                continue
            level, var = part.rsplit(".", 1)
            level = level.rstrip("bno")
            if var not in out and var in sample.columns:
                levels = level_order(sample[var])
                out[var] = Factor(var, levels, [_label(v) for v in levels])
            if col.status == "base" and "#" not in col.name:
                bases[var] = level
    for var, level in bases.items():
        if var in out:
            v = _level_value(level, sample[var])
            if v in out[var].levels:
                out[var].base = out[var].levels.index(v)
    return out


def level_order(col: pd.Series) -> list:
    """The levels present in a column, in the order Stata lists them: numeric order, or
    the categories' order of a pandas Categorical (value-label order)."""
    present = col.dropna().unique().tolist()
    if isinstance(col.dtype, pd.CategoricalDtype):
        return [c for c in col.cat.categories if c in set(present)]
    return sorted(present)


def _label(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def marginal_rows(res, sample: pd.DataFrame, term: list[str],
                  table: dict[str, Factor]) -> tuple[list[tuple], np.ndarray]:
    """The cells of ``term`` (tuples of levels, the first variable varying slowest) and
    the rows l with l'b the asbalanced marginal linear prediction of each cell."""
    for var in term:
        if var not in table:
            raise OptionError(f"{var} is not a factor variable of the model; contrast and "
                              "pwcompare take factor variables (i.var in the command)")
    others = [f for f in table if f not in term]
    used = [v for v in fixed_variables(res.design) if v in sample.columns]
    means = {v: float(pd.to_numeric(sample[v], errors="coerce").mean()) for v in used
             if v not in table}
    other_grid = list(itertools.product(*[table[f].levels for f in others])) or [()]
    cells = list(itertools.product(*[table[v].levels for v in term]))
    rows = []
    for cell in cells:
        frame = pd.DataFrame({**{v: [means[v]] * len(other_grid) for v in means},
                              **{f: [g[k] for g in other_grid] for k, f in enumerate(others)},
                              **{v: [cell[k]] * len(other_grid) for k, v in enumerate(term)}})
        for col in used:
            if col in sample.columns and isinstance(sample[col].dtype, pd.CategoricalDtype):
                frame[col] = pd.Categorical(frame[col], categories=sample[col].cat.categories)
        x = fixed_matrix(res.design, frame)
        rows.append(x.mean(axis=0))
    return cells, np.vstack(rows)


def operator_matrix(op: str, factor: Factor) -> tuple[np.ndarray, list[str]]:
    """The contrast matrix of an operator over a factor's levels and its row labels."""
    k = len(factor.levels)
    lab = factor.labels
    eye = np.eye(k)
    if op in ("r", ""):  # no operator: r., labelled "vs base" as Stata labels it
        b = factor.base
        ref = "base" if op == "" else lab[b]
        rows = [(eye[j] - eye[b], f"({lab[j]} vs {ref})") for j in range(k) if j != b]
    elif op == "a":
        rows = [(eye[j] - eye[j + 1], f"({lab[j]} vs {lab[j + 1]})") for j in range(k - 1)]
    elif op == "ar":
        rows = [(eye[j] - eye[j - 1], f"({lab[j]} vs {lab[j - 1]})") for j in range(1, k)]
    elif op == "g":
        rows = [(eye[j] - 1.0 / k, f"({lab[j]} vs mean)") for j in range(k)]
    else:
        raise OptionError(f"contrast operator {op}. not supported (r., a., ar., g. are)")
    if not rows:
        raise OptionError(f"{factor.name} has a single level: nothing to contrast")
    return np.vstack([r for r, _ in rows]), [t for _, t in rows]


@dataclass
class TermResult:
    """One term of a contrast: its joint test and its individual contrasts."""

    term: str
    df: int
    chi2: float
    p: float
    table: pd.DataFrame  # contrast, se, z, p, ci_lower, ci_upper (adjusted), label
    k_comparisons: int = 0


@dataclass
class ContrastResult:
    terms: list[TermResult] = field(default_factory=list)
    level: float = 95.0
    mcompare: str = "noadjust"
    kind: str = "contrast"  # or "pwcompare"


def _vcov_fixed(res) -> tuple[np.ndarray, np.ndarray]:
    beta = np.asarray(res.fit.beta, dtype=float)
    vb = np.asarray(res.vcov_matrix, dtype=float)[: beta.size, : beta.size]
    return beta, vb


def _adjusted(est: np.ndarray, se: np.ndarray, level: float, method: str, df: int
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """z, adjusted p, and the confidence limits for m comparisons ([R] pwcompare,
    Methods and formulas: Bonferroni, Sidak and Scheffe adjustments)."""
    m = max(len(est), 1)
    alpha = 1 - level / 100
    with np.errstate(divide="ignore", invalid="ignore"):
        z = est / se
    p = 2 * stats.norm.sf(np.abs(z))
    if method == "bonferroni":
        p = np.minimum(1.0, p * m)
        crit = stats.norm.isf(alpha / (2 * m))
    elif method == "sidak":
        p = np.minimum(1.0, 1 - (1 - p) ** m)
        crit = stats.norm.isf((1 - (1 - alpha) ** (1 / m)) / 2)
    elif method == "scheffe":
        p = stats.chi2.sf(z ** 2, df)
        crit = np.sqrt(stats.chi2.isf(alpha, df))
    else:
        crit = stats.norm.isf(alpha / 2)
    return z, p, est - crit * se, est + crit * se


def _term_result(name: str, c: np.ndarray, labels: list[str], lmat: np.ndarray,
                 beta: np.ndarray, vb: np.ndarray, level: float, method: str) -> TermResult:
    cl = c @ lmat
    est = cl @ beta
    v = cl @ vb @ cl.T
    se = np.sqrt(np.clip(np.diag(v), 0, None))
    w, vecs = np.linalg.eigh(v)
    tol = max(w.max(initial=0.0), 0.0) * 1e-10 * max(v.shape[0], 1)
    keep = w > tol
    df = int(keep.sum())
    if df:
        proj = vecs[:, keep].T @ est
        chi2 = float(np.sum(proj ** 2 / w[keep]))
        p = float(stats.chi2.sf(chi2, df))
    else:
        chi2, p = float("nan"), float("nan")
    z, padj, lo, hi = _adjusted(est, se, level, method, max(df, 1))
    table = pd.DataFrame({"label": labels, "contrast": est, "se": se, "z": z, "p": padj,
                          "ci_lower": lo, "ci_upper": hi})
    return TermResult(name, df, chi2, p, table, len(labels))


def _check(res, mcompare: str) -> None:
    if mcompare not in MCOMPARE:
        raise OptionError(f"mcompare({mcompare}) not allowed (noadjust, bonferroni, sidak, "
                          "scheffe are)")
    if getattr(res, "design", None) is None or getattr(res, "fit", None) is None:
        raise OptionError(f"contrast/pwcompare are not available after {res.command}")


def contrast(res, data: pd.DataFrame, terms: list[list[tuple[str, str]]], *,
             level: float | None = None, mcompare: str = "noadjust") -> ContrastResult:
    """Contrasts of the terms: each term a list of (operator, factor) pairs, e.g.
    ``[[("r", "thatch")], [("a", "thatch"), ("r", "nitrogen")]]``."""
    _check(res, mcompare)
    sample = data.loc[res.design.index]
    table = factors(res, sample)
    beta, vb = _vcov_fixed(res)
    lev = res.level if level is None else float(level)
    out = ContrastResult(level=lev, mcompare=mcompare)
    for term in terms:
        names = [v for _, v in term]
        for v in names:
            if v not in table:
                raise OptionError(f"{v} is not a factor variable of the model; contrast "
                                  "takes factor variables (i.var in the command)")
        _, lmat = marginal_rows(res, sample, names, table)
        mats = [operator_matrix(op, table[v]) for op, v in term]
        c = mats[0][0]
        labels = mats[0][1]
        for m, lab in mats[1:]:
            c = np.kron(c, m)
            labels = [f"{a} {b}" for a in labels for b in lab]
        out.terms.append(_term_result("#".join(names), c, labels, lmat, beta, vb, lev,
                                      mcompare))
    return out


def pwcompare(res, data: pd.DataFrame, terms: list[list[str]], *,
              level: float | None = None, mcompare: str = "noadjust") -> ContrastResult:
    """All pairwise differences of the marginal linear predictions of each term's cells
    (``j vs i`` for i < j, in Stata's order)."""
    _check(res, mcompare)
    sample = data.loc[res.design.index]
    table = factors(res, sample)
    beta, vb = _vcov_fixed(res)
    lev = res.level if level is None else float(level)
    out = ContrastResult(level=lev, mcompare=mcompare, kind="pwcompare")
    for names in terms:
        cells, lmat = marginal_rows(res, sample, names, table)
        k = len(cells)
        if k < 2:
            raise OptionError(f"{'#'.join(names)} has a single level: nothing to compare")
        labs = ["#".join(_label(v) for v in cell) for cell in cells]
        rows, labels = [], []
        for i in range(k):
            for j in range(i + 1, k):
                r = np.zeros(k)
                r[j], r[i] = 1.0, -1.0
                rows.append(r)
                labels.append(f"{labs[j]} vs {labs[i]}")
        out.terms.append(_term_result("#".join(names), np.vstack(rows), labels, lmat, beta,
                                      vb, lev, mcompare))
    return out


__all__ = ["MCOMPARE", "OPERATORS", "ContrastResult", "Factor", "TermResult", "contrast",
           "factors", "level_order", "marginal_rows", "operator_matrix", "pwcompare"]
