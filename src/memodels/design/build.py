"""``build_design``: a :class:`ModelSpec` plus a DataFrame -> a numeric :class:`Design`.

Steps (each in its own module): check that every named variable exists, evaluate the
weight expressions, find the estimation sample (:mod:`.sample`), build the outcome and
the fixed-effects matrix (:mod:`.fixed`, :mod:`.factors`, :mod:`.collinear`), the
random-effects terms (:mod:`.hierarchy`, :mod:`.random`), the group table
(:mod:`.groups`), and copy option variables to ``Design.extra``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..spec import ModelSpec
from .derived import derive
from .evaluate import evaluate_expression
from .fixed import build_fixed
from .groups import level_table
from .hierarchy import plan_levels
from .random import build_random_term, check_plain
from .sample import estimation_sample, model_variables
from .types import Design
from .variables import (
    check_magnitude,
    is_categorical,
    is_string,
    numeric_values,
    require_columns,
)
from .weights import check_weights


def _extra_values(series: pd.Series, name: str) -> np.ndarray:
    """Float values for numeric option variables; the values themselves for strings."""
    if is_string(series):
        if is_categorical(series):
            return np.asarray(series.astype(object).to_numpy(), dtype=object)
        return series.astype(object).to_numpy()
    return numeric_values(series, name, "variable")


def build_design(spec: ModelSpec, data: pd.DataFrame, *, collinearity: bool = True) -> Design:
    """Evaluate ``spec`` on ``data`` (never modified) for the estimation sample.

    ``collinearity=False``: see :func:`.fixed.build_fixed` (the Dask engine's partitions)."""
    data, derived = derive(spec, data)
    for eq in spec.equations:
        for name in (*eq.variables, *([eq.rfactor] if eq.rfactor else [])):
            check_plain(name)
    require_columns(data, model_variables(spec))

    evaluated: dict[str, np.ndarray] = {}
    zero_excluded: dict[str, np.ndarray] = {}
    obs_weights = None
    if spec.weight is not None:
        obs_weights = evaluate_expression(spec.weight.expression, data, "weight expression")
        evaluated["weight"] = obs_weights
        zero_excluded["weight"] = obs_weights
    level_weights: dict[int, np.ndarray] = {}
    for i, eq in enumerate(spec.equations):
        if eq.weight is not None:
            values = evaluate_expression(eq.weight.expression, data, f"{eq.weight.kind}()")
            level_weights[i] = values
            evaluated[f"level{i}"] = values

    smp = estimation_sample(spec, data, evaluated, zero_excluded)
    mask = smp.mask

    y = numeric_values(data[spec.depvar][mask], spec.depvar, "outcome variable")
    check_magnitude(y, spec.depvar, "outcome variable")
    fixed = build_fixed(spec, data, mask, collinearity=collinearity)
    notes = list(fixed.notes)

    plans = plan_levels(spec.equations)
    terms = []
    cache: dict = {}
    for eq, plan in zip(spec.equations, plans, strict=True):
        lw = level_weights[plan.eq_index][mask] if plan.eq_index in level_weights else None
        terms.append(build_random_term(eq, plan, data, mask, lw, notes, cache,
                                       collinearity=collinearity))

    weights = None
    weight_kind = None
    if obs_weights is not None and spec.weight is not None:
        weights = obs_weights[mask]
        check_weights(weights, spec.weight.kind, f"[{spec.weight.kind}={spec.weight.expression}]")
        weight_kind = spec.weight.kind
    # with frequency weights Stata counts the observations they stand for
    freq = weights if weight_kind == "fweight" else None
    levels = level_table(plans, terms, freq)

    extra = {name: _extra_values(data[name][mask], name) for name in spec.extra_vars}

    return Design(
        depvar=spec.depvar,
        y=y,
        X=fixed.X,
        columns=fixed.columns,
        terms=terms,
        levels=levels,
        index=data.index[mask],
        sample=mask,
        n_dropped=smp.n_dropped,
        weights=weights,
        weight_kind=weight_kind,
        notes=notes,
        extra=extra,
        value_labels=_value_labels(data, spec),
        derived=derived,
    )


def _value_labels(data: pd.DataFrame, spec: ModelSpec) -> dict[str, dict]:
    """Stata's value labels (``data.attrs["value_labels"]``) of the model's variables, for
    display: factor rows (``II``, ``yes``) unless ``nofvlabel``."""
    labels = data.attrs.get("value_labels") if data.attrs else None
    if not isinstance(labels, dict):
        return {}
    used = set(model_variables(spec))
    return {v: dict(lab) for v, lab in labels.items() if v in used and isinstance(lab, dict)}
