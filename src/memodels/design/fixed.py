"""The fixed-effects design matrix X with Stata's coefficient names and order.

[ME] mixed, Syntax: ``indepvars may contain factor variables; see [U] 11.4.3``.  The
coefficient vector lists the terms in the order written (``a##b`` having been expanded
to ``a b a#b`` by the parser), then ``_cons`` unless ``noconstant``.  Within a term:

* ``x`` or ``c.x`` -- one column named ``x``;
* ``i.f`` -- one column per level of ``f`` in the sample, ascending, named ``2.f``;
* an interaction -- one column per combination of the factor levels (the first
  variable varying slowest) times the product of the continuous variables, named by
  joining the parts with ``#``: ``1.sex#c.age``, ``c.age#c.age``, ``2.a#3.b``.

Every column is kept in :attr:`Design.columns` with a status:

``base``
    a base level.  For ``i.f`` alone the base level (``ib.`` rules, see
    :mod:`.factors`) is always a base, whether or not there is a constant (use ``ibn.``
    for no base).  For interactions Stata's rule is that base levels are used only
    where the lower-order terms that would make the cell redundant are in the model
    ([U] 11.4.3 and ``help fvvarlist``: "``sex#c.age`` -- two variables, age for males
    and 0 elsewhere, and age for females and 0 elsewhere; if age is also in the model,
    one of the two virtual variables will be treated as a base").  Precisely: a cell is
    a base cell when, for some nonempty set S of its factor components that sit at
    their base level, the term with S removed is also a term of the model -- where the
    empty term counts as always present, like a main effect's base.  Hence
    ``i.girl#c.age`` without ``c.age`` estimates both ``0.girl#c.age`` and
    ``1.girl#c.age`` ([ME] mixed, example 6), ``i.a#i.b`` alone is a cell-means coding
    with only the all-base cell as base, and in ``i.a##i.b`` every cell with ``a`` or
    ``b`` at its base is a base cell (``program#day: 2 4`` ... in [ME] mixed ex. 9).
``empty``
    an interaction cell with no observations in the sample (no note);
``omitted``
    dropped for collinearity (see :mod:`.collinear`), with the note
    ``note: <name> omitted because of collinearity``;
``ok``
    a column of X.

``level_labels`` is the printed row label: factor parts' labels joined with ``#``
(value labels for Categorical columns, else level values: ``urea``, ``2``, ``2#4``);
for a term without factor variables, the column name itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import pandas as pd

from ..errors import DataError
from ..spec import FactorVar, FixedTerm, ModelSpec
from .collinear import (
    MAX_LOCATION_RATIO_CENTRED,
    collinear_columns,
    location_ratios,
)
from .factors import FactorCoding, code_factor
from .types import FixedColumn
from .variables import MAX_MAGNITUDE, numeric_values


@dataclass
class FixedPart:
    X: np.ndarray
    columns: list[FixedColumn]
    notes: list[str] = field(default_factory=list)


def _signature(factors: tuple[FactorVar, ...] | list[FactorVar]) -> tuple:
    return tuple(sorted((f.name, f.kind) for f in factors))


def term_label(term: FixedTerm) -> str:
    """Stata's label for a term: ``cancerstage``, ``sex#c.age``, ``c.age#c.age``."""
    if not term.is_interaction:
        return term.factors[0].name
    return "#".join(f.name if f.kind == "i" else f"c.{f.name}" for f in term.factors)


def _base_patterns(term: FixedTerm, present: set[tuple]) -> dict[frozenset, bool]:
    """For each set of factor-component positions at base: is such a cell a base cell?"""
    fpos = [k for k, f in enumerate(term.factors) if f.kind == "i"]
    out: dict[frozenset, bool] = {}
    for r in range(0, len(fpos) + 1):
        for at_base in combinations(fpos, r):
            is_base = False
            for s in range(1, len(at_base) + 1):
                for removed in combinations(at_base, s):
                    rest = [f for k, f in enumerate(term.factors) if k not in removed]
                    if not rest or _signature(rest) in present:
                        is_base = True
                        break
                if is_base:
                    break
            out[frozenset(at_base)] = is_base
    return out


