"""Factor-variable notation for the fixed-effects part ([U] 11.4.3 Factor variables).

Supported operators (``[ME] mixed`` Syntax: "indepvars may contain factor variables")::

    x                plain variable -> FactorVar(x, "c", explicit=False)
    c.x              continuous     -> FactorVar(x, "c", explicit=True)
    i.x              indicators     -> FactorVar(x, "i", explicit=True)
    ib2.x            base level 2   (ib#.)
    ib(first).x ib(last).x ib(freq).x ib(#).x
    ibn.x  / bn.x    no base level  (base="none")
    i(2 3).x         only levels 2 and 3 (numlists such as 1/3 allowed)
    i2.x, 2.x        the indicator of level 2 only
    i.(a b)          the operator applied to each variable of a group
    a#b              interaction; un-prefixed variables in an interaction are factors
                     (Stata treats ``a#b`` as ``i.a#i.b``)
    a##b             full factorial: a b a#b;  a##b##c: a b a#b c a#c b#c a#b#c

Wildcards and ranges work inside the operators (``i.child*``, ``i.(x1-x3)``), and a
group or wildcard matching several variables inside an interaction expands to all
combinations (``i.(a b)#c.x`` -> ``a#x b#x``).  Time-series operators (``L.`` ``D.``
``F.`` ``S.``) are not supported and raise an error naming the token.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import replace

from memodels.errors import StataSyntaxError
from memodels.spec import Base, FactorVar, FixedTerm
from memodels.syntax.tokens import NAME, NUMBER, OP, TokenStream, tokenize
from memodels.syntax.varlist import resolve_name, resolve_range

_TS_OP = re.compile(r"^(L|F|D|S|l|f|d|s)\d*$|^(LD|DL|FD|DF|SD|DS)\d*$")
_I_LEVEL = re.compile(r"^i(\d+)$")
_IB_LEVEL = re.compile(r"^ib(\d+)$")


def _parse_number(text: str) -> int | float:
    v = float(text)
    return int(v) if v.is_integer() else v


def parse_numlist(text: str) -> tuple[float, ...]:
    """A Stata numlist as used by ``i(2 3).x``: numbers and ``a/b`` integer ranges."""
    vals: list[float] = []
    for item in text.replace(",", " ").split():
        if "/" in item:
            a, b = item.split("/", 1)
            try:
                lo, hi = int(a), int(b)
            except ValueError as exc:
                raise StataSyntaxError(f"invalid numlist element {item!r}") from exc
            step = 1 if hi >= lo else -1
            vals.extend(float(v) for v in range(lo, hi + step, step))
        else:
            try:
                vals.append(float(item))
            except ValueError as exc:
                raise StataSyntaxError(f"invalid numlist element {item!r}") from exc
    if not vals:
        raise StataSyntaxError(f"empty numlist {text!r}")
    return tuple(vals)


class _Op:
    """The parsed prefix operator of one factor item (before the variable name)."""

    def __init__(
        self,
        kind: str = "c",
        base: Base = "first",
        levels: tuple[float, ...] | None = None,
        explicit: bool = False,
    ) -> None:
        self.kind = kind
        self.base = base
        self.levels = levels
        self.explicit = explicit


def _parse_op(stream: TokenStream, text: str) -> _Op | None:
    """Parse ``op.`` at the stream position, or return None (stream unchanged)."""
    tok = stream.peek()
    # numeric level prefix such as 2.x (indicator for level 2)
    if tok.kind == NUMBER and stream.peek(1).is_op(".") and stream.peek(1).start == tok.end:
        stream.next()
        stream.next()
        # one selected level is that level's indicator, with no base level to omit
        # ([U] 11.4.3: ``1.treatment`` is the indicator of treatment == 1)
        return _Op("i", "none", (float(tok.text),), True)
    if tok.kind != NAME:
        return None
    nxt = stream.peek(1)
    glued = nxt.start == tok.end
    name = tok.text
    if nxt.is_op(".") and glued:
        op = _op_from_name(name)
        if op is None:
            if _TS_OP.match(name):
                raise StataSyntaxError(
                    f"time-series operator {name}. not supported in a model formula; in a "
                    "session or do-file, xtset/tsset the data and the operators become "
                    "variables (memodels.cli.cmd_program)")
            raise StataSyntaxError(f"invalid factor-variable operator {name}.")
        stream.next()
        stream.next()
        return op
    if nxt.is_op("(") and glued and name in ("i", "ib"):
        open_tok = stream.tokens[stream.pos + 1]
        # find the matching ")" token
        depth = 0
        j = stream.pos + 1
        while True:
            t = stream.tokens[j]
            if t.kind == "EOF":
                raise StataSyntaxError(f"unbalanced parentheses after {name}")
            if t.is_op("("):
                depth += 1
            elif t.is_op(")"):
                depth -= 1
                if depth == 0:
                    break
            j += 1
        inner = text[open_tok.end : stream.tokens[j].start].strip()
        after = stream.tokens[j + 1]
        if not (after.is_op(".") and after.start == stream.tokens[j].end):
            raise StataSyntaxError(f"expected '.' after {name}({inner})")
        stream.pos = j + 2
        if name == "i":
            return _Op("i", "first", parse_numlist(inner), True)
        key = inner.lower()
        if key in ("first", "last", "freq"):
            return _Op("i", key, None, True)
        if key.startswith("#"):
            raise StataSyntaxError(f"ib({inner}) (base by position) not supported")
        try:
            return _Op("i", _parse_number(inner), None, True)
        except ValueError as exc:
            raise StataSyntaxError(f"invalid base level ib({inner})") from exc
    return None


def _op_from_name(name: str) -> _Op | None:
    if name == "i":
        return _Op("i", "first", None, True)
    if name == "c":
        return _Op("c", "first", None, True)
    if name in ("ibn", "bn"):
        return _Op("i", "none", None, True)
    m = _IB_LEVEL.match(name)
    if m:
        return _Op("i", int(m.group(1)), None, True)
    m = _I_LEVEL.match(name)
    if m:
        return _Op("i", "none", (float(m.group(1)),), True)
    m = re.match(r"^b(\d+)$", name)
    if m:
        return _Op("i", int(m.group(1)), None, True)
    return None


def _parse_names(stream: TokenStream, columns: Sequence[str], abbrev: bool) -> list[str]:
    """One variable reference: a name/wildcard, a range ``a-b`` or a group ``(a b)``."""
    tok = stream.peek()
    if tok.is_op("("):
        stream.next()
        names: list[str] = []
        while not stream.peek().is_op(")"):
            if stream.at_end():
                raise StataSyntaxError("unbalanced parentheses in factor-variable group")
            names.extend(_parse_names(stream, columns, abbrev))
        stream.next()
        return names
    if tok.kind != NAME:
        found = tok.text or "end of input"
        raise StataSyntaxError(f"expected a variable name but found {found!r}")
    stream.next()
    if stream.peek().is_op("-") and stream.peek(1).kind == NAME:
        stream.next()
        last = stream.next()
        return resolve_range(tok.text, last.text, columns, abbrev=abbrev)
    return resolve_name(tok.text, columns, abbrev=abbrev)


def _parse_item(
    stream: TokenStream, text: str, columns: Sequence[str], abbrev: bool
) -> tuple[list[FactorVar], bool]:
    """One operand of ``#``: returns its expansions and whether an operator was given."""
    op = _parse_op(stream, text)
    names = _parse_names(stream, columns, abbrev)
    if op is None:
        return [FactorVar(n, "c", explicit=False) for n in names], False
    return [
        FactorVar(n, op.kind, op.base, op.levels, op.explicit)  # type: ignore[arg-type]
        for n in names
    ], True


