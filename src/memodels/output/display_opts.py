"""Stata's display options of estimation tables ([R] estimation options, "Reporting"),
shared by every estimation command of the [ME] manual (display_options, e.g. [ME] mixed
L14553, [ME] meglm L2672) and accepted at estimation and on replay:

* ``noci`` suppresses the confidence intervals; ``nopvalues`` the p-values and their
  test statistics;
* ``noomitted`` hides variables omitted because of collinearity; ``noemptycells`` hides
  interaction cells absent from the estimation sample (shown ``(empty)`` by default);
  ``baselevels``/``allbaselevels`` show the base levels;
* ``vsquish`` removes the blank lines that separate factor-variable terms from the other
  rows;
* ``nofvlabel`` shows factor levels by their values instead of their value labels;
  ``fvwrap(#)`` lets long value labels wrap over # lines (default 1: truncated);
  ``fvwrapon(word|width)`` breaks them at word boundaries (default) or anywhere;
* ``cformat(%fmt)`` formats coefficients, standard errors and confidence limits,
  ``pformat(%fmt)`` the p-values, ``sformat(%fmt)`` the test statistics (maximum widths
  9, 5 and 8);
* ``lstretch`` (the default) widens the first column of the coefficient and
  random-effects tables for names longer than it holds (up to 32 characters), as far as
  the line size allows; ``nolstretch`` keeps the standard width and abbreviates the
  names (``verylongvar~e``).  At Stata's default ``linesize`` 80 the 78-column table
  cannot be widened, so both print the same table; with ``set linesize 120`` in a
  session (or :func:`linesize` in Python) they differ for long names;
* ``coeflegend`` shows the legend ``_b[name]`` of each coefficient instead of the
  statistics.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from ..syntax.options import (
    DISPLAY_OPTION_NAMES,
    check_format,
    check_fvwrap,
    check_fvwrapon,
)
from . import numfmt


@dataclass(frozen=True)
class DisplaySpec:
    """The display options in effect for one table."""

    ci: bool = True
    pvalues: bool = True
    omitted: bool = True
    emptycells: bool = True
    baselevels: bool = False
    vsquish: bool = False
    fvlabel: bool = True
    fvwrap: int = 1
    fvwrapon: str = "word"
    cformat: str | None = None
    pformat: str | None = None
    sformat: str | None = None
    coeflegend: bool = False
    lstretch: bool = True
    linesize: int = 80

    # ---------------------------------------------------------------- formatting
    def coef(self, x: float) -> str:
        """Coefficients, standard errors, confidence limits (``%9.0g`` by default)."""
        return numfmt.g9(x) if self.cformat is None else numfmt.stata_format(x, self.cformat)

    def stat(self, x: float) -> str:
        """z or t statistics (``%8.2f`` by default)."""
        if self.sformat is None:
            return numfmt.fixed(x, 2)
        return numfmt.stata_format(x, self.sformat)

    def pval(self, x: float) -> str:
        """p-values (``%5.3f`` by default)."""
        if self.pformat is None:
            return numfmt.pvalue(x)
        return numfmt.stata_format(x, self.pformat)


def display_spec(options: dict[str, Any]) -> DisplaySpec:
    """The :class:`DisplaySpec` of a results object's options dict."""
    def fmt(key: str) -> str | None:
        value = options.get(key)
        return None if value in (None, False, True) else check_format(key, str(value))

    fvwrap = options.get("fvwrap")
    return DisplaySpec(
        ci=not options.get("noci"),
        pvalues=not options.get("nopvalues"),
        omitted=not options.get("noomitted"),
        emptycells=not options.get("noemptycells"),
        baselevels=bool(options.get("baselevels") or options.get("allbaselevels")),
        vsquish=bool(options.get("vsquish")),
        fvlabel=not options.get("nofvlabel"),
        fvwrap=1 if fvwrap in (None, True, False) else check_fvwrap(fvwrap),
        fvwrapon=check_fvwrapon(options.get("fvwrapon") or "word"),
        cformat=fmt("cformat"),
        pformat=fmt("pformat"),
        sformat=fmt("sformat"),
        coeflegend=bool(options.get("coeflegend")),
        lstretch=not options.get("nolstretch"),
        linesize=_LINESIZE.get(),
    )


# Stata's ``set linesize #`` (default 80): the width the tables may stretch to
_LINESIZE: ContextVar[int] = ContextVar("memodels_linesize", default=80)


@contextmanager
def linesize(width: int) -> Iterator[None]:
    """Render the tables for a line size of ``width`` characters (Stata's
    ``set linesize``, 40-255), e.g. ``with linesize(120): print(res)``."""
    width = int(width)
    if not 40 <= width <= 255:
        from ..errors import OptionError

        raise OptionError(f"linesize {width} out of range: it must be between 40 and 255")
    token = _LINESIZE.set(width)
    try:
        yield
    finally:
        _LINESIZE.reset(token)


def current_linesize() -> int:
    """The line size in effect (:func:`linesize`)."""
    return _LINESIZE.get()


__all__ = ["DISPLAY_OPTION_NAMES", "DisplaySpec", "current_linesize", "display_spec",
           "linesize"]
