"""Columns and fixed-effects rows of Stata's coefficient tables under the display options
([R] estimation options; :mod:`memodels.output.display_opts`).

Column widths follow Stata's 78-column table: a 12-character label, `` |``, then
Coef. (11), Std. Err. (11), z (9), P>|z| (8), and the confidence interval (13 + 12).
``noci`` drops the interval, ``nopvalues`` the statistic and its p-value, and the rules
shrink with the table; ``coeflegend`` prints the estimate and its ``_b[name]`` legend.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from ..results.fixed_rows import is_factor_column
from .display_opts import DisplaySpec

LEVEL_WIDTH = 11  # factor levels (and value labels) end at column 11
LABEL_WIDTH = 12  # the first column of a coefficient table
MAX_LABEL_WIDTH = 32  # lstretch widens it up to Stata's longest name

_WIDTH: ContextVar[int] = ContextVar("memodels_label_width", default=LABEL_WIDTH)


def label_width() -> int:
    """The first column's width of the table being rendered (12 unless stretched)."""
    return _WIDTH.get()


@contextmanager
def stretched(width: int) -> Iterator[None]:
    """Render the rows of one table with a first column of ``width`` characters."""
    token = _WIDTH.set(int(width))
    try:
        yield
    finally:
        _WIDTH.reset(token)


def stretch_width(spec: DisplaySpec, labels: Iterable[str], base: int = LABEL_WIDTH) -> int:
    """``lstretch``: the first column is widened from ``base`` to hold the longest label
    (at most MAX_LABEL_WIDTH - LABEL_WIDTH more characters), as far as the line size
    allows beyond Stata's default 80; ``nolstretch`` keeps ``base``."""
    if not spec.lstretch:
        return base
    room = spec.linesize - 80
    need = max((len(str(t)) for t in labels), default=0)
    if room <= 0 or need <= base:
        return base
    return base + min(need - base, room, MAX_LABEL_WIDTH - LABEL_WIDTH)


def abbrev(text: str, width: int) -> str:
    """Stata's abbrev(): keep the start and the last character around a ``~``."""
    if len(text) <= width:
        return text
    return text[: width - 2] + "~" + text[-1]


def abbrev_label(label: str, width: int) -> str:
    """``cov(urban,_cons)`` -> ``cov(urban,~s)``: abbreviate inside the parentheses."""
    if len(label) <= width:
        return label
    if label.endswith(")") and "(" in label:
        head, inner = label[:-1].split("(", 1)
        room = width - len(head) - 2
        if room >= 3:
            return f"{head}({abbrev(inner, room)})"
    return abbrev(label, width)


