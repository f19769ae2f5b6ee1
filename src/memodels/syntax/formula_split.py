"""Splitting the right-hand side of an lme4 formula into its top-level terms.

``y ~ x + log(z) + (1 + x | g) - w`` -> ``[("+", "x"), ("+", "log(z)"),
("+", "(1 + x | g)"), ("-", "w")]``: ``+``/``-`` split only outside parentheses,
brackets and quotes, and not after an operator (``x**-1``) or inside a number
(``1e-3``).
"""

from __future__ import annotations

from memodels.errors import StataSyntaxError


def split_terms(text: str) -> list[tuple[str, str]]:
    """The signed top-level terms of ``text`` (unbalanced parentheses refused)."""
    out: list[tuple[str, str]] = []
    depth = 0
    quote = ""
    sign = "+"
    start = 0
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = ""
            continue
        if ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth < 0:
                raise StataSyntaxError(f"unbalanced parentheses in formula {text.strip()!r}")
        elif ch in "+-" and depth == 0:
            before = text[start:i].rstrip()
            prev = before[-1:] if before else ""
            if prev and (prev in "*/^:~,=<>" or _in_number(before)):
                continue
            if before.strip():
                out.append((sign, before.strip()))
            elif out or prev:
                raise StataSyntaxError(f"unexpected {ch!r} in formula {text.strip()!r}")
            sign = ch
            start = i + 1
    if depth != 0 or quote:
        raise StataSyntaxError(f"unbalanced parentheses in formula {text.strip()!r}")
    last = text[start:].strip()
    if last:
        out.append((sign, last))
    elif out or sign == "-":
        raise StataSyntaxError(f"formula {text.strip()!r} ends with an operator")
    return out


def _in_number(before: str) -> bool:
    """``1e`` just before a sign: the exponent of a number literal."""
    if not before.endswith(("e", "E")):
        return False
    j = len(before) - 1
    while j > 0 and (before[j - 1].isdigit() or before[j - 1] == "."):
        j -= 1
    return j < len(before) - 1 and (j == 0 or not (before[j - 1].isalnum() or before[j - 1] == "_"))


def is_bar_term(term: str) -> bool:
    """A ``( ... | group)`` term: wholly parenthesized, with a top-level bar inside."""
    t = term.strip()
    if not (t.startswith("(") and t.endswith(")")):
        return False
    depth = 0
    for i, ch in enumerate(t):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0 and i != len(t) - 1:
                return False
        elif ch == "|" and depth == 1:
            return True
    return False


def is_wholly_parenthesized(term: str) -> bool:
    t = term.strip()
    if not (t.startswith("(") and t.endswith(")")):
        return False
    depth = 0
    for i, ch in enumerate(t):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0 and i != len(t) - 1:
                return False
    return True
