"""memodels: Stata's multilevel mixed-effects models in Python.

Two front doors over one engine: Stata syntax (``memodels.mixed("weight week || id:",
df)`` or ``memodels.fit("mixed weight week || id:", df)``) and lme4-style formulas
(``memodels.mixed("weight ~ week + (1 | id)", df)``).

The public names are imported on first use, so ``import memodels`` stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_PUBLIC = {
    "fit": "memodels.commands.dispatch",
    "mixed": "memodels.commands.mixed",
    "datasets": "memodels.datasets",
    "read_data": "memodels.io",
}

__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'memodels' has no attribute '{name}'")
    mod = import_module(module)
    value = mod if module.endswith("." + name) else getattr(mod, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