@dataclass(frozen=True)
class Columns:
    """The numeric columns of one table: header text and cells."""

    spec: DisplaySpec
    level: float = 95.0
    coef_label: str = "Coef."
    stat: str = "z"
    pcol: str = "P>|z|"
    pvalues: bool = True  # the table has statistic/p-value columns at all
    dfcol: bool = False  # mixed's dftable(): a DF column after Std. Err.

    @property
    def show_p(self) -> bool:
        return self.pvalues and self.spec.pvalues and not self.spec.coeflegend

    @property
    def show_ci(self) -> bool:
        return self.spec.ci and not self.spec.coeflegend

    @property
    def width(self) -> int:
        """Characters after the ``|``."""
        if self.spec.coeflegend:
            return 64 if self.pvalues else 48
        w = 23 + (10 if self.dfcol else 0)
        if self.show_p:
            w += 16
        if self.show_ci:
            w += 25
        return w

    def header(self, se_label: str = "Std. Err.") -> str:
        if self.spec.coeflegend:
            return f"{self.coef_label:>11}  Legend"
        out = f"{self.coef_label:>11}{se_label:>12}"
        if self.dfcol:
            out += f"{'DF':>10}"
        if self.show_p:
            out += f"{self.stat:>7}{self.pcol:>9}"
        if self.show_ci:
            out += f"{'[' + f'{self.level:g}' + '% Conf. Interval]':>25}"
        return out

    def cells(self, est: float, se: float | None, z: float = math.nan, p: float = math.nan,
              lo: float = math.nan, hi: float = math.nan, *, se_blank: bool = False,
              legend: str = "", df: float | None = None) -> str:
        sp = self.spec
        if sp.coeflegend:
            return f"{sp.coef(est):>11}  {legend}".rstrip()
        se_txt = "" if se_blank or se is None else sp.coef(se)
        sew = 11 if (self.show_p or self.show_ci) else 12
        out = f"{sp.coef(est):>11}{se_txt:>{sew}}"
        if self.dfcol:
            out += f"{'.' if df is None or math.isnan(df) else f'{df:.1f}':>10}"
        if self.show_p:
            z_txt = "" if math.isnan(z) else sp.stat(z)
            p_txt = "" if math.isnan(p) else sp.pval(p)
            out += f"{z_txt:>9}{p_txt:>8}"
        if self.show_ci and not se_blank:  # no standard error, no interval (nostderr)
            low = 13 if self.show_p else 14
            out += f"{sp.coef(lo):>{low}}{sp.coef(hi):>12}"
        return out.rstrip()

    def marker(self, value: str, status: str, legend: str = "") -> str:
        """``0  (base)``, ``1  (omitted)``, ``0  (empty)``; with coeflegend the legend."""
        if self.spec.coeflegend and legend:
            return f"{value:>11}  {legend}"
        return f"{value:>11}  ({status})"


# ------------------------------------------------------------------ legend names
_LEVEL_PART = re.compile(r"^(\d+)([bo]*)\.(.+)$")


def legend_name(name: str, status: str) -> str:
    """The ``_b[]`` name of a coefficient: as in e(b) for estimated rows; base levels
    marked ``1b.x``, omitted ones ``o.x``/``2o.x`` as Stata names them."""
    if status not in ("base", "omitted"):
        return f"_b[{name}]"
    parts = []
    for part in name.split("#"):
        m = _LEVEL_PART.match(part)
        mark = "b" if status == "base" else "o"
        if m:
            parts.append(f"{m.group(1)}{mark}.{m.group(3)}")
        elif status == "omitted":
            parts.append(f"o.{part}")
        else:
            parts.append(part)
    return f"_b[{'#'.join(parts)}]"


# ------------------------------------------------------------- factor-level labels
def _factor_parts(name: str) -> list[tuple[str, str | None]]:
    """``2.stage#c.age`` -> [("stage", "2"), ("c.age", None)]."""
    out: list[tuple[str, str | None]] = []
    for part in name.split("#"):
        m = _LEVEL_PART.match(part)
        out.append((m.group(3), m.group(1)) if m else (part, None))
    return out


def _code_label(labels: dict, code: str) -> str | None:
    for key in (code, _number(code)):
        if key is not None and key in labels:
            return str(labels[key])
    return None


def _number(code: str) -> int | float | None:
    try:
        v = float(code)
    except ValueError:
        return None
    return int(v) if v.is_integer() else v


def value_label_text(name: str, value_labels: dict, spec: DisplaySpec) -> str | None:
    """The value-label text of a factor row (``Foreign``, ``Low#Male``), or None when no
    factor of the row carries value labels or ``nofvlabel`` is in effect."""
    if not spec.fvlabel or not value_labels:
        return None
    texts, used = [], False
    for var, code in _factor_parts(name):
        if code is None:
            continue
        lab = _code_label(value_labels.get(var, {}), code)
        used |= lab is not None
        texts.append(code if lab is None else lab)
    return "#".join(texts) if used else None


def term_of(name: str) -> str:
    """``1.foreign`` -> ``foreign``; ``2.a#c.x`` -> ``a#c.x``."""
    return "#".join(var for var, _ in _factor_parts(name))


def level_text(name: str) -> str:
    """``1.foreign`` -> ``1``; ``2.a#3.b`` -> ``2 3`` (Stata's level labels)."""
    return " ".join(code for _, code in _factor_parts(name) if code is not None)


