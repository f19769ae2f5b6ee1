"""Splitting a do-file into its commands ([U] 16 Do-files, [P] comments).

:func:`parse_script` turns the text of a ``.do``-like file into ``(line number, command)``
pairs, as Stata's ``do`` reads it:

* ``*`` as the first non-blank character makes the line a comment;
* ``//`` (at the start of a line or after a blank) comments out the rest of the line;
* ``///`` (at the start of a line or after a blank) joins the next line to this one,
  ignoring the rest of the line -- a ``*`` comment ending in ``///`` continues too;
* ``/* ... */`` is a comment anywhere, may nest and may span lines (it then joins them);
* text inside double quotes is never a comment (``use "http://host/f.dta"``);
* blank lines are skipped; the line number is that of a command's first line.

``#delimit ;`` is not supported (an error names it).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import StataSyntaxError


@dataclass(frozen=True)
class ScriptLine:
    """One command of a script and the (1-based) line it starts on."""

    lineno: int
    text: str


def _blank_before(line: str, i: int) -> bool:
    return i == 0 or line[i - 1].isspace()


def _scan(line: str, depth: int) -> tuple[str, int, bool]:
    """Strip the comments of one physical line.

    ``depth`` is the ``/* */`` nesting depth carried in from earlier lines.  Returns the
    kept text, the depth at the end of the line and whether the line ends with a ``///``
    continuation.
    """
    out: list[str] = []
    i, n = 0, len(line)
    while i < n:
        if depth:
            if line.startswith("*/", i):
                depth -= 1
                i += 2
                if not depth:
                    out.append(" ")
            elif line.startswith("/*", i):
                depth += 1
                i += 2
            else:
                i += 1
            continue
        c = line[i]
        if c == '"':
            j = line.find('"', i + 1)
            j = n - 1 if j < 0 else j
            out.append(line[i : j + 1])
            i = j + 1
            continue
        if line.startswith("///", i) and _blank_before(line, i):
            return "".join(out), depth, True
        if line.startswith("//", i) and _blank_before(line, i):
            return "".join(out), depth, False
        if line.startswith("/*", i):
            depth += 1
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out), depth, False


def _ends_with_continuation(line: str) -> bool:
    text = line.rstrip()
    return text.endswith("///") and (len(text) == 3 or text[-4].isspace())


def parse_script(text: str) -> list[ScriptLine]:
    """The commands of a do-file, comments removed and continued lines joined.  A UTF-8
    byte-order mark at the start (written by some Windows editors) is ignored."""
    text = text.removeprefix("\ufeff")
    commands: list[ScriptLine] = []
    pieces: list[str] = []
    start = 0
    depth = 0
    star_comment = False  # inside a ``*`` comment continued with ///
    for lineno, raw in enumerate(text.splitlines(), start=1):
        if star_comment:
            star_comment = _ends_with_continuation(raw)
            continue
        if not pieces and not depth and raw.lstrip().startswith("*"):
            star_comment = _ends_with_continuation(raw)
            continue
        if not pieces and not depth:
            start = lineno
        kept, depth, cont = _scan(raw, depth)
        pieces.append(kept)
        if cont or depth:
            continue
        command = " ".join(p.strip() for p in pieces if p.strip())
        pieces = []
        if not command:
            continue
        if command.lower().startswith("#d"):
            raise StataSyntaxError(f"line {start}: #delimit is not supported; end each "
                                   "command at the end of its line (use /// to continue)")
        commands.append(ScriptLine(start, command))
    if depth:
        raise StataSyntaxError(f"line {start}: unterminated /* comment")
    rest = " ".join(p.strip() for p in pieces if p.strip())
    if rest:  # a /// on the last line
        commands.append(ScriptLine(start, rest))
    return commands


__all__ = ["ScriptLine", "parse_script"]
