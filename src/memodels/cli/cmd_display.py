"""``display`` in a session ([P] display, minimal): string literals, expressions (Stata's
operators and functions, :mod:`memodels.syntax.expressions`) and ``%fmt`` formats, with
``_b[name]``, ``_se[name]``, ``e(scalar)``, ``r(scalar)`` and ``_rc`` replaced by their
values.  Variables refer to the first observation, as in Stata."""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import MemodelsError
from ..postestimation.coefnames import Coefficients, closing_bracket, split_ref, stata_eb
from ..syntax.expressions import evaluate, parse_expression
from .common import SessionError

if TYPE_CHECKING:
    from ..session import Session

_FORMAT = re.compile(r"%(-?)(\d*)\.(\d+)([fge])c?")
_REFS = re.compile(r"\b([er])\((\w+)\)|\b_rc\b|\b_N\b")
_COEF = re.compile(r"(?<![\w.])(_b|_coef|_se)\[")


def e_scalars(res: Any) -> dict[str, Any]:
    """Stata's e() scalars and macros of a results object."""
    if getattr(res, "command", None) == "margins":  # margins, post ([R] margins)
        return {"N": res.nobs, "level": res.level, "cmd": "margins",
                "depvar": res.depvar, "k": len(res.params)}
    out: dict[str, Any] = {
        "N": res.nobs, "ll": res.llf, "k": res.n_params, "chi2": res.wald_chi2,
        "df_m": res.wald_df, "p": res.wald_p, "converged": int(bool(res.converged)),
        "ic": res.iterations, "level": res.level, "cmd": res.command, "depvar": res.depvar,
        "title": res.title,
    }
    if res.levels:
        out["N_g"] = res.levels[0].n_groups
    extra = getattr(res, "extra", None) or {}
    # svy ([SVY] svy, Stored results) and jackknife ([R] jackknife) scalars
    for key, name in (("N_strata", "N_strata"), ("N_psu", "N_psu"), ("df_r", "df_r"),
                      ("population_size", "N_pop"), ("F", "F"), ("N_reps", "N_reps")):
        if extra.get(key) is not None:
            out[name] = extra[key]
    if extra.get("model_F") is not None:
        out["F"] = extra["model_F"][0]
    return out


