"""Random-effects equations evaluated on the sample: one :class:`RandomTerm` each.

[ME] mixed, Syntax: ``re_equation: levelvar: [varlist] [, re_options]`` or
``levelvar: R.varname [, re_options]``.

* ``Z`` holds the covariates in the order written, then ``_cons`` (named so) unless
  ``noconstant`` or a repeated level placed the constant elsewhere (see
  :mod:`.hierarchy`).  The covariates must be plain numeric variables: "random-effects
  equations support only the R.varname factor specification" ([ME] me, Syntax notes).
* ``R.var`` "is equivalent to giving a list of overparameterized (none dropped)
  indicator variables" and implies ``noconstant``: ``rfactor_codes`` index the sorted
  levels of ``var`` (``rfactor_levels``), ``names`` is ``("R.var",)``, ``Z`` None.
* Default covariance ([ME] mixed, Options): ``independent``, except ``identity`` when the
  equation has a single random effect (or none) or uses ``R.``; with ``R.`` only
  ``identity`` and ``exchangeable`` are allowed.
* ``collinear``: unless given, a covariate that is collinear with the earlier ones
  (the constant counting first) is dropped with a note, as ``mixed`` does.
* An equation with no effects at all (``|| id:, noconstant``) is kept with a ``Z`` of
  shape (n, 0): it defines a level for residual structures.
* Level weights ``fweight(exp)``/``pweight(exp)`` become per-observation copies in
  ``level_weights`` and must be constant within the level's groups.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import OptionError, StataSyntaxError
from ..spec import REEquation
from .collinear import collinear_columns
from .hierarchy import LevelPlan, factorize_sorted, group_codes
from .types import RandomTerm
from .variables import numeric_values, python_value
from .weights import check_constant_within, check_weights

_COVARIANCES = {
    "identity": "identity",
    "independent": "independent",
    "exchangeable": "exchangeable",
    "unstructured": "unstructured",
    "fixed": "fixed",
    "pattern": "pattern",
}


def normalize_covariance(name: str) -> str:
    """Full name of a covariance structure, accepting Stata's abbreviations."""
    text = name.strip().lower()
    minimum = {"identity": 2, "independent": 3, "exchangeable": 2, "unstructured": 2}
    for full in _COVARIANCES:
        need = minimum.get(full, len(full))
        if len(text) >= need and full.startswith(text):
            return full
    raise OptionError(f"covariance({name}): unknown covariance structure")


def _covariance(eq: REEquation, q: int) -> str:
    if eq.covariance is None:
        return "identity" if (eq.rfactor is not None or q <= 1) else "independent"
    cov = normalize_covariance(eq.covariance)
    if eq.rfactor is not None and cov not in ("identity", "exchangeable"):
        raise OptionError(
            f"covariance({eq.covariance}) not allowed with R.{eq.rfactor}: "
            "only identity and exchangeable are allowed"
        )
    return cov


def check_plain(name: str) -> None:
    """Random-effects covariates must be plain variable names."""
    if any(ch in name for ch in ".#()"):
        raise StataSyntaxError(
            f"'{name}': factor variables and operators are not allowed in random-effects "
            "equations; use R.varname or generate the variables"
        )


def build_random_term(
    eq: REEquation,
    plan: LevelPlan,
    data: pd.DataFrame,
    sample: np.ndarray,
    level_weight: np.ndarray | None,
    notes: list[str],
    groups_cache: dict[tuple[str, ...], tuple[np.ndarray, int]],
    collinearity: bool = True,
) -> RandomTerm:
    """One equation's :class:`RandomTerm` on the sample rows (``collinearity=False``: no
    collinearity removal among the covariates; the Dask engine decides it globally)."""
    if plan.keys not in groups_cache:
        groups_cache[plan.keys] = group_codes(data, sample, plan.keys)
    groups, n_groups = groups_cache[plan.keys]
    n = int(sample.sum())

    weights = None
    weight_kind = None
    if eq.weight is not None and level_weight is not None:
        label = f"{eq.weight.kind}({eq.weight.expression})"
        weights = np.asarray(level_weight, dtype=float)
        check_weights(weights, eq.weight.kind, label)
        check_constant_within(weights, groups, n_groups, label, eq.level)
        weight_kind = eq.weight.kind

    if eq.rfactor is not None:
        codes, uniques = factorize_sorted(data[eq.rfactor][sample])
        levels = tuple(python_value(v) for v in uniques)
        return RandomTerm(
            level=eq.level,
            path=plan.path,
            groups=groups,
            n_groups=n_groups,
            names=(f"R.{eq.rfactor}",),
            covariance=_covariance(eq, len(levels)),
            Z=None,
            rfactor=eq.rfactor,
            rfactor_codes=codes,
            rfactor_levels=levels,
            level_weights=weights,
            level_weight_kind=weight_kind,
        )

    names: list[str] = []
    cols: list[np.ndarray] = []
    for name in eq.variables:
        names.append(name)
        cols.append(numeric_values(data[name][sample], name, "random-effects covariate"))
    Z = np.column_stack(cols) if cols else np.zeros((n, 0))
    if Z.shape[1] and not eq.collinear and collinearity:
        omit = collinear_columns(Z, constant=plan.constant)
        if omit.any():
            for name, drop in zip(names, omit, strict=True):
                if drop:
                    notes.append(f"note: {name} omitted because of collinearity")
            names = [nm for nm, drop in zip(names, omit, strict=True) if not drop]
            Z = Z[:, ~omit]
    if plan.constant:
        names.append("_cons")
        Z = np.hstack([Z, np.ones((n, 1))])
    return RandomTerm(
        level=eq.level,
        path=plan.path,
        groups=groups,
        n_groups=n_groups,
        names=tuple(names),
        covariance=_covariance(eq, Z.shape[1]),
        Z=np.ascontiguousarray(Z),
        level_weights=weights,
        level_weight_kind=weight_kind,
        covariance_matrix=eq.covariance_matrix,
    )
