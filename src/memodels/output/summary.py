"""``res.summary()``: Stata's text output as an object that notebooks render.

:class:`Summary` *is* the text (a ``str`` subclass, so ``print(res.summary())``,
``"\\n" + res.summary()`` and string comparisons behave as before); in a notebook it
displays as HTML (``_repr_html_``), and :meth:`Summary.as_latex` gives a LaTeX version.
Both are built from the lines of the text itself, so they carry exactly the same
numbers: the header lines (title, number of observations, groups, log likelihood,
tests) in a preformatted block, each table (the coefficient table, the random-effects
table, the group table) as a ``<table>`` with one cell per column Stata prints, and the
notes below in a preformatted block.
"""

from __future__ import annotations

import html
import re

_SPLIT_HEAD = re.compile(r"\s{2,}")


def _is_rule(line: str) -> bool:
    s = line.strip()
    return bool(s) and set(s) <= set("-+")


def _cells(line: str, header: bool) -> tuple[str, list[str]]:
    label, _, rest = line.partition("|")
    rest = rest.strip()
    if not rest:
        return label.strip(), []
    parts = _SPLIT_HEAD.split(rest) if header else rest.split()
    return label.strip(), [p for p in parts if p]


def blocks(text: str) -> list[tuple[str, list[str]]]:
    """The text split into ("pre", lines) and ("table", lines) blocks; a table is a run
    of lines with Stata's ``|`` column separator (and its ``---+---`` rules)."""
    out: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        kind = "table" if ("|" in line and not line.lstrip().startswith("(")) or (
            _is_rule(line) and "+" in line) else "pre"
        if kind == "pre" and _is_rule(line) and out and out[-1][0] == "table":
            kind = "table"  # the closing rule of a table
        if out and out[-1][0] == kind:
            out[-1][1].append(line)
        else:
            out.append((kind, [line]))
    return out


def _table_rows(lines: list[str]) -> list[tuple[bool, str, list[str]]]:
    """(is header, label, cells) for the non-rule lines of a table block: the first
    line before a rule is the column header.  Data cells are placed in the columns of
    the widest row by their (right-aligned) positions, so that a random-effects row
    without z and P>|z| keeps its interval under the interval columns (empty cells
    in between)."""
    parsed = []
    seen_rule = False
    for line in lines:
        if _is_rule(line):
            seen_rule = True
            continue
        header = not seen_rule  # the heading lines above the first rule
        label, cells = _cells(line, header)
        rest = line.partition("|")[2]
        ends = [m.end() for m in re.finditer(r"\S+", rest)] if not header else []
        parsed.append((header, label, cells, ends))
    ref = max((e for h, _, c, e in parsed if not h and len(e) == len(c)), key=len,
              default=[])
    rows = []
    for header, label, cells, ends in parsed:
        if header or not cells or len(cells) >= len(ref) or len(ends) != len(cells):
            rows.append((header, label, cells))
            continue
        placed = [""] * len(ref)
        free = list(range(len(ref)))
        for cell, end in zip(cells, ends, strict=True):
            j = min(free, key=lambda k: abs(ref[k] - end))
            placed[j] = cell
            free.remove(j)
        rows.append((header, label, placed))
    return rows


def to_html(text: str) -> str:
    """The HTML rendering of Stata's text output (see the module docstring)."""
    parts = ['<div class="memodels-summary">']
    for kind, lines in blocks(text):
        if kind == "pre":
            body = "\n".join(ln for ln in lines if not _is_rule(ln)).strip("\n")
            if body.strip():
                parts.append(f"<pre>{html.escape(body)}</pre>")
            continue
        parts.append("<table>")
        for header, label, cells in _table_rows(lines):
            tag = "th" if header else "td"
            row = [f"<{tag}>{html.escape(label)}</{tag}>"]
            for c in cells:
                span = ' colspan="2"' if header and "Interval" in c else (
                    ' colspan="3"' if header and "per Group" in c else "")
                row.append(f"<{tag}{span}>{html.escape(c)}</{tag}>")
            parts.append("<tr>" + "".join(row) + "</tr>")
        parts.append("</table>")
    parts.append("</div>")
    return "\n".join(parts)


_LATEX_ESCAPE = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                 "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
                 "^": r"\textasciicircum{}", "|": r"\textbar{}", ">": r"\textgreater{}",
                 "<": r"\textless{}"}


def _tex(s: str) -> str:
    return "".join(_LATEX_ESCAPE.get(ch, ch) for ch in s)


def to_latex(text: str) -> str:
    """A LaTeX rendering (``verbatim`` header and notes, ``tabular`` tables)."""
    parts = []
    for kind, lines in blocks(text):
        if kind == "pre":
            body = "\n".join(ln for ln in lines if not _is_rule(ln)).strip("\n")
            if body.strip():
                parts.append("\\begin{verbatim}\n" + body + "\n\\end{verbatim}")
            continue
        rows = _table_rows(lines)
        width = max((len(c) for _, _, c in rows), default=0)
        ncols = 1 + max(width, 1)
        body = []
        for header, label, cells in rows:
            cells = list(cells)
            if header and cells and "Interval" in cells[-1]:
                cells[-1] = f"\\multicolumn{{2}}{{c}}{{{_tex(cells[-1])}}}"
                escaped = [_tex(c) for c in cells[:-1]] + [cells[-1]]
            else:
                escaped = [_tex(c) for c in cells]
            body.append(" & ".join([_tex(label), *escaped]) + r" \\")
            if header:
                body.append(r"\hline")
        parts.append(f"\\begin{{tabular}}{{l{'r' * (ncols - 1)}}}\n\\hline\n"
                     + "\n".join(body) + "\n\\hline\n\\end{tabular}")
    return "\n\n".join(parts) + "\n"


class Summary(str):
    """Stata's output of an estimation command (a ``str``), displayed as HTML in
    notebooks; :meth:`as_text`, :meth:`as_html`, :meth:`as_latex`."""

    def __repr__(self) -> str:
        return str.__str__(self)

    def as_text(self) -> str:
        return str.__str__(self)

    def as_html(self) -> str:
        return to_html(str.__str__(self))

    def _repr_html_(self) -> str:
        return self.as_html()

    def as_latex(self) -> str:
        return to_latex(str.__str__(self))


__all__ = ["Summary", "blocks", "to_html", "to_latex"]
