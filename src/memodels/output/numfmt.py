"""Stata's display formats for numbers in estimation tables.

``g9`` imitates ``%9.0g`` as used in coefficient tables: at most eight characters
besides the sign, leading zero dropped (``.0390124``), trailing zeros dropped,
exponential form below 1e-4 or at 1e8 and above (``2.09e-05``).
"""

from __future__ import annotations

import math


def g9(x: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "."
    if math.isinf(x):
        return "." if x > 0 else "-."
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    a = abs(x)
    if a < 1e-4 or a >= 1e8:
        mant, exp = f"{a:.2e}".split("e")
        return f"{sign}{mant}e{exp[0]}{exp[1:].zfill(2)}"
    digits = len(str(int(a))) if a >= 1 else 0
    decimals = max(0, 7 - digits)
    s = f"{a:.{decimals}f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    if s.startswith("0."):
        s = s[1:]
    if s in ("", "0"):
        return "0"
    return sign + s


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
