"""Stata's numeric display formats ([D] format), used by the display options
(``cformat(%9.2f)``...), ``estat wcorrelation, format()`` and ``display %fmt``.

``g9`` imitates ``%9.0g`` as used in coefficient tables: at most eight characters
besides the sign, leading zero dropped (``.0390124``), trailing zeros dropped,
exponential form below 1e-4 or at 1e8 and above (``2.09e-05``).
"""

from __future__ import annotations

import math
import re


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


_FMT_RX = re.compile(r"%(-?)(0?)(\d+)\.(\d+)([fge])(c?)")


def parse_numeric_format(text: str) -> tuple[int, int, str, bool] | None:
    """``%9.2f`` -> (9, 2, "f", False); ``%10.3gc`` -> (10, 3, "g", True); None if the
    text is not a right-justified numeric %w.d{f,g,e}[c] format ([D] format)."""
    m = _FMT_RX.fullmatch(text.strip())
    if m is None or m.group(1):
        return None
    return int(m.group(3)), int(m.group(4)), m.group(5), bool(m.group(6))


def stata_format(x: float | None, fmt: str) -> str:
    """``x`` shown with a Stata numeric display format ([D] format): ``%9.2f`` fixed
    (leading zero kept: ``0.50``), ``%9.3g`` general with 3 significant digits (leading
    zero dropped: ``.804``; ``%9.0g`` is :func:`g9`'s automatic rule), ``%10.2e``
    exponential; a trailing ``c`` adds thousands separators.  Missing -> ``.``."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "."
    parsed = parse_numeric_format(fmt)
    if parsed is None:
        raise ValueError(f"invalid numeric format {fmt!r}")
    width, dec, kind, comma = parsed
    if math.isinf(x):
        return "." if x > 0 else "-."
    sep = "," if comma else ""
    if kind == "f":
        return f"{x:{sep}.{dec}f}"
    if kind == "e":
        return f"{x:.{dec}e}"
    if dec == 0:
        text = g9(x)
        return text if len(text) <= width else f"{x:.{max(width - 7, 1)}e}"
    text = f"{x:.{dec}g}"
    if "e" not in text:
        if comma:
            text = f"{float(text):{sep}.{max(dec - len(str(int(abs(float(text))))), 0)}f}"
        text = text.replace("0.", ".", 1) if text.startswith(("0.", "-0.")) else text
    else:
        mant, exp = text.split("e")
        text = f"{mant}e{exp[0]}{exp[1:].zfill(2)}"
    return text


__all__ = ["g9", "parse_numeric_format", "stata_format"]