def _full_factorial(units: list[list[tuple[FactorVar, ...]]]) -> list[tuple[FactorVar, ...]]:
    """Stata's ``##`` expansion order: a b a#b c a#c b#c a#b#c."""
    subsets: list[list[int]] = [[]]
    for k in range(len(units)):
        subsets = subsets + [s + [k] for s in subsets]
    out: list[tuple[FactorVar, ...]] = []
    for subset in subsets:
        if not subset:
            continue
        for parts in itertools.product(*(units[k] for k in subset)):
            term = tuple(f for part in parts for f in part)
            if term not in out:  # c.x##c.x is x and c.x#c.x: the main effect once
                out.append(term)
    return out


def _as_factor(fv: FactorVar) -> FactorVar:
    """Un-prefixed variables inside an interaction are factor variables (i.)."""
    if fv.kind == "c" and not fv.explicit:
        return replace(fv, kind="i")
    return fv


def parse_fixed_terms(
    text: str, columns: Sequence[str], *, abbrev: bool = True
) -> tuple[FixedTerm, ...]:
    """Parse an indepvars string with factor-variable notation into fixed terms.

    >>> [len(t.factors) for t in parse_fixed_terms("a##b", ["a", "b"])]
    [1, 1, 2]
    """
    stream = TokenStream(tokenize(text), text)
    return parse_fixed_stream(stream, text, columns, abbrev=abbrev)


def parse_fixed_stream(
    stream: TokenStream, text: str, columns: Sequence[str], *, abbrev: bool = True
) -> tuple[FixedTerm, ...]:
    """Parse fixed terms from ``stream`` until a token that cannot start a term."""
    terms: list[FixedTerm] = []
    while True:
        tok = stream.peek()
        if not (tok.kind in (NAME, NUMBER) or tok.is_op("(")):
            break
        if tok.kind == NAME and tok.text in ("if", "in"):
            break
        # A chain: item (('#'|'##') item)*.  '#' binds tighter than '##'.
        units: list[list[tuple[FactorVar, ...]]] = []
        cur_items, _ = _parse_item(stream, text, columns, abbrev)
        cur: list[list[FactorVar]] = [cur_items]
        while stream.peek().kind == OP and stream.peek().text in ("#", "##"):
            sep = stream.next().text
            if sep == "##":
                units.append(_combine(cur))
                cur = []
            nxt_items, _ = _parse_item(stream, text, columns, abbrev)
            cur.append(nxt_items)
        units.append(_combine(cur))
        if len(units) == 1:
            for combo in units[0]:
                terms.append(FixedTerm(combo))
        else:
            units = [[tuple(_as_factor(f) for f in alt) for alt in unit] for unit in units]
            for combo in _full_factorial(units):
                terms.append(FixedTerm(combo))
    # interactions: un-prefixed members are factors
    out: list[FixedTerm] = []
    for term in terms:
        if term.is_interaction:
            out.append(FixedTerm(tuple(_as_factor(f) for f in term.factors)))
        else:
            out.append(term)
    return tuple(out)


def _combine(items: list[list[FactorVar]]) -> list[tuple[FactorVar, ...]]:
    """All combinations of a ``#`` chain whose items may expand to several variables."""
    return [tuple(p) for p in itertools.product(*items)]
