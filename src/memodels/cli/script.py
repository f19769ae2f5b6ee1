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

``#delimit ;`` (``#d ;``) makes ``;`` end commands, which may then span lines (a
command starting with ``*`` is a comment up to its ``;``); ``#delimit cr`` returns to
one command per line.
"""

from __future__ import annotations

import re
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


_DELIMIT = re.compile(r"^#d(?:e(?:l(?:i(?:m(?:i(?:t)?)?)?)?)?)?\s*(;|cr)?\s*$", re.IGNORECASE)


def _delimit(command: str, lineno: int) -> str | None:
    """The new delimiter of a ``#delimit`` line (None when the line is not one)."""
    if not command.lower().startswith("#d"):
        return None
    m = _DELIMIT.match(command.strip())
    if m is None or m.group(1) is None:
        raise StataSyntaxError(f"line {lineno}: #delimit takes ; or cr")
    return m.group(1).lower()


def _split_semicolons(text: str) -> tuple[list[str], str]:
    """Complete ``;``-terminated commands of ``text`` (outside quotes) and the rest."""
    out: list[str] = []
    start, i, n = 0, 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = text.find('"', i + 1)
            i = n if j < 0 else j + 1
            continue
        if c == ";":
            out.append(text[start:i])
            start = i + 1
        i += 1
    return out, text[start:]


def parse_script(text: str) -> list[ScriptLine]:
    """The commands of a do-file, comments removed and continued lines joined.  A UTF-8
    byte-order mark at the start (written by some Windows editors) is ignored."""
    text = text.removeprefix("\ufeff")
    commands: list[ScriptLine] = []
    pieces: list[str] = []
    start = 0
    depth = 0
    star_comment = False  # inside a ``*`` comment continued with ///
    semicolon = False  # #delimit ;
    buffer = ""
    for lineno, raw in enumerate(text.splitlines(), start=1):
        if semicolon:
            if not buffer.strip() and not depth:
                start = lineno
                if _delimit(raw.strip(), lineno) == "cr":
                    semicolon = False
                    buffer = ""
                    continue
            kept, depth, _ = _scan(raw, depth)
            buffer += kept + "\n"
            done, buffer = _split_semicolons(buffer)
            for piece in done:
                command = " ".join(piece.split())
                if command and not command.startswith("*"):
                    if _delimit(command, start) == "cr":
                        semicolon = False
                    elif _delimit(command, start) is None:
                        commands.append(ScriptLine(start, command))
                start = lineno
            if not semicolon and buffer.strip():
                raise StataSyntaxError(f"line {lineno}: text after #delimit cr on its line")
            continue
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
        delimiter = _delimit(command, start)
        if delimiter is not None:
            semicolon = delimiter == ";"
            buffer = ""
            continue
        commands.append(ScriptLine(start, command))
    if depth:
        raise StataSyntaxError(f"line {start}: unterminated /* comment")
    if semicolon and buffer.strip():
        raise StataSyntaxError(f"line {start}: the last command has no ; (#delimit ; is in "
                               "effect)")
    rest = " ".join(p.strip() for p in pieces if p.strip())
    if rest:  # a /// on the last line
        commands.append(ScriptLine(start, rest))
    return commands


__all__ = ["ScriptLine", "parse_script"]
