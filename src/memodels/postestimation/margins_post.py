"""``margins, post``: the margins become the active estimation results ([R] margins,
Options: post; Stored results).

The posted results hold e(b) (the margins, named as Stata names the columns: ``_cons``
for the overall margin, ``1.a``/``2.a`` for the levels of a factor, ``1.a#2.b`` for the
cells of an interaction, ``1._at``/``2._at`` for at() settings, the variable for an
average marginal effect) and e(V) (their joint delta-method VCE), so ``test``,
``testnl``, ``lincom`` and ``nlcom`` work on them as on any estimates.  What needs a
model (``predict``, ``estat``, ``margins`` with new arguments) is refused with a message:
Stata's "last estimates not found" equivalent, naming ``margins, post``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import MemodelsError
from ..results.rows import ParamRow


class PostedMarginsUnavailable(MemodelsError, AttributeError):
    """A model attribute asked of posted margins (an AttributeError too, so that
    ``getattr(res, name, default)`` still gives the default)."""


class PostedMargins:
    """The estimation results ``margins, post`` leaves active."""

    command = "margins"
    _OWN = ("params", "vcov", "rows", "depvar", "nobs", "level", "extra", "options",
            "table_text", "model_command")

    def __init__(self, names: list[str], b: np.ndarray, V: np.ndarray, *, depvar: str,
                 nobs: int, level: float, table_text: str, model_command: str) -> None:
        if len(set(names)) != len(names):
            raise MemodelsError("margins, post: the margins do not have distinct names "
                                "(Stata's e(b) column names); post one set at a time")
        b = np.asarray(b, float)
        V = np.asarray(V, float)
        if V.shape != (len(b), len(b)):
            raise MemodelsError("margins, post: the margins have no joint VCE (separate "
                                "at() or dydx() sets); post one set at a time")
        self.params = pd.Series(b, index=names, name="margin")
        self.vcov = pd.DataFrame(V, index=names, columns=names)
        se = np.sqrt(np.clip(np.diag(V), 0, None))
        self.rows = [ParamRow(n, "fixed", n, "", float(e), float(s))
                     for n, e, s in zip(names, b, se, strict=True)]
        self.depvar = depvar
        self.nobs = int(nobs)
        self.level = float(level)
        self.extra: dict[str, Any] = {"vce": "delta", "posted_margins": True}
        self.options: dict[str, Any] = {}
        self.table_text = table_text
        self.model_command = model_command
        self.design = None
        self.fit = None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in self._OWN:
            raise AttributeError(name)
        raise PostedMarginsUnavailable(
            f"{name} is not available: the active estimation results are the margins "
            f"posted by margins, post (after {self.model_command}); refit the model or "
            "restore its stored estimates")

    def summary(self) -> str:
        """The margins table, as typing ``margins`` replays it."""
        return self.table_text

    def __str__(self) -> str:
        return self.table_text

    def test(self, hypothesis: Any, small: bool = False, **options: Any):
        from .wald import test

        return test(self, hypothesis, small=small, **options)

    def testparm(self, varlist: Any, small: bool = False, equal: bool = False):
        from .wald import testparm

        return testparm(self, varlist, small=small, equal=equal)

    def lincom(self, expression: str, **options: Any):
        from .wald import lincom

        return lincom(self, expression, **options)

    def testnl(self, hypothesis: Any):
        from .nonlinear import testnl

        return testnl(self, hypothesis)

    def nlcom(self, expression: str, **options: Any):
        from .nonlinear import nlcom

        return nlcom(self, expression, **options)


__all__ = ["PostedMargins", "PostedMarginsUnavailable"]