def _term_columns(
    term: FixedTerm,
    data: pd.DataFrame,
    sample: np.ndarray,
    present: set[tuple],
    continuous_cache: dict[str, np.ndarray],
) -> tuple[list[FixedColumn], np.ndarray]:
    """All columns of one term (every status) and the X block of its ``ok`` columns."""
    label = term_label(term)
    codings: list[tuple[int, FactorCoding]] = []
    weight = None
    for k, fv in enumerate(term.factors):
        if fv.kind == "i":
            codings.append((k, code_factor(data[fv.name], sample, fv)))
        else:
            if fv.name not in continuous_cache:
                continuous_cache[fv.name] = numeric_values(
                    data[fv.name][sample], fv.name, "covariate"
                )
            vals = continuous_cache[fv.name]
            weight = vals if weight is None else weight * vals
    n = int(sample.sum())

    if not codings:  # x, c.x#c.x, ...
        name = label
        col = weight if weight is not None else np.ones(n)
        return [FixedColumn(name, "ok", label, name)], col[:, None]

    shape = tuple(c.k for _, c in codings)
    ncell = int(np.prod(shape))
    valid = np.ones(n, dtype=bool)
    cell = np.zeros(n, dtype=np.int64)
    for _, c in codings:
        valid &= c.codes >= 0
        cell = cell * c.k + np.where(c.codes >= 0, c.codes, 0)
    counts = np.bincount(cell[valid], minlength=ncell)
    patterns = _base_patterns(term, present)
    multi = np.unravel_index(np.arange(ncell), shape) if ncell else ()

    columns: list[FixedColumn] = []
    ok_pos = np.full(ncell, -1, dtype=np.int64)
    n_ok = 0
    for cidx in range(ncell):
        coded = {k: (c, int(multi[i][cidx])) for i, (k, c) in enumerate(codings)}
        at_base = frozenset(k for k, (c, j) in coded.items() if c.base is not None and j == c.base)
        parts: list[str] = []
        labels: list[str] = []
        for k, fv in enumerate(term.factors):
            if k in coded:
                c, j = coded[k]
                parts.append(f"{c.value_name(j)}.{fv.name}")
                labels.append(c.labels[j])
            else:
                parts.append(f"c.{fv.name}")
        if patterns[at_base]:
            status = "base"
        elif term.is_interaction and counts[cidx] == 0:
            status = "empty"
        else:
            status = "ok"
            ok_pos[cidx] = n_ok
            n_ok += 1
        columns.append(FixedColumn("#".join(parts), status, label, "#".join(labels)))

    block = np.zeros((n, n_ok))
    if n_ok:
        pos = np.where(valid, ok_pos[cell], -1)
        rows = np.flatnonzero(pos >= 0)
        vals = np.ones(rows.size) if weight is None else weight[rows]
        block[rows, pos[rows]] = vals
    return columns, block


def build_fixed(spec: ModelSpec, data: pd.DataFrame, sample: np.ndarray, *,
                collinearity: bool = True) -> FixedPart:
    """X, the full coefficient column list and collinearity notes for the sample.

    ``collinearity=False`` skips the sample-wide steps (collinearity removal and the
    location check): the Dask engine builds X partition by partition and takes those
    decisions once, from the cross-products of the whole sample."""
    present = {_signature(t.factors) for t in spec.fixed}
    cache: dict[str, np.ndarray] = {}
    columns: list[FixedColumn] = []
    blocks: list[np.ndarray] = []
    for term in spec.fixed:
        if not term.factors:
            continue
        cols, block = _term_columns(term, data, sample, present, cache)
        columns.extend(cols)
        blocks.append(block)
    n = int(sample.sum())
    X = np.hstack(blocks) if blocks else np.zeros((n, 0))
    if not np.all(np.isfinite(X)):
        ok_cols = [c.name for c in columns if c.status == "ok"]
        bad = [ok_cols[j] for j in np.flatnonzero(~np.isfinite(X).all(axis=0))]
        raise DataError(f"fixed-effects covariates contain infinite values: "
                        f"{', '.join(bad)}")
    if X.size and np.abs(X).max() > MAX_MAGNITUDE:
        raise DataError(f"fixed-effects covariates have values too large to fit (up to "
                        f"{np.abs(X).max():.3g}; the limit is {MAX_MAGNITUDE:g}); rescale them")

    notes: list[str] = []
    constant = not spec.noconstant
    omit = collinear_columns(X, constant=constant) if collinearity else np.zeros(
        X.shape[1], dtype=bool)
    if omit.any():
        ok_cols = [c for c in columns if c.status == "ok"]
        for c, drop in zip(ok_cols, omit, strict=True):
            if drop:
                c.status = "omitted"
                notes.append(f"note: {c.name} omitted because of collinearity")
        X = X[:, ~omit]
    if constant and collinearity:
        # every command centres a badly located design before its engine
        # (memodels.lmm.centering, memodels.glmm.scaling)
        _check_location(X, [c for c in columns if c.status == "ok"], MAX_LOCATION_RATIO_CENTRED)
    if constant:
        columns.append(FixedColumn("_cons", "ok", "_cons", "_cons"))
        X = np.hstack([X, np.ones((n, 1))])
    return FixedPart(X=np.ascontiguousarray(X), columns=columns, notes=notes)


def _check_location(X: np.ndarray, kept: list[FixedColumn], limit: float) -> None:
    """Refuse a covariate whose mean is so far from zero relative to its spread
    (``x + 1e9`` in ``mixed``; beyond 1e10 in the me commands, which centre internally)
    that it cannot be estimated accurately next to the constant; centring it
    (``generate xc = x - 1e9``) changes only the constant's meaning."""
    ratios = location_ratios(X)
    bad = np.flatnonzero(np.isfinite(ratios) & (ratios > limit))
    if bad.size:
        j = int(bad[0])
        mean = float(X[:, j].mean())
        raise DataError(
            f"covariate {kept[j].name} cannot be estimated accurately: its mean ({mean:.6g}) "
            f"is {ratios[j]:.3g} times its standard deviation (the limit is "
            f"{limit:g}); centre it first, e.g. generate c_{kept[j].name} = "
            f"{kept[j].name} - {mean:.6g}")
