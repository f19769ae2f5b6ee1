"""A DataFrame that prints as Stata's postestimation output, and small result objects."""

from __future__ import annotations

import pandas as pd


class StataTable(pd.DataFrame):
    """A DataFrame carrying the title and the text Stata would print.

    ``str(table)`` (and ``print``) gives the Stata-style text; ``repr`` in a notebook
    or console is the usual DataFrame view.
    """

    _metadata = ["title", "stata_text", "r"]

    @property
    def _constructor(self):
        return StataTable

    def __str__(self) -> str:
        text = getattr(self, "stata_text", None)
        return text if text else super().__str__()


def make_table(df: pd.DataFrame, title: str, text: str,
               r: dict | None = None) -> StataTable:
    """``r``: what Stata stores in r() (scalars, macros as str, matrices as DataFrames)."""
    out = StataTable(df)
    out.title = title
    out.stata_text = text
    out.r = dict(r or {})
    return out


def fmt(x: float, width: int = 10, digits: int = 7) -> str:
    """Stata's %9.0g-like display: 7 significant digits, at most 7 decimals."""
    from math import isnan

    if x is None or (isinstance(x, float) and isnan(x)):
        return ".".rjust(width)
    ax = abs(x)
    if ax != 0 and (ax < 1e-4 or ax >= 1e8):
        s = f"{x:.{max(digits - 4, 1)}e}"
    elif ax < 1:
        s = f"{x:.{digits}f}".rstrip("0").rstrip(".") or "0"
        s = s.replace("0.", ".", 1) if s.startswith(("0.", "-0.")) else s
    else:
        s = f"{x:.{digits}g}"
    return s.rjust(width)


class TextDict(dict):
    """A dict of results that prints as Stata's text; ``r`` holds Stata's r()."""

    def __init__(self, data, text, r: dict | None = None):
        super().__init__(data)
        self.stata_text = text
        self.r = dict(r or {})

    def __str__(self) -> str:
        return self.stata_text
