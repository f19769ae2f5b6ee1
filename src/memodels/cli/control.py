"""Blocks and loops of a do-file ([P] foreach, [P] forvalues, [P] if, [P] while,
[P] continue, [P] quietly and capture blocks).

A block opens with a line ending in ``{`` and closes with a line holding only ``}``:

* ``foreach lname in|of local|of global|of varlist|of newvarlist|of numlist list {``
* ``forvalues lname = #1(#d)#2 | #1/#2 | #1 #t to #2 | #1 #t : #2 {``
* ``while exp {``
* ``if exp {`` ... ``}`` then optionally ``else if exp {``, ``else {`` or ``else command``;
  one-line ``if exp command``
* ``quietly {``, ``noisily {``, ``capture [noisily] {``

``continue`` skips to the next iteration of the innermost loop, ``continue, break`` leaves
it.  Macros in a block are expanded when each line runs (so the loop variable takes each
value); the block's header is expanded once, when it is reached.  At the top level of a
do-file a block is echoed once, its lines numbered as Stata numbers them in a log.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import StataSyntaxError
from ..syntax.varlist import resolve_varlist
from .common import SessionError, as_session_error
from .macros import MACRO_NAME, expand, macro_number, words
from .parsing import numlist
from .script import ScriptLine

if TYPE_CHECKING:
    from ..session import Session


class ExitScript(Exception):  # noqa: N818 - control flow, not an error
    """``exit`` in a do-file: stop the script (not an error)."""


class _Continue(Exception):  # noqa: N818
    pass


class _Break(Exception):  # noqa: N818
    pass


# run(command, prefix, report): runs one (unexpanded) command line
Runner = Callable[[ScriptLine, str, bool], None]


def opens_block(text: str) -> bool:
    """Whether a line opens a block (its last character is ``{``)."""
    return text.rstrip().endswith("{")


def _closes(text: str) -> bool:
    return text.strip() == "}"


def block_end(lines: Sequence[ScriptLine], i: int) -> int:
    """The index of the ``}`` closing the block opened at ``lines[i]``."""
    depth = 0
    for j in range(i, len(lines)):
        if opens_block(lines[j].text):
            depth += 1
        elif _closes(lines[j].text):
            depth -= 1
            if depth == 0:
                return j
    raise SessionError(f"line {lines[i].lineno}: open brace without a closing brace "
                       "(a '}' on a line of its own)", 198)


def _range_values(spec: str) -> list[str]:
    """forvalues ranges: ``1/5``, ``0(2)10``, ``10(-1)1``, ``1 3 to 9``, ``1 3 : 9``."""
    s = spec.strip()
    m = re.match(r"^(\S+)\s+(\S+)\s*(?:to|:)\s*(\S+)$", s)
    try:
        if m:
            a, t, b = (float(m.group(k)) for k in (1, 2, 3))
            s = f"{a!r}({t - a!r}){b!r}"
        if not re.match(r"^-?[\d.]+(?:\(-?[\d.]+\)|/)-?[\d.]+$", s.replace(" ", "")):
            raise ValueError
        return [macro_number(v) for v in numlist(s.replace(" ", ""))]
    except (ValueError, StataSyntaxError):
        raise SessionError(f"forvalues: invalid range {spec.strip()!r} (use #1/#2, "
                           "#1(#d)#2, #1 #t to #2)", 198) from None


def _foreach_items(session: Session, spec: str) -> tuple[str, list[str]]:
    m = re.match(r"^([A-Za-z_]\w*)\s+(in|of)\s*(.*)$", spec.strip(), re.DOTALL)
    if m is None:
        raise SessionError("foreach: syntax is foreach lname {in|of listtype} list {", 198)
    name, kind, rest = m.groups()
    if not MACRO_NAME.match(name):
        raise SessionError(f"foreach: {name} invalid name", 198)
    if kind == "in":
        return name, words(rest)
    lm = re.match(r"^([A-Za-z]+)\s*(.*)$", rest, re.DOTALL)
    if lm is None:
        raise SessionError("foreach: list type required after of (local, global, varlist, "
                           "newvarlist, numlist)", 198)
    ltype, items = lm.group(1), lm.group(2).strip()
    if ltype == "local":
        return name, words(session.locals.get(items, ""))
    if ltype == "global":
        return name, words(session.globals.get(items, ""))
    if "varlist".startswith(ltype) and len(ltype) >= 3:
        data = session.require_data()
        return name, resolve_varlist(items, [str(c) for c in data.columns])
    if ltype == "newvarlist" or ltype == "newlist":
        return name, items.split()
    if ltype == "numlist":
        return name, [macro_number(v) for v in numlist(items)] if items else []
    raise SessionError(f"foreach: list type {ltype} not allowed (local, global, varlist, "
                       "newvarlist, numlist)", 198)


def _truth(session: Session, expr: str) -> bool:
    from .cmd_display import evaluate_scalar

    value = evaluate_scalar(expr, session)
    if isinstance(value, str):
        raise SessionError("type mismatch: if requires a numeric expression", 109)
    return value != 0  # missing (nan) is true, as in Stata


def _split_if_command(session: Session, text: str) -> tuple[str, str]:
    """``if exp command`` -> (exp, command): the shortest leading expression followed by a
    command name."""
    from ..session import is_command_word

    starts = [m.start() for m in re.finditer(r"(?<=\s)\S", text)]
    for pos in starts:
        word = re.match(r"[A-Za-z_]\w*", text[pos:])
        if word and is_command_word(word.group(0)):
            return text[:pos].strip(), text[pos:].strip()
    raise SessionError("if: a command or an open brace must follow the expression", 198)


@dataclass
class Interpreter:
    """Runs a do-file's lines with its blocks (see the module docstring)."""

    session: Session
    run: Runner

    silent: int = 0  # > 0 inside a capture block: errors are not written to the log

    def run_lines(self, lines: Sequence[ScriptLine], prefix: str = "") -> None:
        """Run ``lines`` in order (blocks, loops and if/else included)."""
        i = 0
        while i < len(lines):
            i = self._step(lines, i, prefix)

    # ------------------------------------------------------------------ one step
    def _step(self, lines: Sequence[ScriptLine], i: int, prefix: str) -> int:
        cmd = lines[i]
        text = cmd.text.strip()
        if _closes(text):
            raise SessionError(f"line {cmd.lineno}: unexpected close brace", 198)
        word = first_word(text)
        if text in ("exit", "exit, clear"):
            raise ExitScript
        if word == "continue":
            rest = text[len("continue"):].replace(" ", "")
            if rest == "":
                raise _Continue
            if rest == ",break":
                raise _Break
            raise SessionError("continue: only the option break is allowed", 198)
        if not opens_block(text):
            if word in ("if", "else"):
                return self._if_chain(lines, i, prefix)
            self.run(cmd, prefix, self.silent == 0)
            return i + 1
        end = block_end(lines, i)
        if word == "if":
            return self._if_chain(lines, i, prefix)
        if word == "else":
            raise SessionError(f"line {cmd.lineno}: else without if", 198)
        body = lines[i + 1:end]
        header = expand(text[:-1].rstrip(), self.session)
        hw = header.split(None, 1)
        kw, spec = hw[0], (hw[1] if len(hw) > 1 else "")
        if kw == "foreach":
            name, items = _foreach_items(self.session, spec)
            self._loop(name, items, body, prefix)
        elif kw in ("forvalues", "forval", "forv", "forva", "forvalu", "forvalue"):
            m = re.match(r"^([A-Za-z_]\w*)\s*=\s*(.+)$", spec.strip())
            if m is None:
                raise SessionError("forvalues: syntax is forvalues lname = range {", 198)
            self._loop(m.group(1), _range_values(m.group(2)), body, prefix)
        elif kw == "while":  # the condition is expanded anew before each iteration
            raw = text[:-1].rstrip().split(None, 1)
            cond = raw[1] if len(raw) > 1 else ""
            while _truth(self.session, expand(cond, self.session)):
                try:
                    self.run_lines(body, prefix)
                except _Continue:
                    continue
                except _Break:
                    break
        else:
            self._prefix_block(header, body, prefix)
        return end + 1

    def _loop(self, name: str, items: list[str], body: Sequence[ScriptLine],
              prefix: str) -> None:
        for value in items:
            self.session.locals[name] = value
            try:
                self.run_lines(body, prefix)
            except _Continue:
                continue
            except _Break:
                break

    def _prefix_block(self, header: str, body: Sequence[ScriptLine], prefix: str) -> None:
        from ..session import split_prefixes

        found, rest = split_prefixes(header + " x")
        if rest.strip() != "x" or not found:
            raise SessionError(f"{header} {{: only foreach, forvalues, while, if, else, "
                               "quietly, noisily and capture open a block", 198)
        if "capture" in found:
            quiet = "noisily" not in found
            self.silent += 1
            try:
                self.run_lines(body, prefix + ("quietly " if quiet else ""))
            except (_Continue, _Break, ExitScript):
                raise
            except Exception as exc:  # noqa: BLE001 - capture: any error sets _rc
                self.session.rc = as_session_error(exc).rc
            else:
                self.session.rc = 0
            finally:
                self.silent -= 1
            return
        if "quietly" in found:
            self.run_lines(body, prefix + "quietly ")
        else:
            self.run_lines(body, prefix)

    # ------------------------------------------------------------------ if / else
    def _if_chain(self, lines: Sequence[ScriptLine], i: int, prefix: str) -> int:
        """``if exp {...} [else if exp {...}]... [else {...} | else command]`` and the
        one-line ``if exp command``."""
        cmd = lines[i]
        if first_word(cmd.text) == "else":
            raise SessionError(f"line {cmd.lineno}: else without if", 198)
        branches, j = if_chain(lines, i)
        for br in branches:
            if br.cond is None:
                self.run_lines(br.body, prefix)
                break
            cond = expand(br.cond, self.session)
            if br.one_line:
                expr, inner = _split_if_command(self.session, cond)
                if _truth(self.session, expr):
                    self.run_lines([ScriptLine(br.body[0].lineno, inner)], prefix)
                    break
                continue
            if _truth(self.session, cond):
                self.run_lines(br.body, prefix)
                break
        return j


