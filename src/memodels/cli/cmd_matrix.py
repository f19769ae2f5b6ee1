"""``matrix`` in a session: keep a fit's coefficient vector or VCE under a name and list
it ([P] matrix define, matrix list).  Its use in the me commands is ``from(name)``
(starting values, [ME] meglm, Remarks: Obtaining better starting values) and
``covariance(fixed(name))`` / ``covariance(pattern(name))``."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pandas as pd

from ..errors import StataSyntaxError
from .common import SessionError

if TYPE_CHECKING:
    from ..session import Session

_DEFINE = re.compile(r"^\s*(?:def(?:ine?)?\s+)?([A-Za-z_]\w*)\s*=\s*e\((b|V)\)\s*$")
_LIST = re.compile(r"^\s*(?:l|li|lis|list)\s+([A-Za-z_]\w*)\s*$")


def matrix(session: Session, rest: str) -> str:
    """``matrix b = e(b)``, ``matrix V = e(V)``, ``matrix list b``."""
    m = _LIST.match(rest)
    if m:
        name = m.group(1)
        if name not in session.matrices:
            raise SessionError(f"matrix {name} not found", 111)
        return _show(name, session.matrices[name])
    m = _DEFINE.match(rest)
    if not m:
        raise StataSyntaxError(f"matrix {rest.strip()}: only matrix name = e(b), "
                               "matrix name = e(V) and matrix list name are available")
    name, what = m.groups()
    res = session.require_e()
    value = res.params.copy() if what == "b" else res.vcov.copy()
    session.matrices[name] = value
    return ""


def _show(name: str, value) -> str:
    if isinstance(value, pd.Series):
        frame = value.to_frame(name="y1").T
        return f"\n{name}[1,{value.size}]\n" + frame.to_string(float_format=lambda v: f"{v:.8g}")
    frame = pd.DataFrame(value)
    return f"\n{name}[{frame.shape[0]},{frame.shape[1]}]\n" + frame.to_string(
        float_format=lambda v: f"{v:.8g}")
