"""Variable-list resolution against the data's column order ([U] 11.4 varlists).

Supported forms, each resolved in the data's column order:

* exact names (``weight``) — case sensitive, as in Stata;
* unique-prefix abbreviations (``wei`` -> ``weight``; Stata's ``set varabbrev on``,
  [U] 11.2 Abbreviation rules); an ambiguous abbreviation is an error naming it;
* wildcards ([U] 11.4.1): ``*`` matches zero or more characters (``child*``, ``*x``),
  ``?`` exactly one (``x?``), ``~`` like ``*`` but must match exactly one variable;
* ranges ``x1-x5``: every variable from ``x1`` to ``x5`` inclusive in data order
  (both ends may be abbreviated);
* ``_all`` (and a lone ``*``): every variable.

A token that matches nothing raises :class:`~memodels.errors.VariableNotFoundError`
naming the token.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from memodels.errors import StataSyntaxError, VariableNotFoundError
from memodels.syntax.tokens import EOF, NAME, Token, TokenStream, tokenize

_WILD = re.compile(r"[*?~]")


def _wildcard_regex(pattern: str) -> re.Pattern[str]:
    parts = []
    for ch in pattern:
        if ch in "*~":
            parts.append(".*")
        elif ch == "?":
            parts.append(".")
        else:
            parts.append(re.escape(ch))
    return re.compile("".join(parts) + r"\Z")


def resolve_name(token: str, columns: Sequence[str], *, abbrev: bool = True) -> list[str]:
    """Resolve one varlist token (name, abbreviation or wildcard pattern) to columns.

    >>> resolve_name("wei", ["id", "week", "weight"])
    ['weight']
    >>> resolve_name("w*", ["id", "week", "weight"])
    ['week', 'weight']
    """
    cols = list(columns)
    if token == "_all":
        return cols
    if _WILD.search(token):
        rx = _wildcard_regex(token)
        found = [c for c in cols if rx.match(c)]
        if not found:
            raise VariableNotFoundError(f"variable {token} not found")
        if "~" in token and len(found) > 1:
            raise VariableNotFoundError(
                f"{token} ambiguous abbreviation: matches {', '.join(found)}"
            )
        return found
    if token in cols:
        return [token]
    if abbrev:
        found = [c for c in cols if c.startswith(token)]
        if len(found) == 1:
            return found
        if len(found) > 1:
            raise VariableNotFoundError(
                f"{token} ambiguous abbreviation: matches {', '.join(found)}"
            )
    raise VariableNotFoundError(f"variable {token} not found")


def resolve_single(token: str, columns: Sequence[str], *, abbrev: bool = True) -> str:
    """Resolve a token that must name exactly one variable (depvar, levelvar, ...)."""
    found = resolve_name(token, columns, abbrev=abbrev)
    if len(found) != 1:
        raise StataSyntaxError(
            f"{token} must name a single variable but matches {len(found)}: {' '.join(found)}"
        )
    return found[0]


def resolve_range(
    first: str, last: str, columns: Sequence[str], *, abbrev: bool = True
) -> list[str]:
    """Resolve ``first-last``: the columns from ``first`` to ``last`` inclusive."""
    cols = list(columns)
    a = resolve_single(first, cols, abbrev=abbrev)
    b = resolve_single(last, cols, abbrev=abbrev)
    i, j = cols.index(a), cols.index(b)
    if j < i:
        raise StataSyntaxError(f"{first}-{last}: variables out of order")
    return cols[i : j + 1]


def parse_varlist_tokens(
    stream: TokenStream, columns: Sequence[str], *, abbrev: bool = True
) -> list[str]:
    """Consume NAME tokens (and ``a-b`` ranges) from ``stream``; return resolved names.

    Stops at the first token that is not a name or a range dash.  Duplicates are kept
    (callers decide whether repetition matters).
    """
    out: list[str] = []
    while stream.peek().kind == NAME:
        tok = stream.next()
        if stream.peek().is_op("-") and stream.peek(1).kind == NAME:
            stream.next()
            last = stream.next()
            out.extend(resolve_range(tok.text, last.text, columns, abbrev=abbrev))
        else:
            out.extend(resolve_name(tok.text, columns, abbrev=abbrev))
    return out


def resolve_varlist(
    text: str | Sequence[Token], columns: Sequence[str], *, abbrev: bool = True
) -> list[str]:
    """Resolve a whole varlist string such as ``"x1-x3 child* age"``.

    >>> resolve_varlist("x1-x3 z", ["x1", "x2", "x3", "y", "z"])
    ['x1', 'x2', 'x3', 'z']
    """
    toks = tokenize(text) if isinstance(text, str) else list(text)
    stream = TokenStream(toks)
    out = parse_varlist_tokens(stream, columns, abbrev=abbrev)
    if stream.peek().kind != EOF:
        raise StataSyntaxError(f"invalid varlist element {stream.peek().text!r}")
    return out
