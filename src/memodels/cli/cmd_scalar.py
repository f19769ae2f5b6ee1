"""``scalar``, ``return list`` and ``ereturn list`` in a session ([P] scalar, [P] return).

``scalar [define] name = exp`` stores a number (or a string) that expressions then use by
name (when no variable has that name) or as ``scalar(name)``; ``scalar list [names]``,
``scalar drop names|_all``.  ``return list`` shows r(), ``ereturn list`` the e()
scalars and macros of the last estimates."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pandas as pd

from .cmd_display import e_scalars, evaluate_scalar, number
from .common import SessionError
from .parsing import NAME_RX

if TYPE_CHECKING:
    from ..session import Session


def scalar(session: Session, rest: str) -> str:
    """``scalar [define] name = exp``, ``scalar list``, ``scalar drop``."""
    text = rest.strip()
    words = text.split()
    if words and words[0] in ("list", "li", "dir"):
        names = words[1:] or sorted(session.scalars)
        return "\n".join(f"{n:>12} = {_show(session.scalars[n])}" for n in names
                         if n in session.scalars)
    if words and words[0] == "drop":
        for nm in words[1:]:
            if nm == "_all":
                session.scalars.clear()
            elif session.scalars.pop(nm, None) is None:
                raise SessionError(f"scalar {nm} not found", 111)
        return ""
    m = re.match(r"^(?:def(?:i(?:n(?:e)?)?)?\s+)?([A-Za-z_]\w*)\s*=(?!=)(.+)$", text,
                 re.DOTALL)
    if m is None:
        raise SessionError("scalar: syntax is scalar [define] name = exp", 198)
    name = m.group(1)
    if not NAME_RX.match(name):
        raise SessionError(f"{name} invalid name", 198)
    session.scalars[name] = evaluate_scalar(m.group(2), session)
    return ""


def _show(value) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, (pd.DataFrame, pd.Series)):
        return f"matrix ({value.shape[0]} x {1 if value.ndim == 1 else value.shape[1]})"
    return number(float(value))


def return_(session: Session, rest: str) -> str:
    """``return list``: the r() results."""
    if rest.split()[:1] not in (["list"], ["li"]):
        raise SessionError("return: only return list is available in a session", 198)
    rows = ["", "scalars:"]
    rows += [f"{'r(' + k + ')':>18} =  {_show(v)}" for k, v in session.r.items()
             if not isinstance(v, (str, pd.DataFrame, pd.Series))]
    mats = [k for k, v in session.r.items() if isinstance(v, (pd.DataFrame, pd.Series))]
    if mats:
        rows += ["", "matrices:"] + [f"{'r(' + k + ')':>18} :  {_show(session.r[k])}"
                                     for k in mats]
    return "\n".join(rows)


def ereturn(session: Session, rest: str) -> str:
    """``ereturn list``: the e() scalars and macros of the last estimates."""
    if rest.split()[:1] not in (["list"], ["li"]):
        raise SessionError("ereturn: only ereturn list is available in a session", 198)
    values = e_scalars(session.require_e())
    rows = ["", "scalars:"]
    rows += [f"{'e(' + k + ')':>18} =  {_show(v)}" for k, v in values.items()
             if not isinstance(v, str)]
    rows += ["", "macros:"]
    rows += [f"{'e(' + k + ')':>18} : \"{v}\"" for k, v in values.items()
             if isinstance(v, str)]
    return "\n".join(rows)


__all__ = ["ereturn", "return_", "scalar"]