def wrap_label(text: str, spec: DisplaySpec, width: int = LEVEL_WIDTH) -> list[str]:
    """A value label over at most ``fvwrap`` lines of ``width`` characters, broken at
    word boundaries (``fvwrapon(word)``) or anywhere (``fvwrapon(width)``); what does
    not fit is truncated."""
    if len(text) <= width:
        return [text]
    lines: list[str] = []
    rest = text
    while rest and len(lines) < spec.fvwrap - 1 and len(rest) > width:
        cut = width
        if spec.fvwrapon == "word":
            space = rest.rfind(" ", 0, width + 1)
            if space > 0:
                cut = space
        lines.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    lines.append(rest[:width])  # the last line allowed: what does not fit is truncated
    return lines


# ------------------------------------------------------------------ fixed rows
def shown_rows(rows: Iterable, spec: DisplaySpec) -> list:
    """The fixed-effects rows to display: empty cells unless ``noemptycells``, omitted
    ones unless ``noomitted``, base levels only with ``baselevels``/``allbaselevels``."""
    out = []
    for r in rows:
        if r.section != "fixed":
            continue
        if r.status == "empty" and not spec.emptycells:
            continue
        if r.status == "omitted" and not spec.omitted:
            continue
        if r.status == "base" and not spec.baselevels:
            continue
        out.append(r)
    return out


def fixed_lines(rows: list, spec: DisplaySpec, value_labels: dict,
                body: Callable[[object], str], *, trailing: Iterable[tuple[str, str]] = (),
                block_label: Callable[[str], str] | None = None) -> list[str]:
    """The lines of the fixed-effects rows: factor terms with more than one displayed
    level (or with value labels) under a header, separated from the other rows by a
    blank line unless ``vsquish``.  ``body(row)`` gives the text after ``|``;
    ``trailing`` adds plain (label, body) rows after them (offset/exposure)."""
    lw = label_width()
    lev_w = LEVEL_WIDTH + lw - LABEL_WIDTH
    block_label = block_label or (lambda b: abbrev(b, lw))
    terms = [r.block or (term_of(r.name) if is_factor_column(r.name) else None) for r in rows]
    counts: dict[str, int] = {}
    for t in terms:
        if t:
            counts[t] = counts.get(t, 0) + 1
    groups: list[tuple[str | None, list[tuple[list[str], str]]]] = []
    for r, term in zip(rows, terms, strict=True):
        labtext = value_label_text(r.name, value_labels, spec)
        block = term if term and (counts[term] > 1 or labtext is not None) else None
        if labtext is not None:
            labels = [f"{line:>{lev_w}} " for line in wrap_label(labtext, spec, lev_w)]
        elif block:
            level = r.label if r.block else level_text(r.name)
            labels = [f"{abbrev(level, lev_w - 1):>{lev_w}} "]
        else:
            labels = [abbrev(r.label, lw)]
        item = (labels, body(r))
        if groups and groups[-1][0] == block:
            groups[-1][1].append(item)
        else:
            groups.append((block, [item]))
    for label, text in trailing:
        item = ([abbrev(label, lw)], text)
        if groups and groups[-1][0] is None:
            groups[-1][1].append(item)
        else:
            groups.append((None, [item]))
    out: list[str] = []
    for k, (block, items) in enumerate(groups):
        if k and not spec.vsquish and (block is not None or groups[k - 1][0] is not None):
            out.append(f"{'':>{lw}} |")
        if block is not None:
            out.append(f"{block_label(block):>{lw}} |")
        for labels, text in items:
            for extra in labels[:-1]:
                out.append(f"{extra:>{lw}} |")
            out.append(f"{labels[-1]:>{lw}} |{text}".rstrip())
    return out


__all__ = ["Columns", "LABEL_WIDTH", "abbrev", "abbrev_label", "fixed_lines", "label_width",
           "legend_name", "shown_rows", "stretch_width", "stretched",
           "value_label_text", "wrap_label"]
