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
    y ~ x + (1|g), reml           Stata options may follow a top-level comma

The fixed part (everything outside the ``( | )`` terms) is read by formulaic
(:mod:`memodels.syntax.formula_fixed`): ``x1 * x2``, ``x1:x2``, ``0 +`` / ``- 1``,
``- term``, ``C(f)`` / ``factor(f)``, ``C(f, Treatment(reference=...))``, transforms
(``log(x)``, ``np.log(x)``, ``I(x**2)``, ``scale(x)``, ``poly(x, 2)``) computed by the
design layer, ``offset(...)``; with the data at hand, string and Categorical columns
named plainly are factors.  ``cbind(s, f) ~ ...`` is a binomial outcome with ``s + f``
trials (melogit, meprobit, mecloglog, meqrlogit, meglm).  Names must match columns
exactly (no abbreviation or wildcards).  For ``mestreg`` the left-hand side may be empty
(``~ x + (1|g)``; depvar ``"_t"``).
Keyword options are merged as in :func:`~memodels.syntax.parse.parse_model`; a keyword
``covariance`` overrides the structure implied by ``|`` / ``||``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from memodels.errors import StataSyntaxError
from memodels.spec import ModelSpec, REEquation
from memodels.syntax.command_names import normalize_command
from memodels.syntax.formula_fixed import frame_helpers, read_fixed
from memodels.syntax.formula_split import is_bar_term, is_wholly_parenthesized, split_terms
from memodels.syntax.option_values import finish_options
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
        # (variables, has constant, grouping factors, separator, covariance)
        self.bars: list[tuple[tuple[str, ...], bool, list[str], str, str]] = []

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


_BINOMIAL = ("melogit", "meprobit", "mecloglog", "meqrlogit", "meglm")


def _lhs(lhs: str, cmd: str, columns: list[str]) -> tuple[str, tuple[str, str] | None]:
    """The depvar, and for ``cbind(successes, failures)`` the two variables."""
    if lhs.startswith("cbind(") and lhs.endswith(")"):
        if cmd not in _BINOMIAL:
            raise StataSyntaxError(f"cbind() outcome needs a binomial model ({', '.join(_BINOMIAL)}"
                                   f"), not {cmd}")
        inner = [p.strip() for p in lhs[6:-1].split(",")]
        if len(inner) != 2 or not all(p.isidentifier() for p in inner):
            raise StataSyntaxError(f"{lhs}: cbind() takes two variables (successes, failures)")
        succ, fail = (_resolve(p, columns) for p in inner)
        return succ, (succ, fail)
    toks = tokenize(lhs, wildcards=False)
    if len(toks) != 2 or toks[0].kind != NAME:
        raise StataSyntaxError(f"dependent variable {lhs!r} must be a single variable")
    return _resolve(lhs, columns), None


def parse_formula(
    text: str,
    command: str,
    columns: Sequence[str],
    options: Mapping[str, Any] | None = None,
    data: Any = None,
) -> ModelSpec:
    """Parse an lme4-style formula (see the module docstring) into a ModelSpec.

    ``data`` (the DataFrame, optional): string and Categorical columns named plainly
    become factors, and transforms (``log(x)``, ``poly(x, 2)``) get the column names
    formulaic gives them on these data.

    >>> spec = parse_formula("y ~ x + (1 + x | g)", "mixed", ["y", "x", "g"])
    >>> spec.equations[0].variables, spec.equations[0].covariance
    (('x',), 'unstructured')
    """

    cmd = normalize_command(command)
    columns = [str(c) for c in columns]
    parts = split_top_level(text, ",")
    formula = parts[0][1]
    opts_text = text[parts[1][0] :] if len(parts) > 1 else ""
    if formula.count("~") != 1:
        raise StataSyntaxError(f"formula {formula.strip()!r} must contain exactly one '~'")
    lhs, rhs = formula.split("~")
    lhs = lhs.strip()
    cbind = None
    if not lhs:
        if cmd != "mestreg":
            raise StataSyntaxError(f"formula {formula.strip()!r} has no dependent variable")
        depvar = "_t"
    else:
        depvar, cbind = _lhs(lhs, cmd, columns)
    if not rhs.strip():
        raise StataSyntaxError(f"formula {formula.strip()!r} has an empty right-hand side")
    fixed_text: list[str] = []
    p = _FormulaParser("", columns)
    for sign, term in split_terms(rhs):
        if is_bar_term(term):
            if sign == "-":
                raise StataSyntaxError(f"removing a random-effects term ('- {term}') is not "
                                       "supported")
            p.s = TokenStream(tokenize(term, wildcards=False), term)
            p.text = term
            p.parse_bar()
            if not p.s.at_end():
                raise StataSyntaxError(f"unexpected {p.s.peek().text!r} in formula {rhs!r}")
        elif is_wholly_parenthesized(term) and "+" in term:
            raise StataSyntaxError(f"random-effects term {term!r} has no '|' grouping")
        else:
            fixed_text.append(("- " if sign == "-" else "+ ") + term)
    joined = " ".join(fixed_text)
    is_factor, derive_columns = frame_helpers(data)
    fx = read_fixed(joined.lstrip("+ ") if joined.startswith("+ ") else joined, columns,
                    is_factor, derive_columns)
    equations = p.equations()

    fe_table, re_table, global_table = command_tables(cmd)
    global_opts: dict[str, Any] = {}
    for name, arg in iter_option_items(opts_text):
        d = fe_table.find(name) or global_table.lookup(name)
        key, value = apply_def(d, arg, name)
        set_option(global_opts, d, key, value, exclusive=True)
    noconstant = fx.noconstant or bool(global_opts.pop("noconstant", False))
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

    extra: list[str] = []
    derived = list(fx.derived)
    final = finish_options(global_opts, columns, extra)
    if fx.offset is not None:
        if "offset" in final or "exposure" in final:
            raise StataSyntaxError("offset() in the formula and offset()/exposure() options "
                                   "may not be combined")
        final["offset"] = fx.offset
        extra.append(fx.offset)
    if cbind is not None:
        _apply_cbind(cmd, cbind, final, derived, extra)
    return ModelSpec(
        command=cmd,
        depvar=depvar,
        fixed=tuple(fx.terms),
        noconstant=noconstant,
        equations=tuple(equations),
        options=final,
        source=text,
        extra_vars=tuple(dict.fromkeys(v for v in extra if v != depvar)),
        derived=tuple(derived),
    )


def _apply_cbind(cmd: str, cbind: tuple[str, str], final: dict[str, Any],
                 derived: list, extra: list[str]) -> None:
    """``cbind(s, f)``: binomial trials ``s + f`` (a derived column named ``s+f``)."""
    from memodels.spec import Derived

    succ, fail = cbind
    trials = f"{succ}+{fail}"
    derived.append(Derived(f"I({succ} + {fail})", (trials,)))
    extra.append(trials)
    if cmd == "meglm":
        fam = str(final.get("family", "binomial")).split()
        if fam[0] != "binomial" or len(fam) > 1:
            raise StataSyntaxError(f"cbind({succ}, {fail}) gives binomial trials; "
                                   f"family({' '.join(fam)}) may not be combined with it")
        final["family"] = f"binomial {trials}"
    else:
        if "binomial" in final:
            raise StataSyntaxError(f"cbind({succ}, {fail}) and binomial() may not be combined")
        final["binomial"] = trials
