"""The fixed-effects part of an lme4-style formula, read by formulaic.

formulaic (the formula library statsmodels uses) parses the fixed part: ``a*b``,
``a:b``, ``(a + b)**2``, ``a/b``, ``- term``, ``0 +`` / ``-1``.  Each factor of each term
becomes one of:

* a column named plainly (``x``): a continuous covariate, or a factor variable when the
  column is a string or Categorical (as in R and formulaic), Stata-named ``2.f``;
* ``C(f)``, ``factor(f)``, ``as.factor(f)``: a factor variable (Stata ``i.f``);
  ``C(f, Treatment(reference=v))`` / ``C(f, Treatment(v))`` sets its base level;
* ``offset(expr)`` (a term by itself): the offset (Stata's ``offset()`` option);
* any other expression (``log(x)``, ``np.log(x)``, ``I(x**2)``, ``scale(x)``,
  ``poly(x, 2)``, ``C(f, Sum)``): a :class:`~memodels.spec.Derived` column computed by
  formulaic on the data, named as formulaic names it (``log(x)``, ``I(x ** 2)``,
  ``poly(x, 2)[1]``).

So the simple formulas keep Stata's coefficient names (``x``, ``2.f``, ``1.f#c.x``,
``_cons``), and the transforms are named as in statsmodels.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from memodels.errors import StataSyntaxError
from memodels.spec import Derived, FactorVar, FixedTerm, LevelBase
from memodels.syntax.varlist import resolve_single

_FACTOR_FUNCS = ("C", "factor")


@dataclass
class FixedPart:
    """What the fixed part of a formula asks for."""

    terms: list[FixedTerm] = field(default_factory=list)
    noconstant: bool = False
    derived: list[Derived] = field(default_factory=list)
    offset: str | None = None


def _formula(text: str):
    from formulaic import Formula

    try:
        return Formula(text, _ordering="none")
    except Exception as exc:  # formulaic's parser errors
        raise StataSyntaxError(f"cannot read the fixed part {text.strip()!r} of the formula: "
                               f"{exc}") from None


def _transform_names() -> set[str]:
    from formulaic.transforms import TRANSFORMS

    return set(TRANSFORMS) | {"offset", "factor", "abs", "round", "min", "max"}


def _call(expr: str) -> ast.Call | None:
    try:
        node = ast.parse(expr, mode="eval").body
    except SyntaxError:
        raise StataSyntaxError(f"cannot read {expr!r} in formula") from None
    return node if isinstance(node, ast.Call) else None


def _check_names(expr: str, columns: Sequence[str]) -> None:
    """Every variable an expression reads is a column; every function is one formulaic
    knows (``np.*``, ``log``, ``scale``, ``I`` ...)."""
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError:
        raise StataSyntaxError(f"cannot read {expr!r} in formula") from None
    funcs = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    known = _transform_names()
    attr_bases = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    for n in ast.walk(tree):
        if isinstance(n, ast.Name):
            if id(n) in funcs:
                if n.id not in known:
                    raise StataSyntaxError(
                        f"function {n.id}() not supported in formula (use np.{n.id}() for a "
                        "numpy function, or I() for arithmetic)")
            elif id(n) in attr_bases:
                if n.id not in ("np", "contr"):
                    raise StataSyntaxError(f"unknown module {n.id!r} in formula term {expr!r}")
            elif n.id not in known:
                resolve_single(n.id, columns, abbrev=False)


def _literal(node: ast.AST) -> Any:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError):
        return None


def _factor_call(expr: str, columns: Sequence[str]) -> FactorVar | None:
    """``C(f)``, ``factor(f)``, ``C(f, Treatment(reference=v))``: a factor variable with
    Stata naming, or None when the call is something formulaic must evaluate."""
    call = _call(expr)
    if call is None or not isinstance(call.func, ast.Name) or call.func.id not in _FACTOR_FUNCS:
        return None
    if len(call.args) < 1 or not isinstance(call.args[0], ast.Name):
        return None
    name = resolve_single(call.args[0].id, columns, abbrev=False)
    if len(call.args) == 1 and not call.keywords:
        return FactorVar(name, "i", explicit=True)
    if call.func.id == "C" and len(call.args) == 1 and [k.arg for k in call.keywords] == [
            "levels"]:
        levels = _literal(call.keywords[0].value)
        if isinstance(levels, (list, tuple)) and levels:
            return FactorVar(name, "i", base=LevelBase(levels[0]), explicit=True)
    if call.keywords or len(call.args) != 2 or call.func.id != "C":
        return _other_contrast(expr)
    contrast = call.args[1]
    if isinstance(contrast, ast.Name) and contrast.id == "Treatment":
        return FactorVar(name, "i", explicit=True)
    if (isinstance(contrast, ast.Call) and isinstance(contrast.func, ast.Name)
            and contrast.func.id == "Treatment"):
        ref = None
        if len(contrast.args) == 1 and not contrast.keywords:
            ref = _literal(contrast.args[0])
        elif not contrast.args and [k.arg for k in contrast.keywords] == ["reference"]:
            ref = _literal(contrast.keywords[0].value)
        if isinstance(ref, (str, int, float)) and not isinstance(ref, bool):
            return FactorVar(name, "i", base=LevelBase(ref), explicit=True)
    return _other_contrast(expr)


def _other_contrast(expr: str) -> FactorVar | None:
    """Contrasts other than treatment (``C(f, Sum)``, ``C(f, Helmert)``) are refused:
    the model would be fitted with indicator (treatment) coding under their names."""
    raise StataSyntaxError(f"{expr}: only treatment contrasts are supported in a formula "
                           "(C(f), C(f, Treatment(reference=...)), C(f, levels=[...]))")


def _offset_arg(expr: str) -> str | None:
    call = _call(expr)
    if call is None or not isinstance(call.func, ast.Name) or call.func.id != "offset":
        return None
    if len(call.args) != 1 or call.keywords:
        raise StataSyntaxError(f"{expr}: offset() takes one expression")
    return ast.unparse(call.args[0])


class _Reader:
    def __init__(self, columns: Sequence[str], is_factor: Callable[[str], bool],
                 derive_columns: Callable[[str], tuple[str, ...]] | None) -> None:
        self.columns = columns
        self.is_factor = is_factor
        self.derive_columns = derive_columns
        self.part = FixedPart()
        self._derived: dict[str, Derived] = {}

    def derived(self, expr: str) -> tuple[str, ...]:
        if expr not in self._derived:
            _check_names(expr, self.columns)
            cols = self.derive_columns(expr) if self.derive_columns else (expr,)
            self._derived[expr] = Derived(expr, tuple(cols))
            self.part.derived.append(self._derived[expr])
        return self._derived[expr].columns

    def factor(self, f) -> list[FactorVar]:
        """The alternatives one formulaic factor stands for (several for poly(x, 2))."""
        expr = str(f.expr)
        method = getattr(f.eval_method, "value", str(f.eval_method))
        if method == "lookup":
            name = resolve_single(expr.strip("`"), self.columns, abbrev=False)
            return [FactorVar(name, "i" if self.is_factor(name) else "c", explicit=False)]
        fv = _factor_call(expr, self.columns)
        if fv is not None:
            return [fv]
        if _offset_arg(expr) is not None:
            raise StataSyntaxError(f"{expr} must be a term by itself (+ {expr})")
        return [FactorVar(c, "c", explicit=False) for c in self.derived(expr)]

    def term(self, t) -> None:
        factors = list(t.factors)
        if len(factors) == 1:
            method = getattr(factors[0].eval_method, "value", "")
            if method == "literal":
                if str(factors[0].expr) == "1":
                    return
                raise StataSyntaxError(f"invalid constant {factors[0].expr!r} in formula")
            arg = _offset_arg(str(factors[0].expr))
            if arg is not None:
                if self.part.offset is not None:
                    raise StataSyntaxError("only one offset() is allowed in a formula")
                call = _call(arg)
                if call is None and arg.isidentifier():
                    self.part.offset = resolve_single(arg, self.columns, abbrev=False)
                else:
                    cols = self.derived(arg)
                    if len(cols) != 1:
                        raise StataSyntaxError(f"offset({arg}) must give one column")
                    self.part.offset = cols[0]
                return
        choices = [self.factor(f) for f in factors]
        for combo in itertools.product(*choices):
            self.part.terms.append(FixedTerm(tuple(combo)))


def _removed_terms(text: str) -> tuple[str, list[str]]:
    """Split ``a + b - c`` into the kept text and the removed terms (not 0/1)."""
    from memodels.syntax.formula_split import split_terms

    kept: list[str] = []
    removed: list[str] = []
    for sign, seg in split_terms(text):
        body = seg.strip()
        if sign == "-" and body not in ("0", "1"):
            removed.append(body)
        else:
            kept.append(("- " if sign == "-" else "+ ") + body)
    return " ".join(kept), removed


def read_fixed(
    text: str,
    columns: Sequence[str],
    is_factor: Callable[[str], bool] | None = None,
    derive_columns: Callable[[str], tuple[str, ...]] | None = None,
) -> FixedPart:
    """Read the fixed part ``text`` (the right-hand side without its ``( | )`` terms).

    ``is_factor(name)`` says whether a column is a string/Categorical (a factor when
    named plainly); ``derive_columns(expr)`` gives the columns formulaic makes of a
    transform on the data (without data: one column named ``expr``).
    """
    reader = _Reader(columns, is_factor or (lambda name: False), derive_columns)
    text = text.replace("as.factor(", "factor(")
    if not text.strip():
        return reader.part
    from memodels.syntax.formula_split import split_terms

    if any(t.strip() == "." for _, t in split_terms(text)):
        raise StataSyntaxError("'.' (all other variables) is not supported in a formula: "
                               "list the variables")
    kept, removed = _removed_terms(text)
    formula = _formula(text)
    if removed:
        have = {str(t) for t in _formula(kept or "1")}
        for r in removed:
            for t in _formula(r):
                if str(t) != "1" and str(t) not in have:
                    raise StataSyntaxError(f"'- {r}' removes {t}, which is not in the formula")
    reader.part.noconstant = not any(str(t) == "1" for t in formula)
    for t in formula:
        reader.term(t)
    return reader.part


def frame_helpers(data: Any) -> tuple[Callable[[str], bool],
                                      Callable[[str], tuple[str, ...]] | None]:
    """``is_factor`` and ``derive_columns`` for :func:`read_fixed` from a DataFrame
    (or nothing from a list of column names)."""
    dtypes: Mapping[str, Any] | None = getattr(data, "dtypes", None)
    if dtypes is None:
        return (lambda name: False), None

    def is_factor(name: str) -> bool:
        import numpy as np
        import pandas as pd

        np_object = np.dtype(object)
        dt = data[name].dtype
        if isinstance(dt, (pd.CategoricalDtype, pd.StringDtype)):
            return True
        return dt == np_object and bool(data[name].map(lambda v: isinstance(v, str)).any())

    def derive_columns(expr: str) -> tuple[str, ...]:
        import warnings

        import formulaic
        import numpy as np

        from memodels.errors import DataError

        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # log(0): refused later
                mm = formulaic.model_matrix(f"0 + {expr}", data, na_action="ignore",
                                            ensure_full_rank=False, context={})
        except Exception as exc:
            raise DataError(f"formula term {expr}: cannot be evaluated on the data "
                            f"({type(exc).__name__}: {exc})") from None
        return tuple(str(c) for c in mm.columns)

    return is_factor, derive_columns
