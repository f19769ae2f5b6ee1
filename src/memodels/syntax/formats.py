"""Stata's numeric display formats ([D] format), used by the display options
(``cformat(%9.2f)``...), ``estat wcorrelation, format()`` and ``display %fmt``.

``g9`` imitates ``%9.0g`` as used in coefficient tables: at most eight characters
besides the sign, leading zero dropped (``.0390124``), trailing zeros dropped,
exponential form below 1e-4 or at 1e8 and above (``2.09e-05``).
"""

from __future__ import annotations

import math
import re

from ..errors import OptionError


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


# ------------------------------------------------ format options ([R] estimation options)
# option -> (maximum width, Stata's default)
FORMAT_OPTIONS = {"cformat": (9, "%9.0g"), "pformat": (5, "%5.3f"), "sformat": (8, "%8.2f")}

# every display option a command accepts at estimation and on replay
DISPLAY_OPTION_NAMES = ("noci", "nopvalues", "noomitted", "vsquish", "noemptycells",
                        "baselevels", "allbaselevels", "nofvlabel", "fvwrap", "fvwrapon",
                        "cformat", "pformat", "sformat", "nolstretch", "coeflegend")


def check_format(option: str, text: str) -> str:
    """Validate ``cformat()``/``pformat()``/``sformat()`` ([R] estimation options): a
    right-justified numeric ``%w.d{f,g,e}[c]`` format no wider than Stata allows (9, 5
    and 8 columns); returns it stripped."""
    parsed = parse_numeric_format(text)
    if parsed is None:
        raise OptionError(f"invalid numeric format {text.strip()!r} (a right-justified "
                          "%w.df, %w.dg or %w.de format is required); r(120)")
    maxw = FORMAT_OPTIONS[option][0]
    if parsed[0] > maxw:
        raise OptionError(f"invalid format {text.strip()}; width too large (the maximum "
                          f"width of {option}() is {maxw}); r(198)")
    return text.strip()


def check_wcorr_format(text: str) -> str:
    """``estat wcorrelation, format(%fmt)``: a right-justified numeric format."""
    if parse_numeric_format(str(text)) is None:
        raise OptionError(f"format({str(text).strip()}): invalid numeric format (a "
                          "right-justified %w.df, %w.dg or %w.de format is required); r(120)")
    return str(text).strip()


def check_cformat(text: str) -> str:
    return check_format("cformat", text)


def check_pformat(text: str) -> str:
    return check_format("pformat", text)


def check_sformat(text: str) -> str:
    return check_format("sformat", text)


def check_fvwrap(text: str | int) -> int:
    """``fvwrap(#)``: the number of lines a long value label may use (>= 1)."""
    try:
        value = float(str(text).strip())
    except ValueError:
        value = -1.0
    if not value.is_integer() or value < 1:
        raise OptionError(f"{str(text).strip()!r} invalid: a positive integer is required; "
                          "r(198)")
    return int(value)


def check_fvwrapon(text: str) -> str:
    """``fvwrapon(word|width)``."""
    v = str(text).strip().lower()
    if v in ("word", "width"):
        return v
    raise OptionError(f"{str(text).strip()!r} invalid: word or width is required; r(198)")



__all__ = ["DISPLAY_OPTION_NAMES", "FORMAT_OPTIONS", "check_cformat", "check_format",
           "check_fvwrap", "check_fvwrapon", "check_pformat", "check_sformat",
           "check_wcorr_format", "g9", "parse_numeric_format", "stata_format"]
