"""Local and global macros of a session ([P] macro, [U] 18.3 Macros).

Expansion (:func:`expand`) follows Stata's rules: ```name'`` is the local macro
``name`` (empty when undefined), nested references expand from the inside out
(```x`i''``), ```=exp'`` is the value of an expression, ```++name'`` and ``
`name++'`` increment a local, ``$name`` and ``${name}`` are global macros; ``\\```
and ``\\$`` keep the character.

Commands: ``local name [text | "text" | = exp | : extended_fcn]``, ``local ++name``,
``local --name``, the same for ``global``, ``macro drop name...|_all`` and ``macro list``.
Extended macro functions: ``word count``, ``word # of``, ``list sizeof``, ``list
uniq``, ``list retokenize``, ``display``, ``variable label`` is not (an error names it).
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

from ..errors import StataSyntaxError
from .common import SessionError

if TYPE_CHECKING:
    from ..session import Session

MACRO_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,30}$")
# ```name'`` (innermost first); ```"`` opens a compound double quote, not a macro
_INNER_LOCAL = re.compile(r"(?<!\\)`(?!\")([^`']*)'")
_GLOBAL = re.compile(r"(?<!\\)\$(?:\{([A-Za-z_]\w*)\}|([A-Za-z_]\w*))")
_MAX_EXPANSIONS = 10_000


def macro_number(value: float) -> str:
    """A number as Stata stores it in a macro (``local x = 1/4`` -> ``.25``)."""
    if math.isnan(value):
        return "."
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    text = repr(float(value))
    if text.startswith("0."):
        return text[1:]
    if text.startswith("-0."):
        return "-" + text[2:]
    return text


def _local_ref(inner: str, session: Session) -> str:
    if inner.startswith("="):
        from .cmd_display import evaluate_scalar

        value = evaluate_scalar(inner[1:], session)
        return value if isinstance(value, str) else macro_number(float(value))
    if inner.startswith(":"):
        return extended(inner[1:], session)
    m = re.match(r"^(\+\+|--)([A-Za-z_]\w*)$|^([A-Za-z_]\w*)(\+\+|--)$", inner)
    if m:
        if m.group(1):
            return increment(session.locals, m.group(2), m.group(1), pre=True)
        return increment(session.locals, m.group(3), m.group(4), pre=False)
    name = inner.strip()
    return session.locals.get(name, "")


def increment(table: dict[str, str], name: str, op: str, *, pre: bool) -> str:
    """``++name`` / ``name++`` (``--``): add or subtract 1 (an empty macro is 0); the new
    value for the prefix form, the old one for the postfix form."""
    old = table.get(name, "")
    try:
        num = float(old) if old.strip() else 0.0
    except ValueError:
        raise SessionError(f"macro {name} ({old!r}) is not a number", 198) from None
    new = num + (1 if op == "++" else -1)
    table[name] = macro_number(new)
    return macro_number(new if pre else num)


def expand(text: str, session: Session) -> str:
    """``text`` with every macro reference replaced (see the module docstring)."""
    if "`" not in text and "$" not in text:
        return text
    count = 0
    while True:
        m = _INNER_LOCAL.search(text)
        if m is None:
            break
        text = text[: m.start()] + _local_ref(m.group(1), session) + text[m.end():]
        count += 1
        if count > _MAX_EXPANSIONS:
            raise SessionError("macro expansion: too many substitutions (a macro refers "
                               "to itself?)", 920)
    text = _GLOBAL.sub(lambda m: session.globals.get(m.group(1) or m.group(2), ""), text)
    return text.replace("\\`", "`").replace("\\$", "$")


# ----------------------------------------------------------------- commands
def _unquote(text: str) -> str:
    t = text.strip()
    if t.startswith('`"') and t.endswith("\"'") and t.count('`"') == 1:
        return t[2:-2]
    if len(t) >= 2 and t[0] == t[-1] == '"' and t.count('"') == 2:
        return t[1:-1]
    return t


def _words(text: str) -> list[str]:
    """Words of a macro's text, a ``"quoted phrase"`` or a ```"compound quoted"'``
    phrase being one word."""
    found = re.findall(r'`"(.*?)"\'|"([^"]*)"|(\S+)', text)
    return [a or b or c for a, b, c in found]


def extended(text: str, session: Session) -> str:
    """The extended macro functions ``word count``, ``word # of``, ``list sizeof``,
    ``list uniq``, ``list retokenize`` and ``display`` ([P] macro)."""
    t = text.strip()
    m = re.match(r"word\s+count\s+(.*)$", t, re.DOTALL)
    if m:
        return str(len(_words(_unquote(m.group(1)))))
    m = re.match(r"word\s+(\d+)\s+of\s+(.*)$", t, re.DOTALL)
    if m:
        words = _words(_unquote(m.group(2)))
        k = int(m.group(1))
        return words[k - 1] if 1 <= k <= len(words) else ""
    m = re.match(r"list\s+(sizeof|uniq|retokenize|clean)\s+([A-Za-z_]\w*)\s*$", t)
    if m:
        words = _words(session.locals.get(m.group(2), ""))
        if m.group(1) == "sizeof":
            return str(len(words))
        if m.group(1) == "uniq":
            return " ".join(dict.fromkeys(words))
        return " ".join(words)
    m = re.match(r"di(?:s|sp|spl|spla|splay)?\s+(.*)$", t, re.DOTALL)
    if m:
        from .cmd_display import display

        return display(session, m.group(1))
    word = t.split()[0] if t.split() else t
    raise StataSyntaxError(f"extended macro function {word!r} is not supported (word "
                           "count, word # of, list sizeof|uniq|retokenize and display are)")


def _define(session: Session, rest: str, table: dict[str, str], command: str) -> str:
    text = rest.strip()
    m = re.match(r"^(\+\+|--)([A-Za-z_]\w*)\s*$", text)
    if m:
        increment(table, m.group(2), m.group(1), pre=True)
        return ""
    m = re.match(r"^([A-Za-z_]\w*)\s*(.*)$", text, re.DOTALL)
    if m is None:
        raise SessionError(f"{command}: a macro name is required", 198)
    name, value = m.group(1), m.group(2)
    if not MACRO_NAME.match(name):
        raise SessionError(f"{name} invalid name (a macro name has at most 31 characters)",
                           198)
    if value.startswith("=") and not value.startswith("=="):
        from .cmd_display import evaluate_scalar

        v = evaluate_scalar(value[1:], session)
        table[name] = v if isinstance(v, str) else macro_number(float(v))
    elif value.startswith(":"):
        table[name] = extended(value[1:], session)
    else:
        table[name] = _unquote(value)
    return ""


def local(session: Session, rest: str) -> str:
    """``local name text``, ``local name = exp``, ``local name : word count ...``."""
    return _define(session, rest, session.locals, "local")


def global_(session: Session, rest: str) -> str:
    """``global name text`` (``$name`` / ``${name}``)."""
    return _define(session, rest, session.globals, "global")


def macro(session: Session, rest: str) -> str:
    """``macro drop name...`` / ``macro drop _all`` / ``macro list`` / ``macro dir``."""
    words = rest.split()
    if not words:
        raise SessionError("macro: subcommand required (drop, list)", 198)
    if words[0] in ("drop", "drop,"):
        names = words[1:]
        if not names:
            raise SessionError("macro drop: names required", 198)
        for nm in names:
            if nm == "_all":
                session.globals.clear()
                session.locals.clear()
            elif nm.startswith("_"):
                session.locals.pop(nm[1:], None)
            else:
                session.globals.pop(nm, None)
        return ""
    if words[0] in ("list", "li", "dir"):
        rows = [f"{k + ':':<13}{v}" for k, v in sorted(session.globals.items())]
        rows += [f"{'_' + k + ':':<13}{v}" for k, v in sorted(session.locals.items())]
        return "\n".join(rows)
    raise SessionError(f"macro {words[0]}: subcommand not supported (drop, list are)", 198)


def words(text: str) -> list[str]:
    """The words of a list (a ``"quoted phrase"`` is one word), as ``foreach ... in``
    reads them."""
    return _words(text)


__all__ = ["MACRO_NAME", "expand", "extended", "global_", "local", "macro", "increment",
           "macro_number", "words"]

