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
* ``nolstretch``: the table is not widened for long names.  memodels prints every
  table at Stata's default width for ``linesize`` 80 (78 columns), where Stata cannot
  stretch the table either, so ``lstretch`` and ``nolstretch`` print the same table;
* ``coeflegend`` shows the legend ``_b[name]`` of each coefficient instead of the
  statistics.
"""

from __future__ import annotations

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
    )


__all__ = ["DISPLAY_OPTION_NAMES", "DisplaySpec", "display_spec"]
