"""``matrix`` in a session: keep a fit's coefficient vector or VCE under a name, define
a matrix from its elements, and list it ([P] matrix define, [P] matrix input, [P] matrix
rownames, matrix list).

``matrix [define] A = (1, 0 \\ ., 2)`` (``\\`` separates rows, ``.`` is missing, elements
may be expressions), ``matrix input A = (1 0 \\ . 2)``, ``matrix A = I(3)``, ``matrix A =
J(2, 2, .)``, ``matrix A = B``, ``matrix A = B'`` (transpose), ``matrix colnames A = names``,
``matrix rownames A = names``, ``matrix drop A | _all``, ``matrix dir``.  A matrix with one
row (and several columns) is passed to ``from()`` as a vector labelled by its column
names.  Its use in the me commands is ``from(name)`` (starting values, [ME] meglm,
Remarks: Obtaining better starting values) and ``covariance(fixed(name))`` /
``covariance(pattern(name))``."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pandas as pd

from ..postestimation.coefnames import stata_eb
from .common import SessionError

if TYPE_CHECKING:
    from ..session import Session

_DEFINE = re.compile(r"^\s*(?:def(?:ine?)?\s+)?([A-Za-z_]\w*)\s*=\s*e\((b|V)\)\s*$")
_DEFINE_R = re.compile(r"^\s*(?:def(?:ine?)?\s+)?([A-Za-z_]\w*)\s*=\s*r\((\w+)\)\s*$")
_LIST = re.compile(r"^\s*(?:l|li|lis|list)\s+([A-Za-z_]\w*|[re]\(\w+\))\s*$")


def matrix(session: Session, rest: str) -> str:
    """``matrix b = e(b)``, ``matrix V = e(V)``, ``matrix ci = r(ci2)``,
    ``matrix list b``, ``matrix list r(Cov2)``."""
    m = _LIST.match(rest)
    if m:
        name = m.group(1)
        if name.startswith("r("):
            return _show(name, _r_matrix(session, name[2:-1]))
        if name in ("e(b)", "e(V)"):
            b, V = stata_eb(session.require_e())
            return _show(name, b if name == "e(b)" else V)
        if name.startswith("e("):
            raise SessionError(f"matrix {name} not found", 111)
        if name not in session.matrices:
            raise SessionError(f"matrix {name} not found", 111)
        return _show(name, session.matrices[name])
    m = _DEFINE_R.match(rest)
    if m:  # matrix ci = r(ci2) (after estat icc, estat recovariance, ...)
        session.matrices[m.group(1)] = _r_matrix(session, m.group(2)).copy()
        return ""
    m = _DEFINE.match(rest)
    if not m:
        from .matrix_define import define_matrix

        return define_matrix(session, rest)
    name, what = m.groups()
    b, V = stata_eb(session.require_e())  # Stata's stripes and (mixed) estimation metric
    session.matrices[name] = b if what == "b" else V
    return ""


def _r_matrix(session: Session, name: str):
    value = session.r.get(name)
    if not isinstance(value, (pd.DataFrame, pd.Series)):
        raise SessionError(f"matrix r({name}) not found", 111)
    return value


def _show(name: str, value) -> str:
    if isinstance(value, pd.Series):
        frame = value.to_frame(name="y1").T
        return f"\n{name}[1,{value.size}]\n" + frame.to_string(
            float_format=lambda v: f"{v:.8g}", na_rep=".")
    frame = pd.DataFrame(value)
    return f"\n{name}[{frame.shape[0]},{frame.shape[1]}]\n" + frame.to_string(
        float_format=lambda v: f"{v:.8g}", na_rep=".")