@dataclass
class _Branch:
    cond: str | None  # None: else
    body: Sequence[ScriptLine]
    one_line: bool = False


def first_word(text: str) -> str:
    """The command word of a line (``if(x>1) {`` -> ``if``)."""
    m = re.match(r"\s*([A-Za-z_]\w*)", text)
    return m.group(1) if m else ""


def if_chain(lines: Sequence[ScriptLine], i: int) -> tuple[list[_Branch], int]:
    """The branches of the ``if`` statement at ``lines[i]`` and the index after it."""
    branches: list[_Branch] = []
    j = i
    while True:
        t = lines[j].text.strip()
        head = t if j == i else t[len("else"):].strip()
        is_if = first_word(head) == "if"
        if not opens_block(t):  # if exp command / else command
            if is_if:
                cond: str | None = head[2:].strip()
                branches.append(_Branch(cond, lines[j:j + 1], one_line=True))
            else:
                cond = None
                branches.append(_Branch(None, [ScriptLine(lines[j].lineno, head)]))
            j += 1
        else:
            end = block_end(lines, j)
            cond = head[2:-1].strip() if is_if else None
            if not is_if and head != "{":
                raise SessionError(f"line {lines[j].lineno}: else must be followed by if, "
                                   "an open brace or a command", 198)
            branches.append(_Branch(cond, lines[j + 1:end]))
            j = end + 1
        if cond is None or j >= len(lines) or first_word(lines[j].text) != "else":
            break
    return branches, j


def statement_end(lines: Sequence[ScriptLine], i: int) -> int:
    """The index after the statement starting at ``lines[i]`` (a command, a block, or an
    if/else chain)."""
    if _closes(lines[i].text):
        raise SessionError(f"line {lines[i].lineno}: unexpected close brace", 198)
    word = first_word(lines[i].text)
    if word == "if":
        return if_chain(lines, i)[1]
    if opens_block(lines[i].text):
        return block_end(lines, i) + 1
    return i + 1


def echo_block(lines: Sequence[ScriptLine]) -> str:
    """A block as Stata's log shows it: ``. foreach ... {`` then ``  2. line``..."""
    out = [f". {lines[0].text}"]
    out += [f"{k:>3}. {cmd.text}" for k, cmd in enumerate(lines[1:], start=2)]
    return "\n".join(out) + "\n"


__all__ = ["ExitScript", "Interpreter", "block_end", "echo_block", "opens_block"]
