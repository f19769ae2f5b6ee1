"""Columns computed by an lme4 formula's transforms (``log(x)``, ``np.log(x)``,
``I(x**2)``, ``scale(x)``, ``poly(x, 2)``, ``offset(...)``'s expression): evaluated with
formulaic on a copy of the data (the input is never modified).

The transform's state (``scale``'s mean and standard deviation, ``poly``'s
coefficients) is taken from the data the model is fitted on and kept in
``Design.derived``, so that predictions and margins on other data evaluate the same
function (:func:`derive_again`).  Rows where an input is missing give NaN, and the
estimation sample drops them as it drops any missing value.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError
from ..spec import ModelSpec


def _matrix(expression: str, data: pd.DataFrame, state: Any = None):
    import formulaic

    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # log(0) = -inf: refused later
            if state is None:
                return formulaic.model_matrix(f"0 + {expression}", data, na_action="ignore",
                                              ensure_full_rank=False, context={})
            return state.get_model_matrix(data, na_action="ignore")
    except Exception as exc:  # formulaic raises many kinds for a bad expression
        raise DataError(f"formula term {expression}: cannot be evaluated on the data "
                        f"({type(exc).__name__}: {exc})") from None


def _columns(mm, expression: str, want: tuple[str, ...]) -> dict[str, np.ndarray]:
    got = [str(c) for c in mm.columns]
    if len(got) == len(want) == 1:  # one column, named by the formula (cbind's trials)
        got = list(want)
    if tuple(got) != want:
        raise DataError(f"formula term {expression} gives the columns {got} on these data, "
                        f"not {list(want)} as in the estimation data")
    out = {}
    for name, c in zip(want, mm.columns, strict=True):
        vals = pd.to_numeric(pd.Series(np.asarray(mm[c])), errors="coerce")
        out[name] = vals.to_numpy(dtype=float, na_value=np.nan)
    return out


def derive(spec: ModelSpec, data: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any]]:
    """``data`` with the spec's derived columns added (a copy) and their states."""
    if not spec.derived:
        return data, {}
    new: dict[str, np.ndarray] = {}
    states: dict[str, Any] = {}
    for d in spec.derived:
        mm = _matrix(d.expression, data)
        new.update(_columns(mm, d.expression, d.columns))
        states[d.expression] = (mm.model_spec, d.columns)
    return data.assign(**new), states


def derive_again(states: dict[str, Any], data: pd.DataFrame) -> pd.DataFrame:
    """``data`` with the derived columns of a fitted model, computed with the
    estimation data's transform states (a copy; ``data`` itself unchanged)."""
    if not states:
        return data
    new: dict[str, np.ndarray] = {}
    for expression, (state, columns) in states.items():
        new.update(_columns(_matrix(expression, data, state), expression, columns))
    return data.assign(**new)
