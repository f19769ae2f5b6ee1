"""memodels: Stata's multilevel mixed-effects models in Python.

Two front doors over one engine: Stata syntax (``memodels.mixed("weight week || id:",
df)`` or ``memodels.fit("mixed weight week || id:", df)``) and lme4-style formulas
(``memodels.mixed("weight ~ week + (1 | id)", df)``).

The public names are imported on first use, so ``import memodels`` stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from ._version import __version__

# public name -> (module, attribute or None for the module itself)
_PUBLIC: dict[str, tuple[str, str | None]] = {
    "fit": ("memodels.commands.dispatch", "fit"),
    "mixed": ("memodels.commands.mixed", "mixed"),
    "meglm": ("memodels.commands.meglm", "meglm"),
    "melogit": ("memodels.commands.me_binary", "melogit"),
    "meprobit": ("memodels.commands.me_binary", "meprobit"),
    "mecloglog": ("memodels.commands.me_binary", "mecloglog"),
    "mepoisson": ("memodels.commands.me_count", "mepoisson"),
    "menbreg": ("memodels.commands.me_count", "menbreg"),
    "meqrlogit": ("memodels.commands.meqr", "meqrlogit"),
    "meqrpoisson": ("memodels.commands.meqr", "meqrpoisson"),
    "meologit": ("memodels.commands.me_ordinal", "meologit"),
    "meoprobit": ("memodels.commands.me_ordinal", "meoprobit"),
    "mestreg": ("memodels.commands.mestreg", "mestreg"),
    "stset": ("memodels.survival.stset", "stset"),
    "lrtest": ("memodels.postestimation.lrtest", "lrtest"),
    "bootstrap": ("memodels.postestimation.bootstrap", "bootstrap"),
    "postestimation": ("memodels.postestimation", None),
    "datasets": ("memodels.datasets", None),
    "read_data": ("memodels.io", "read_data"),
    "Session": ("memodels.session", "Session"),
    "session": ("memodels.session", None),
    "errors": ("memodels.errors", None),
    "plot": ("memodels.plot", None),
    "compare": ("memodels.output.compare", "compare"),
    "load": ("memodels.persistence", "load"),
    "MemodelsWarning": ("memodels.errors", "MemodelsWarning"),
    "ConvergenceWarning": ("memodels.errors", "ConvergenceWarning"),
    "BoundaryWarning": ("memodels.errors", "BoundaryWarning"),
}

__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'memodels' has no attribute '{name}'")
    module, attr = _PUBLIC[name]
    mod = import_module(module)
    value = mod if attr is None else getattr(mod, attr)
    if module.startswith("memodels.commands.") and module != "memodels.commands.dispatch":
        # an estimation command: numerical failures become memodels errors, as in fit()
        from .commands.dispatch import guarded

        value = guarded(name, value)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
