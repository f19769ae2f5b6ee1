"""lme4-style model formulas, translated into the same :class:`~memodels.spec.ModelSpec`
as Stata syntax.

Supported forms::

    y ~ x1 + x2 + (1 + x | g)     fixed x1, x2; random intercept and slope on x by g
    y ~ x + (1 | g)               random intercept
    y ~ x + (x | g)               intercept implied: random intercept and slope
    y ~ x + (0 + x | g)           no random intercept (also "-1 + x", "x - 1")
    y ~ x + (1 + x || g)          uncorrelated effects: covariance "independent"
                                  ("|" gives "unstructured" when there are two or
                                  more effects, "identity" for a single effect)
    y ~ x + (1 | a/b)             b nested in a: equations a then b (nested=True),
                                  both with the same effects (lme4: (1|a) + (1|a:b))
    y ~ x + (1 | a:b)             the a>b interaction level; if the preceding term
                                  was on a, it becomes a nested pair, otherwise an
                                  empty (noconstant) equation on a is inserted first
    y ~ x + (1 | a) + (1 | b)     crossed effects: separate equations, nested=False
    y ~ 0 + x   /   y ~ x - 1     no fixed constant
    y ~ x1 * x2                   full factorial (Stata ##): x1 x2 x1#x2
    y ~ x1 : x2                   interaction (Stata #)
    y ~ C(f) + factor(g)          explicit factor variables (kind "i")
    y ~ x + (1|g), reml           Stata options may follow a top-level comma

Plain names become ``FactorVar(name, "c", explicit=False)`` even inside
interactions: whether a string/categorical column is a factor is decided by the
design layer.  Names must match columns exactly (no abbreviation or wildcards).
For ``mestreg`` the left-hand side may be empty (``~ x + (1|g)``; depvar ``"_t"``).
Keyword options are merged as in :func:`~memodels.syntax.parse.parse_model`; a keyword
``covariance`` overrides the structure implied by ``|`` / ``||``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from memodels.errors import StataSyntaxError
from memodels.spec import FactorVar, FixedTerm, ModelSpec, REEquation
from memodels.syntax.factor import _full_factorial
from memodels.syntax.options import (
    apply_def,
    command_tables,
    iter_option_items,
    keyword_table,
    normalize_keywords,
    set_option,
    split_covariance,
)
from memodels.syntax.tokens import EOF, NAME, NUMBER, TokenStream, split_top_level, tokenize
from memodels.syntax.varlist import resolve_single


def _resolve(name: str, columns: Sequence[str]) -> str:
    return resolve_single(name, columns, abbrev=False)


class _FormulaParser:
    def __init__(self, text: str, columns: Sequence[str]) -> None:
        self.text = text
        self.columns = list(columns)
        self.s = TokenStream(tokenize(text, wildcards=False), text)
        self.fixed: list[FixedTerm] = []
        self.noconstant = False
        # (variables, has constant, grouping factors, separator, covariance)
        self.bars: list[tuple[tuple[str, ...], bool, list[str], str, str]] = []

    # rhs := ['-'] term (('+'|'-') term)*
    def parse_rhs(self) -> None:
        sign = "+"
        if self.s.accept_op("-"):
            sign = "-"
        while True:
            self.parse_term(sign)
            tok = self.s.accept_op("+", "-")
            if tok is None:
                break
            sign = tok.text
        if not self.s.at_end():
            tok = self.s.peek()
            if tok.is_op(")"):
                raise StataSyntaxError(f"unbalanced parentheses in formula {self.text!r}")
            raise StataSyntaxError(f"unexpected {tok.text!r} in formula {self.text!r}")

    def parse_term(self, sign: str) -> None:
        tok = self.s.peek()
        if tok.kind == NUMBER:
            self.s.next()
            if tok.text in ("0",) or (tok.text == "1" and sign == "-"):
                self.noconstant = True
            elif tok.text == "1":
                self.noconstant = False
            else:
                raise StataSyntaxError(f"invalid constant {tok.text!r} in formula")
            return
        if sign == "-":
            raise StataSyntaxError(f"removing terms ('- {tok.text}') is not supported")
        if tok.is_op("("):
            self.parse_bar()
            return
        units: list[list[tuple[FactorVar, ...]]] = []
        cur = [self.parse_item()]
        while True:
            op = self.s.accept_op("*", ":")
            if op is None:
                break
            if op.text == "*":
                units.append([tuple(cur)])
                cur = []
            cur.append(self.parse_item())
        units.append([tuple(cur)])
        if len(units) == 1:
            self.fixed.append(FixedTerm(units[0][0]))
        else:
            self.fixed.extend(FixedTerm(c) for c in _full_factorial(units))

    def parse_item(self) -> FactorVar:
        tok = self.s.next()
        if tok.kind != NAME:
            found = tok.text or "end of formula"
            raise StataSyntaxError(f"expected a variable name but found {found!r} in formula")
        if tok.text in ("C", "factor", "as.factor") and self.s.peek().is_op("("):
            self.s.next()
            inner = self.s.next()
            if inner.kind != NAME:
                raise StataSyntaxError(f"{tok.text}() requires a variable name")
            if not self.s.accept_op(")"):
                raise StataSyntaxError(f"unbalanced parentheses in {tok.text}() in formula")
            return FactorVar(_resolve(inner.text, self.columns), "i", explicit=True)
        if self.s.peek().is_op("(") and self.s.peek().start == tok.end:
            raise StataSyntaxError(f"function {tok.text}() not supported in formula")
        return FactorVar(_resolve(tok.text, self.columns), "c", explicit=False)

    # bar := '(' re_terms ('|' | '||') group ')'
    def parse_bar(self) -> None:
        open_tok = self.s.next()
        intercept: bool | None = None
        variables: list[str] = []
        sign = "+"
        if self.s.accept_op("-"):
            sign = "-"
        while True:
            tok = self.s.next()
            if tok.kind == NUMBER and tok.text in ("0", "1"):
                if tok.text == "0" or sign == "-":
                    intercept = False
                else:
                    intercept = True
            elif tok.kind == NAME:
                if sign == "-":
                    raise StataSyntaxError(f"removing terms ('- {tok.text}') is not supported")
                if self.s.peek().is_op(":", "*", "("):
                    raise StataSyntaxError(
                        f"interactions/functions not allowed in random-effects term at {tok.text!r}"
                    )
                variables.append(_resolve(tok.text, self.columns))
            elif tok.kind == EOF:
                raise StataSyntaxError(f"unbalanced parentheses in formula {self.text!r}")
            else:
                raise StataSyntaxError(f"unexpected {tok.text!r} in random-effects term")
            nxt = self.s.next()
            if nxt.is_op("+", "-"):
                sign = nxt.text
                continue
            if nxt.is_op("|", "||"):
                bar = nxt.text
                break
            if nxt.is_op(")"):
                term = self.text[open_tok.start : nxt.end]
                raise StataSyntaxError(f"random-effects term {term!r} has no '|' grouping")
            found = nxt.text or "end of formula"
            raise StataSyntaxError(f"unexpected {found!r} in random-effects term")
        # grouping factor(s)
        groups: list[str] = []
        sep = ""
        while True:
            g = self.s.next()
            if g.kind != NAME:
                found = g.text or "end of formula"
                raise StataSyntaxError(
                    f"'{bar}' must be followed by a grouping variable, found {found!r}"
                )
            groups.append(g.text if g.text == "_all" else _resolve(g.text, self.columns))
            nxt = self.s.next()
            if nxt.is_op(")"):
                break
            if nxt.is_op("/", ":"):
                if sep and nxt.text != sep:
                    raise StataSyntaxError("mixing '/' and ':' in one grouping is not supported")
                sep = nxt.text
                continue
            if nxt.kind == EOF:
                raise StataSyntaxError(f"unbalanced parentheses in formula {self.text!r}")
            raise StataSyntaxError(f"unexpected {nxt.text!r} in grouping of random-effects term")
        has_const = intercept is not False
        q = len(variables) + (1 if has_const else 0)
        if q == 0:
            raise StataSyntaxError("random-effects term with no effects")
        if bar == "||":
            cov = "independent"
        else:
            cov = "unstructured" if q > 1 else "identity"
        self.bars.append((tuple(variables), has_const, groups, sep or "/", cov))

    def equations(self) -> list[REEquation]:
        eqs: list[REEquation] = []
        for variables, has_const, groups, sep, cov in self.bars:
            if len(groups) == 1:
                eqs.append(
                    REEquation(
                        level=groups[0],
                        variables=variables,
                        noconstant=not has_const,
                        covariance=cov,
                        nested=False,
                    )
                )
                continue
            if sep == "/":
                for g in groups:
                    eqs.append(
                        REEquation(
                            g, variables, noconstant=not has_const, covariance=cov, nested=True
                        )
                    )
                continue
            # a:b(:c) — the innermost interaction level, nested in the outer ones
            k = len(groups) - 1
            prefix = groups[:k]
            have = [e.level for e in eqs[-k:]] if len(eqs) >= k else []
            if have == prefix:
                for j in range(len(eqs) - k, len(eqs)):
                    eqs[j] = replace(eqs[j], nested=True)
            else:
                for g in prefix:
                    eqs.append(REEquation(g, (), noconstant=True, nested=True))
            eqs.append(
                REEquation(
                    groups[-1], variables, noconstant=not has_const, covariance=cov, nested=True
                )
            )
        return eqs


def parse_formula(
    text: str,
    command: str,
    columns: Sequence[str],
    options: Mapping[str, Any] | None = None,
) -> ModelSpec:
    """Parse an lme4-style formula (see the module docstring) into a ModelSpec.

    >>> spec = parse_formula("y ~ x + (1 + x | g)", "mixed", ["y", "x", "g"])
    >>> spec.equations[0].variables, spec.equations[0].covariance
    (('x',), 'unstructured')
    """
    from memodels.syntax.parse import normalize_command

    cmd = normalize_command(command)
    columns = [str(c) for c in columns]
    parts = split_top_level(text, ",")
    formula = parts[0][1]
    opts_text = text[parts[1][0] :] if len(parts) > 1 else ""
    if formula.count("~") != 1:
        raise StataSyntaxError(f"formula {formula.strip()!r} must contain exactly one '~'")
    lhs, rhs = formula.split("~")
    lhs = lhs.strip()
    if not lhs:
        if cmd != "mestreg":
            raise StataSyntaxError(f"formula {formula.strip()!r} has no dependent variable")
        depvar = "_t"
    else:
        toks = tokenize(lhs, wildcards=False)
        if len(toks) != 2 or toks[0].kind != NAME:
            raise StataSyntaxError(f"dependent variable {lhs!r} must be a single variable")
        depvar = _resolve(lhs, columns)
    p = _FormulaParser(rhs, columns)
    if p.s.at_end():
        raise StataSyntaxError(f"formula {formula.strip()!r} has an empty right-hand side")
    p.parse_rhs()
    equations = p.equations()

    fe_table, re_table, global_table = command_tables(cmd)
    global_opts: dict[str, Any] = {}
    for name, arg in iter_option_items(opts_text):
        d = fe_table.find(name) or global_table.lookup(name)
        key, value = apply_def(d, arg, name)
        set_option(global_opts, d, key, value, exclusive=True)
    noconstant = p.noconstant or bool(global_opts.pop("noconstant", False))
    if options:
        kw_table = keyword_table(global_table, fe_table, re_table)
        kw = normalize_keywords(options, kw_table)
        if "noconstant" in kw:
            noconstant = bool(kw.pop("noconstant"))
        cov = kw.pop("covariance", None)
        if cov is not None:
            name, mat = split_covariance(cov)
            equations = [
                replace(e, covariance=name, covariance_matrix=mat)
                if e.has_constant or e.variables
                else e
                for e in equations
            ]
        for key, value in kw.items():
            set_option(global_opts, kw_table.lookup(key), key, value)

    from memodels.syntax.parse import _finish_options

    extra: list[str] = []
    final = _finish_options(global_opts, columns, extra)
    return ModelSpec(
        command=cmd,
        depvar=depvar,
        fixed=tuple(p.fixed),
        noconstant=noconstant,
        equations=tuple(equations),
        options=final,
        source=text,
        extra_vars=tuple(dict.fromkeys(v for v in extra if v != depvar)),
    )