def _literal(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value.replace('"', "'") + '"'
    v = float(value)
    return "." if math.isnan(v) else f"({v!r})"


def substitute(text: str, session: Session) -> str:
    """Replace ``_b[]``, ``_se[]``, ``e()``, ``r()`` and ``_rc`` by literals."""

    def repl(m: re.Match[str]) -> str:
        if m.group(0) == "_rc":
            return str(session.rc)
        if m.group(0) == "_N":
            return str(0 if session.data is None else len(session.data))
        if m.group(1) == "e":
            values = e_scalars(session.require_e())
        else:
            values = session.r
        value = values.get(m.group(2), float("nan"))
        if isinstance(value, (pd.DataFrame, pd.Series, np.ndarray)):
            raise SessionError(f"{m.group(0)} is a matrix: use el({m.group(0)},i,j) or "
                               f"matrix list {m.group(0)}", 509)
        return _literal(value)

    text = _EL.sub(lambda m: _element(m, session), text)
    return _scalars(_REFS.sub(repl, _coefficients(text, session)), session)


_SCALAR_FN = re.compile(r"\bscalar\(\s*([A-Za-z_]\w*)\s*\)")


def _scalars(text: str, session: Session) -> str:
    """``scalar(name)`` and, outside string literals, the bare name of a scalar that is
    not a variable ([P] scalar: "scalars can be referred to by name")."""
    table = getattr(session, "scalars", None) or {}
    if not table:
        if _SCALAR_FN.search(text):
            m = _SCALAR_FN.search(text)
            raise SessionError(f"scalar {m.group(1) if m else ''} not found", 111)
        return text

    def value(name: str) -> str:
        if name not in table:
            raise SessionError(f"scalar {name} not found", 111)
        return _literal(table[name])

    columns = set() if session.data is None else {str(c) for c in session.data.columns}
    pieces = re.split(r'("[^"]*")', text)
    for k in range(0, len(pieces), 2):  # outside quotes
        piece = _SCALAR_FN.sub(lambda m: value(m.group(1)), pieces[k])
        pieces[k] = re.sub(r"(?<![\w.\[])([A-Za-z_]\w*)(?![\w(\[])",
                           lambda m: value(m.group(1)) if m.group(1) in table
                           and m.group(1) not in columns else m.group(1), piece)
    return "".join(pieces)


def _coefficients(text: str, session: Session) -> str:
    """``_b[name]`` and ``_se[name]`` (any of Stata's spellings: ``_b[lns1_1_1:_cons]``,
    ``_b[/var(_cons[id])]``) replaced by their values; brackets may nest."""
    out: list[str] = []
    i = 0
    coefs: Coefficients | None = None
    for m in _COEF.finditer(text):
        if m.start() < i:
            continue
        start = m.end() - 1
        end = closing_bracket(text, start)
        if coefs is None:
            coefs = Coefficients(session.require_e())
        eq, col = split_ref(text[start + 1:end])
        try:
            key = coefs.resolve(eq, col)
        except MemodelsError as exc:
            raise SessionError(str(exc), 111) from None
        space = coefs.space([key])
        k = space.index(key)
        value = space.b[k] if m.group(1) != "_se" else math.sqrt(max(space.V[k, k], 0.0))
        out += [text[i:m.start()], _literal(value)]
        i = end + 1
    return "".join(out) + text[i:]


# el(r(ci2),1,2), el(name,1,1): an element of an r() or session matrix ([FN] el())
_EL = re.compile(r"\bel\(\s*(r\((\w+)\)|e\([bV]\)|[A-Za-z_]\w*)\s*,\s*(\d+)\s*,\s*(\d+)\s*\)")


def _element(m: re.Match[str], session: Session) -> str:
    name = m.group(1)
    if name in ("e(b)", "e(V)"):  # Stata's e(b)/e(V) (matrix b = e(b) holds the same)
        b, V = stata_eb(session.require_e())
        mat = b.to_frame().T if name == "e(b)" else V
    else:
        mat = session.r.get(m.group(2)) if m.group(2) else session.matrices.get(name)
    if mat is None:
        raise SessionError(f"matrix {name} not found", 111)
    arr = np.atleast_2d(np.asarray(mat, dtype=float))
    i, j = int(m.group(3)), int(m.group(4))
    if not (1 <= i <= arr.shape[0] and 1 <= j <= arr.shape[1]):
        return "(.)"  # Stata: el() outside the matrix is missing
    return _literal(arr[i - 1, j - 1])


def number(x: float, fmt: re.Match[str] | None = None) -> str:
    """A number as display shows it (default: up to 8 significant digits)."""
    if math.isnan(x):
        return "."
    if fmt is not None:
        left, width, decimals, kind = fmt.groups()
        text = f"{x:.{int(decimals)}{kind}}"
        w = int(width or 0)
        return f"{text:<{w}}" if left else f"{text:>{w}}"
    if float(x).is_integer() and abs(x) < 1e10:
        return str(int(x))
    text = f"{x:.8g}"
    return text.replace("0.", ".", 1) if text.startswith(("0.", "-0.")) else text


def _value(expr: str, session: Session) -> Any:
    base = session.data.iloc[:1] if session.data is not None and len(session.data) else (
        pd.DataFrame(index=[0]))
    columns = [str(c) for c in base.columns]
    values = evaluate(parse_expression(expr, columns), base)
    return values[0] if len(values) else np.nan


def evaluate_scalar(expr: str, session: Session) -> Any:
    """The value of an expression as ``display`` computes it (``_b[]``, ``e()``, ``r()``,
    matrix elements and ``_rc`` replaced; variables at the first observation): a float or
    a string.  Used by ``local x = exp`` and ``if exp {``."""
    if not expr.strip():
        raise SessionError("expression required", 198)
    value = _value(substitute(expr, session), session)
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return float(value)
    return float(value)


def display(session: Session, rest: str) -> str:
    """``display "LR = " %9.2f r(chi2)``, ``display exp(_b[week])``, ``display e(ll)``."""
    text = substitute(rest, session)
    out: list[str] = []
    pending: re.Match[str] | None = None
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        if text[i] == '"':
            j = text.find('"', i + 1)
            if j < 0:
                raise SessionError("display: unmatched quote")
            out.append(text[i + 1 : j])
            i = j + 1
            continue
        fm = _FORMAT.match(text, i)
        if fm:
            pending = fm
            i = fm.end()
            continue
        j = text.find('"', i)
        j = n if j < 0 else j
        m = _FORMAT.search(text, i, j)
        j = m.start() if m else j
        v = _value(text[i:j], session)
        out.append(v if isinstance(v, str) else number(float(v), pending))
        pending = None
        i = j
    return "".join(out)


__all__ = ["display", "e_scalars", "evaluate_scalar", "number", "substitute"]
