"""``covariance(fixed(matname))`` and ``covariance(pattern(matname))`` of the me commands
([ME] meglm, Options, Model: "Only elements in the lower triangle of matname are used,
and row and column names of matname are ignored.  A missing value in matname means that
a given element is unrestricted.  In a fixed(matname) covariance structure, (co)variance
(i, j) is constrained to equal the value specified in the i, j th entry of matname.  In a
pattern(matname) covariance structure, (co)variances (i, j) and (k, l) are constrained to
be equal if matname[i, j] = matname[k, l].").

Matrices come from Python (``matrices={"f": array}``; NaN is Stata's missing value).
Like Stata, the structure is an unstructured covariance with constraints in the
estimation metric (log standard deviations, atanh correlations); a fixed() matrix whose
covariances are all 0 is an independent covariance with fixed variances (Stata then
shows only the variances, [ME] me, example 6).  :func:`matrix_structure` returns the base
structure and the restrictions on its elements; the command layer turns them into
constraints on the estimation-metric parameters (:mod:`memodels.commands.me_constraints`).

Restrictions that are not linear in that metric are refused with an error rather than
approximated: a fixed nonzero covariance next to a free variance, and a pattern tying a
variance to a covariance, or two covariances whose variances are not tied alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import OptionError

Element = tuple[int, int]  # (row, column), row >= column: lower triangle


@dataclass
class MatrixRestrictions:
    """Base structure (``"independent"`` or ``"unstructured"``) and its restrictions:
    ``fixed`` element -> value (variances and covariances), ``ties`` groups of elements
    constrained equal (pattern)."""

    base: str
    fixed: dict[Element, float] = field(default_factory=dict)
    ties: list[list[Element]] = field(default_factory=list)


def lookup_matrix(name: str, matrices: Mapping[str, Any] | None) -> np.ndarray:
    """The matrix ``name`` from the ``matrices=`` mapping, as a float array (a pandas
    DataFrame's values; row and column names are ignored, as in Stata)."""
    table = dict(matrices or {})
    if name not in table:
        have = ", ".join(sorted(table)) or "none given"
        raise OptionError(f"matrix {name} not found; pass it as matrices={{'{name}': array}} "
                          f"(matrices given: {have})")
    value = table[name]
    values = getattr(value, "to_numpy", None)
    try:
        mat = np.asarray(values() if callable(values) else value, dtype=float)
    except (TypeError, ValueError):
        raise OptionError(f"matrix {name} must be numeric") from None
    if mat.ndim != 2 or mat.shape[0] != mat.shape[1]:
        raise OptionError(f"matrix {name} must be square; it is {' x '.join(map(str, mat.shape))}")
    return mat


def _check_shape_and_symmetry(mat: np.ndarray, name: str, q: int, what: str) -> None:
    if mat.shape != (q, q):
        raise OptionError(f"{what}({name}): matrix {name} is {mat.shape[0]} x {mat.shape[1]}, "
                          f"but the random-effects equation has {q} random effects "
                          f"({q} x {q} needed)")
    upper = mat[np.triu_indices(q, 1)]
    lower = mat.T[np.triu_indices(q, 1)]
    missing_or_zero = np.all(np.isnan(upper)) or np.all(upper == 0)
    same = np.all((np.isnan(upper) & np.isnan(lower)) | np.isclose(upper, lower))
    if not (missing_or_zero or same):
        raise OptionError(f"{what}({name}): matrix {name} is not symmetric (only its lower "
                          "triangle is used: make it symmetric or leave the upper triangle "
                          "missing)")


def matrix_structure(kind: str, name: str, matrices: Mapping[str, Any] | None,
                     q: int) -> MatrixRestrictions:
    """Restrictions of ``fixed(name)`` / ``pattern(name)`` on a q x q covariance."""
    mat = lookup_matrix(name, matrices)
    _check_shape_and_symmetry(mat, name, q, kind)
    lower = [(i, j) for i in range(q) for j in range(i + 1)]
    if kind == "fixed":
        return _fixed(mat, name, q, lower)
    if kind == "pattern":
        return _pattern(mat, name, q, lower)
    raise OptionError(f"covariance({kind}({name})) unknown")


def _fixed(mat: np.ndarray, name: str, q: int, lower: list[Element]) -> MatrixRestrictions:
    off = [(i, j) for i, j in lower if i != j]
    base = "independent" if q == 1 or all(mat[i, j] == 0 for i, j in off) else "unstructured"
    out = MatrixRestrictions(base)
    for i in range(q):
        v = mat[i, i]
        if np.isnan(v):
            continue
        if not v > 0:
            raise OptionError(f"fixed({name}): variance ({i + 1},{i + 1}) is {v:g}; fixed "
                              "variances must be positive")
        out.fixed[(i, i)] = float(v)
    full = mat[np.tril_indices(q)]
    if not np.isnan(full).any():
        sym = np.tril(mat) + np.tril(mat, -1).T
        w = np.linalg.eigvalsh(sym)
        if w.min() < -1e-10 * max(abs(w).max(), 1.0):
            raise OptionError(f"fixed({name}): matrix {name} is not positive semidefinite "
                              f"(smallest eigenvalue {w.min():.4g})")
    if base == "independent":
        return out
    for i, j in off:
        c = mat[i, j]
        if np.isnan(c):
            continue
        if c != 0 and not ((i, i) in out.fixed and (j, j) in out.fixed):
            raise OptionError(
                f"fixed({name}): covariance ({i + 1},{j + 1}) is fixed at {c:g} but a variance "
                "it involves is free; constraints apply to log standard deviations and atanh "
                "correlations, so a nonzero covariance can be fixed only with both variances")
        if c != 0 and abs(c) >= np.sqrt(out.fixed[(i, i)] * out.fixed[(j, j)]):
            raise OptionError(f"fixed({name}): covariance ({i + 1},{j + 1}) implies a "
                              "correlation of magnitude 1 or more")
        out.fixed[(i, j)] = float(c)
    return out


def _pattern(mat: np.ndarray, name: str, q: int, lower: list[Element]) -> MatrixRestrictions:
    out = MatrixRestrictions("independent" if q == 1 else "unstructured")
    groups: dict[float, list[Element]] = {}
    for i, j in lower:
        if not np.isnan(mat[i, j]):
            groups.setdefault(float(mat[i, j]), []).append((i, j))
    var_group = {}  # effect -> label of its variance's group (free variances: their own)
    for i in range(q):
        var_group[i] = ("p", float(mat[i, i])) if not np.isnan(mat[i, i]) else ("free", i)
    for members in groups.values():
        if len(members) < 2:
            continue
        diag = [i == j for i, j in members]
        if any(diag) and not all(diag):
            raise OptionError(f"pattern({name}): value {mat[members[0]]:g} ties a variance to "
                              "a covariance; only variances with variances and covariances "
                              "with covariances can be constrained equal")
        if not any(diag):
            keys = {tuple(sorted((var_group[i], var_group[j]), key=repr)) for i, j in members}
            if len(keys) > 1:
                (i, j) = members[0]
                raise OptionError(
                    f"pattern({name}): covariances tied with covariance ({i + 1},{j + 1}) "
                    "involve variances that are not tied alike; equal covariances are "
                    "imposed as equal correlations, which requires equal variances")
        out.ties.append(members)
    return out
