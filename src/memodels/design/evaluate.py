"""Evaluating ``if`` and weight expressions through :mod:`memodels.syntax.expressions`.

Stata's ``if exp`` keeps an observation when *exp* is true, i.e. nonzero; a missing
value is nonzero, so it counts as true ([U] 11.1.3 if exp, [U] 13.2.3 Relational
operators).  Weight expressions (``[pw=w1/w2]``, ``pweight(exp)``) are ordinary
expressions evaluated observation by observation ([U] 11.1.6 weight).

The syntax layer is imported lazily so that the design layer can be used (and tested)
without it whenever the expression is a plain variable name or a ready-made mask.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, MemodelsError


def _expressions_module() -> Any:
    try:
        from ..syntax import expressions
    except ImportError as exc:  # pragma: no cover - depends on the syntax layer
        raise MemodelsError(
            "evaluating expressions needs memodels.syntax.expressions, which is unavailable"
        ) from exc
    return expressions


def _as_array(result: Any, n: int, what: str) -> np.ndarray:
    if isinstance(result, pd.Series):
        result = result.to_numpy(dtype=float, na_value=np.nan)
    try:
        arr = np.asarray(result, dtype=float)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{what}: type mismatch (a string expression is not allowed)") from exc
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    if arr.shape != (n,):
        raise DataError(f"{what} evaluated to shape {arr.shape}, expected ({n},)")
    return arr


def evaluate_expression(expr: Any, data: pd.DataFrame, what: str = "expression") -> np.ndarray:
    """Evaluate a parsed expression (AST), expression text, or array on every row.

    Returns float64 values with NaN for Stata's missing.  Text that is exactly a column
    name is read directly (no parser needed).
    """
    n = len(data)
    if isinstance(expr, (np.ndarray, pd.Series, list)):
        return _as_array(expr, n, what)
    if isinstance(expr, str):
        text = expr.strip()
        if text in data.columns:
            from .variables import numeric_values

            return numeric_values(data[text], text, "weight variable")
        module = _expressions_module()
        expr = module.parse_expression(text)
    module = _expressions_module()
    return _as_array(module.evaluate(expr, data), n, what)


def if_mask(if_expr: Any, data: pd.DataFrame) -> np.ndarray:
    """Rows selected by ``if exp``: expression nonzero (missing counts as true).

    A boolean array/Series is accepted as an already-evaluated mask.
    """
    if isinstance(if_expr, (np.ndarray, pd.Series)) and np.asarray(if_expr).dtype == bool:
        mask = np.asarray(if_expr, dtype=bool)
        if mask.shape != (len(data),):
            raise DataError(f"if mask has shape {mask.shape}, expected ({len(data)},)")
        return mask.copy()
    if isinstance(if_expr, str):
        if_expr = _expressions_module().parse_expression(if_expr)
    if not isinstance(if_expr, (np.ndarray, pd.Series, list)):
        condition = getattr(_expressions_module(), "evaluate_condition", None)
        if condition is not None:
            mask = np.asarray(condition(if_expr, data))
            if mask.dtype == bool and mask.shape == (len(data),):
                return mask.copy()
    values = evaluate_expression(if_expr, data, "if expression")
    return np.isnan(values) | (values != 0)
