"""Linear constraints as Stata's ``constraint define`` writes them ([R] constraint), for the
``constraints()`` option of the me commands ([ME] meglm, Options; [ME] me, Remarks,
items 13-14 of "Mixed-effects models": ``constraint 1 _b[var(_cons[id]):_cons] = 16``).

A constraint is ``exp = exp`` with linear expressions in the coefficients, or a list of
coefficients (each constrained to 0).  Coefficients are written as in Stata:

    _b[urban]   _b[c_use:urban]   [c_use]urban   urban
    _b[var(_cons[id]):_cons]   [var(_cons[id])]_cons   var(_cons[id])
    _b[cov(x[id],_cons[id]):_cons]  (Stata's spelling of cov(x,_cons[id]))
    _b[lnalpha:_cons]  [lnalpha]_cons  /lnalpha

:func:`parse_constraint` resolves them against a :class:`NameResolver` built from the
model's e(b) names and returns ``({name: coefficient}, rhs)`` for sum(c * b) = rhs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from ..errors import OptionError

_NUM = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_.#]*")
_COV_STATA = re.compile(r"^cov\(([^\[\],]+)\[([^\]]+)\],([^\[\],]+)\[([^\]]+)\]\)$")


class NameResolver:
    """Maps Stata's spellings of a coefficient to the model's parameter name."""

    def __init__(self, names: Iterable[str], depvar: str) -> None:
        self.names = list(names)
        self.depvar = depvar
        self.lookup: dict[str, str] = {}
        for nm in self.names:
            self.lookup[nm] = nm
            if nm.startswith("/"):
                self.lookup.setdefault(nm[1:], nm)  # lnalpha:_cons
            m = re.fullmatch(r"cov\(([^,\[]+),([^\[]+)\[(.+)\]\)", nm)
            if m:  # Stata's e(b) equation: cov(a[path],b[path])
                a, b, path = m.groups()
                self.lookup.setdefault(f"cov({a}[{path}],{b}[{path}])", nm)

    def resolve(self, equation: str | None, column: str) -> str:
        """The parameter named by equation ``equation`` (or none) and column ``column``."""
        eq = (equation or "").replace(" ", "")
        col = column.replace(" ", "")
        if eq and eq != self.depvar:
            if col != "_cons":
                raise OptionError(f"[{eq}]{col} not found in the model's parameters")
            key = eq
        else:
            key = col
        if key in self.lookup:
            return self.lookup[key]
        shown = f"{eq}:{col}" if eq else col
        raise OptionError(f"constraint names {shown}, which is not a parameter of the model; "
                          f"parameters: {', '.join(self.names)}")


# ------------------------------------------------------------------- tokenizer
def closing_bracket(text: str, start: int) -> int:
    """Index of the ``]`` closing the ``[`` at ``start`` (brackets nest: var(x[id]));
    shared with the Wald commands' name references (``_b[var(_cons[id])]``)."""
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "[":
            depth += 1
        elif text[i] == "]":
            depth -= 1
            if depth == 0:
                return i
    raise OptionError(f"unbalanced brackets in {text!r}")


def split_ref(inner: str) -> tuple[str | None, str]:
    """``eq:col`` -> (eq, col); the colon is the last one outside brackets/parentheses."""
    depth = 0
    for i in range(len(inner) - 1, -1, -1):
        ch = inner[i]
        if ch in ")]":
            depth += 1
        elif ch in "([":
            depth -= 1
        elif ch == ":" and depth == 0:
            return inner[:i].strip(), inner[i + 1 :].strip()
    return None, inner.strip()


def _tokens(text: str, res: NameResolver) -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    known = sorted(res.lookup, key=len, reverse=True)
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if text.startswith("_b[", i) or text.startswith("_coef[", i):
            start = text.index("[", i)
            end = closing_bracket(text, start)
            eq, col = split_ref(text[start + 1 : end])
            out.append(("name", res.resolve(eq, col)))
            i = end + 1
            continue
        if ch == "[":
            end = closing_bracket(text, i)
            m = _IDENT.match(text, end + 1)
            if not m:
                raise OptionError(f"expected a coefficient after [{text[i + 1:end]}] in "
                                  f"constraint {text!r}")
            out.append(("name", res.resolve(text[i + 1 : end], m.group(0))))
            i = m.end()
            continue
        prev_op = not out or out[-1][0] == "op" and out[-1][1] != ")"
        hit = next((k for k in known if text.startswith(k, i) and (prev_op or k[0] != "/")
                    and not _continues(text, i + len(k))), None)
        if hit is not None:
            out.append(("name", res.lookup[hit]))
            i += len(hit)
            continue
        m = _NUM.match(text, i)
        if m:
            out.append(("num", float(m.group(0))))
            i = m.end()
            continue
        if ch in "+-*/()=":
            out.append(("op", ch))
            i += 1
            continue
        m = _IDENT.match(text, i)
        if m:
            end = m.end()
            if text.startswith("(", end):  # var(z[g]): report the whole name
                depth = 0
                for end in range(m.end(), len(text)):
                    depth += {"(": 1, ")": -1}.get(text[end], 0)
                    if depth == 0:
                        break
                end += 1
            res.resolve(None, text[i:end])  # raises: not a parameter
        raise OptionError(f"invalid constraint {text!r} at {text[i:]!r}")
    return out


def _continues(text: str, pos: int) -> bool:
    return pos < len(text) and (text[pos].isalnum() or text[pos] in "_.#")


# ---------------------------------------------------------------------- parser
Linear = tuple[dict[str, float], float]


class _Parser:
    def __init__(self, toks: list[tuple[str, object]], text: str) -> None:
        self.toks, self.pos, self.text = toks, 0, text

    def _peek(self) -> tuple[str, object]:
        return self.toks[self.pos] if self.pos < len(self.toks) else ("end", None)

    def _fail(self) -> OptionError:
        return OptionError(f"constraint {self.text!r} is not a linear expression")

    def expr(self) -> Linear:
        out = self.term()
        while self._peek() in (("op", "+"), ("op", "-")):
            sign = 1.0 if self.toks[self.pos][1] == "+" else -1.0
            self.pos += 1
            out = _combine(out, self.term(), sign)
        return out

    def term(self) -> Linear:
        out = self.factor()
        while self._peek() in (("op", "*"), ("op", "/")):
            op = self.toks[self.pos][1]
            self.pos += 1
            rhs = self.factor()
            if op == "*" and not out[0]:
                out = _scale(rhs, out[1])
            elif not rhs[0] and (op == "*" or rhs[1] != 0):
                out = _scale(out, rhs[1] if op == "*" else 1.0 / rhs[1])
            else:
                raise self._fail()
        return out

    def factor(self) -> Linear:
        kind, val = self._peek()
        self.pos += 1
        if (kind, val) in (("op", "-"), ("op", "+")):
            inner = self.factor()
            return _scale(inner, -1.0) if val == "-" else inner
        if kind == "num":
            return {}, float(val)  # type: ignore[arg-type]
        if kind == "name":
            return {str(val): 1.0}, 0.0
        if (kind, val) == ("op", "("):
            out = self.expr()
            if self._peek() != ("op", ")"):
                raise self._fail()
            self.pos += 1
            return out
        raise self._fail()


def _combine(a: Linear, b: Linear, sign: float) -> Linear:
    coef = dict(a[0])
    for k, v in b[0].items():
        coef[k] = coef.get(k, 0.0) + sign * v
    return coef, a[1] + sign * b[1]


def _scale(a: Linear, s: float) -> Linear:
    return {k: v * s for k, v in a[0].items()}, a[1] * s


def parse_constraint(text: str, resolver: NameResolver) -> list[Linear]:
    """``"exp = exp"`` -> [({name: c}, rhs)] with sum(c * b) = rhs; a bare coefficient
    list ``"x1 x2"`` constrains each to 0."""
    text = str(text).strip()
    toks = _tokens(text, resolver)
    if ("op", "=") not in toks:
        if toks and all(k == "name" for k, _ in toks):
            return [({str(v): 1.0}, 0.0) for _, v in toks]
        raise OptionError(f"constraint {text!r} must have the form exp = exp")
    at = toks.index(("op", "="))
    if ("op", "=") in toks[at + 1 :]:
        raise OptionError(f"constraint {text!r}: only one '=' is allowed")
    sides = []
    for part in (toks[:at], toks[at + 1 :]):
        parser = _Parser(part, text)
        if not part:
            raise OptionError(f"constraint {text!r} has an empty side")
        sides.append(parser.expr())
        if parser.pos != len(part):
            raise parser._fail()
    coef, const = _combine(sides[0], sides[1], -1.0)
    coef = {k: v for k, v in coef.items() if v != 0}
    if not coef:
        raise OptionError(f"constraint {text!r} involves no parameter")
    return [(coef, 0.0 - const)]


def parse_numlist(text: str) -> list[int]:
    """Stata's numlist of constraint numbers: ``1 3``, ``1/4``, ``2-3``."""
    out: list[int] = []
    for item in str(text).replace(",", " ").split():
        m = re.fullmatch(r"(\d+)(?:[/-](\d+))?", item)
        if not m:
            raise OptionError(f"constraints({text}): {item!r} is not a constraint number")
        lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
        out += list(range(lo, hi + 1))
    return out


def select_constraints(definitions: Mapping[int, str] | Iterable[str] | str | None,
                       numbers: str | None) -> list[str]:
    """The constraint texts a fit applies: ``definitions`` are Stata's ``constraint define``
    (a mapping number -> text, or a list numbered from 1, or one text) and ``numbers`` the
    ``constraints(numlist)`` option (all definitions when None)."""
    if definitions is None:
        table: dict[int, str] = {}
    elif isinstance(definitions, str):
        table = {1: definitions}
    elif isinstance(definitions, Mapping):
        table = {int(k): str(v) for k, v in definitions.items()}
    else:
        table = {i + 1: str(v) for i, v in enumerate(definitions)}
    if numbers is None:
        return [table[k] for k in sorted(table)]
    out = []
    for k in parse_numlist(numbers):
        if k not in table:
            raise OptionError(f"constraint {k} not defined; pass its definition as "
                              f"constraints={{{k}: '...'}}")
        out.append(table[k])
    return out
