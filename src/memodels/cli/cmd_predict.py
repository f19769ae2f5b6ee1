"""``predict`` in a session: Stata's syntax mapped to the results' ``predict`` method,
the new variables added to the session's data ([ME] mixed postestimation, [ME] meglm
postestimation, [ME] mestreg postestimation).

    predict [type] {newvar | stub* | newvarlist} [if] [in] [, statistic options]

The statistic is any the results' ``predict`` knows (``xb``, ``fitted``, ``reffects``,
``mu``, ``pr``, ``mean``, ``surv``...); options ``reses(stub* | newvarlist)`` (with
``reffects``), ``relevel()``, ``conditional()``, ``ebmodes``, ``ebmeans``,
``fixedonly``, ``marginal``, ``outcome()``, ``nooffset``, ``intpoints()``,
``iterate()``, ``tolerance()``; other options are passed on and checked by the library.
Predictions are made for every observation in memory (as Stata does: out-of-sample
where the covariates allow), then set to missing outside ``if``/``in``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import OptionError
from ..syntax.options import OptionTable, apply_def, iter_option_items
from .parsing import (
    arg,
    expand_names,
    flag,
    new_names,
    optional_arg,
    qualifier_mask,
    split_qualifiers,
    to_float,
    to_int,
)

if TYPE_CHECKING:
    from ..session import Session

STATISTICS = OptionTable([
    flag("xb"), flag("stdp"), flag("fitted", 3), flag("residuals", 3), flag("rstandard", 4),
    flag("reffects", 4), flag("mu"), flag("pr"), flag("eta"), flag("density", 4),
    flag("distribution", 4), flag("pearson", 4), flag("deviance", 3), flag("anscombe", 3),
    flag("scores", 2), flag("mean"), flag("median"), flag("hazard", 3), flag("surv"),
])
OPTIONS = OptionTable([
    optional_arg("reses", 5), arg("relevel", 5), arg("conditional", 4), flag("marginal", 4),
    flag("fixedonly", 5), flag("ebmodes", 6), flag("ebmeans", 6), arg("outcome", 3),
    flag("nooffset", 5), arg("intpoints", 4, to_int), arg("iterate", 4, to_int),
    arg("tolerance", 3, to_float),
])
_TYPES = ("byte", "int", "long", "float", "double")


def _options(text: str) -> tuple[str | None, dict[str, Any], list[str] | None]:
    """(statistic, keyword options for ``res.predict``, names given in ``reses()``)."""
    statistic: str | None = None
    kwargs: dict[str, Any] = {}
    reses: list[str] | None = None
    for name, value in iter_option_items(text):
        stat = STATISTICS.find(name)
        opt = OPTIONS.find(name) if stat is None else None
        if opt is not None and opt.name == "reses" and value is None:
            stat, opt = opt, None
        if stat is not None or (opt is None and value is None):
            chosen = stat.name if stat is not None else name
            if statistic is not None:
                raise OptionError(f"predict: only one statistic may be specified "
                                  f"({statistic} and {chosen})")
            statistic = chosen
        elif opt is None:  # unknown option with an argument: the library decides
            kwargs[name] = value
        elif opt.name == "reses":
            reses = str(value).split()
        else:
            key, parsed = apply_def(opt, value, name)
            kwargs[key] = parsed
    if reses is not None and statistic != "reffects":
        raise OptionError("predict: option reses() is allowed only with reffects")
    return statistic, kwargs, reses


def _columns(result: pd.Series | pd.DataFrame) -> list[pd.Series]:
    if isinstance(result, pd.DataFrame):
        return [result[c] for c in result.columns]
    return [result]


def _values(col: pd.Series, data: pd.DataFrame, mask: np.ndarray) -> np.ndarray:
    aligned = col if col.index.equals(data.index) else col.reindex(data.index)
    values = pd.to_numeric(aligned, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return np.where(mask, values, np.nan)


def predict(session: Session, rest: str) -> str:
    """``predict u*, reffects reses(se*)``, ``predict yhat, fitted relevel(id)``,
    ``predict pr*`` (ordinal), ``predict p, pr outcome(#2) marginal``..."""
    res = session.require_e()
    data = session.require_data()
    parts = split_qualifiers(rest)
    words = parts.body.split()
    if words and words[0] in _TYPES:
        words = words[1:]
    names = new_names(" ".join(words), [str(c) for c in data.columns], "predict")
    statistic, kwargs, reses = _options(parts.options)
    mask = qualifier_mask(data, parts)
    if (getattr(res, "family", "") == "ordinal" and statistic in (None, "mu", "pr")
            and kwargs.get("outcome") is None and len(names) == 1
            and not names[0].endswith("*")):
        # "you specify one or k new variables ... If you do not specify outcome(), these
        # options assume outcome(#1)" ([ME] meglm postestimation, Syntax for predict)
        kwargs["outcome"] = "#1"
    result = res.predict(statistic, data=data, **kwargs)
    cols = _columns(result)
    targets = expand_names(names, len(cols), list(data.columns), "predict")
    new = {nm: _values(c, data, mask) for nm, c in zip(targets, cols, strict=True)}
    if reses is not None:
        se_cols = _columns(res.predict("reses", data=data, **kwargs))
        taken = list(data.columns) + targets
        se_names = expand_names(reses, len(se_cols), taken, "predict, reses()")
        new.update({nm: _values(c, data, mask) for nm, c in zip(se_names, se_cols,
                                                                   strict=True)})
    lines = []
    if statistic is None and isinstance(result, pd.Series) and result.name:
        lines.append(f"(option {result.name} assumed)")
    for nm, values in new.items():
        data[nm] = values
        missing = int(np.isnan(values).sum())
        if missing:
            lines.append(f"({missing:,} missing value{'s' if missing != 1 else ''} "
                         f"generated{f' in {nm}' if len(new) > 1 else ''})")
    session.last = result
    return "\n".join(lines)


__all__ = ["OPTIONS", "STATISTICS", "predict"]
