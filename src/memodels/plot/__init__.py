"""Plots of memodels results (matplotlib, the optional ``plot`` extra, imported on use).

* :func:`marginsplot` -- the margins of ``res.margins(...)`` with their confidence
  intervals ([R] marginsplot);
* :func:`caterpillar` -- a level's random effects (empirical Bayes predictions) sorted,
  with their intervals (lme4's ``dotplot(ranef(condVar = TRUE))``);
* :func:`stcurve` -- survivor, hazard or cumulative hazard curves after ``mestreg``
  ([ME] mestreg postestimation, ``stcurve``);
* :func:`residuals` -- residuals against fitted values and a normal QQ plot.

Every function draws into ``ax=`` when given (a matplotlib Axes) and otherwise into a
new pyplot figure, and returns the Axes it drew on.  Nothing here changes matplotlib's
backend or its global settings: a notebook keeps showing figures inline.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_PUBLIC = {
    "marginsplot": "memodels.plot.margins",
    "caterpillar": "memodels.plot.reffects",
    "random_effects_table": "memodels.plot.reffects",
    "stcurve": "memodels.plot.survival",
    "residuals": "memodels.plot.diagnostics",
}

__all__ = list(_PUBLIC)


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'memodels.plot' has no attribute '{name}'")
    value = getattr(import_module(_PUBLIC[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
