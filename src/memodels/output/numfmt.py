"""Stata's display formats for numbers in estimation tables.

``g9`` imitates ``%9.0g`` as used in coefficient tables: at most eight characters
besides the sign, leading zero dropped (``.0390124``), trailing zeros dropped,
exponential form below 1e-4 or at 1e8 and above (``2.09e-05``).
"""

from __future__ import annotations

import math

from ..syntax.formats import g9, stata_format
from ..syntax.formats import parse_numeric_format as parse_format

__all__ = ["comma_int", "fixed", "g9", "g_ll", "parse_format", "pvalue", "stata_format"]


def g_ll(x: float) -> str:
    """Log likelihood in the header: eight significant digits."""
    s = f"{x:.8g}"
    if "e" in s:
        return s
    return s


def fixed(x: float, decimals: int) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "."
    return f"{x:.{decimals}f}"


def pvalue(x: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "."
    return f"{x:.3f}"


def comma_int(n: int) -> str:
    return f"{n:,}"


