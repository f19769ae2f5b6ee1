"""Do-file commands that set up an estimation: ``constraint`` ([R] constraint) and
``xtset``/``tsset`` with the time-series operators ``L.``, ``F.``, ``D.``, ``S.``
([U] 11.4.4 Time-series varlists, [TS] tsset, [XT] xtset).

Time-series operators in an estimation command or a ``generate``/``replace`` expression
become new variables computed within each panel from the time variable (a lag at a gap
in time is missing, as in Stata): ``L.x`` (``L1.x``) is x at t - delta, ``L2.x`` at
t - 2 delta, ``F.x`` the lead, ``D.x`` = x - L.x, ``D2.x`` = D.(D.x), ``S.x`` the seasonal
difference x - L.x (``S2.x`` = x - L2.x); operators combine (``LD.x``) and ``L(1/3).x`` is
``L1.x L2.x L3.x``.  In the fit the variable is named ``L_x`` (``L2_x``, ``LD_x``...):
Stata's coefficient label ``L.x`` is not a variable name memodels' parser accepts.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import StataSyntaxError
from ..syntax.options import OptionTable
from .common import SessionError
from .parsing import arg, numlist, parse_opts, split_options, to_float

if TYPE_CHECKING:
    from ..session import Session


# ---------------------------------------------------------------- constraint
def constraint(session: Session, rest: str) -> str:
    """``constraint [define] # exp = exp``, ``constraint drop #|numlist|_all``,
    ``constraint list|dir [numlist]``; used by ``constraints(numlist)`` of the me
    commands."""
    text = rest.strip()
    m = re.match(r"^(?:def(?:i(?:n(?:e)?)?)?\s+)?(\d+)\s+(.+)$", text, re.DOTALL)
    if m:
        k = int(m.group(1))
        if not 1 <= k <= 1999:
            raise SessionError(f"constraint {k}: the number must be between 1 and 1,999", 198)
        if "=" not in m.group(2) and not m.group(2).lstrip().startswith("["):
            raise SessionError(f"constraint {k}: exp = exp required", 198)
        session.constraints[k] = m.group(2).strip()
        return ""
    words = text.split()
    if not words:
        raise SessionError("constraint: subcommand or constraint number required", 198)
    sub = words[0]
    if sub == "drop":
        spec = " ".join(words[1:])
        if spec == "_all":
            session.constraints.clear()
            return ""
        if not spec:
            raise SessionError("constraint drop: numlist or _all required", 198)
        for v in numlist(spec.replace("-", "/")):
            session.constraints.pop(int(v), None)
        return ""
    if sub in ("list", "dir", "l", "li", "lis"):
        keys = sorted(session.constraints)
        if len(words) > 1:
            keys = [int(v) for v in numlist(" ".join(words[1:]).replace("-", "/"))
                    if int(v) in session.constraints]
        return "\n".join(f"{k:>6}:  {session.constraints[k]}" for k in keys)
    if sub in ("define", "def", "defi", "defin"):
        raise SessionError("constraint define: syntax is constraint define # exp = exp", 198)
    raise SessionError(f"constraint {sub}: subcommand not supported (define, drop, list, "
                       "dir are)", 198)


# ---------------------------------------------------------------- xtset / tsset
_TS_OPTIONS = OptionTable([arg("delta", 1, to_float), arg("format", 1)])


def _time_line(data: pd.DataFrame, panel: str | None, time: str, delta: float) -> str:
    t = pd.to_numeric(data[time], errors="coerce")
    gaps = ""
    if panel is not None:
        counts = data.groupby(panel, sort=False)[time].count()
        full = int(round((t.max() - t.min()) / delta)) + 1
        kind = "strongly balanced" if (counts == full).all() else (
            "weakly balanced" if counts.nunique() == 1 else "unbalanced")
        gaps = f"       panel variable:  {panel} ({kind})\n"
    return (f"{gaps}        time variable:  {time}, {t.min():g} to {t.max():g}\n"
            f"                delta:  {delta:g} unit")


def _set_time(session: Session, rest: str, command: str) -> str:
    data = session.require_data()
    body, options = split_options(rest)
    opts = parse_opts(options, _TS_OPTIONS, command)
    names = body.split()
    if not names:
        if session.timevars is None:
            raise SessionError(f"time variable not set, use {command} ...", 111)
        panel, time, delta = session.timevars
        return _time_line(data, panel, time, delta)
    if command == "xtset" and len(names) > 2 or command == "tsset" and len(names) > 2:
        raise SessionError(f"{command}: too many variables specified", 103)
    for nm in names:
        if nm not in data.columns:
            raise SessionError(f"variable {nm} not found", 111)
    if command == "xtset":
        panel, time = names[0], (names[1] if len(names) > 1 else None)
    else:
        panel, time = (names[0], names[1]) if len(names) == 2 else (None, names[0])
    delta = float(opts.get("delta", 1.0))
    if delta <= 0:
        raise SessionError(f"{command}: delta() must be positive", 198)
    if time is None:
        session.timevars = None
        return f"       panel variable:  {panel} (unbalanced)"
    t = pd.to_numeric(data[time], errors="coerce")
    if t.isna().any() or not np.allclose(t, np.round(t / delta) * delta):
        raise SessionError(f"time variable {time} must contain integer multiples of delta "
                           f"({delta:g}) and no missing values", 451)
    key = [panel, time] if panel else [time]
    if data.duplicated(key).any():
        where = " within panel" if panel else ""
        raise SessionError(f"repeated time values{where}", 451)
    session.timevars = (panel, time, delta)
    return _time_line(data, panel, time, delta)


def xtset(session: Session, rest: str) -> str:
    """``xtset panelvar [timevar] [, delta(#)]`` ([XT] xtset)."""
    return _set_time(session, rest, "xtset")


def tsset(session: Session, rest: str) -> str:
    """``tsset [panelvar] timevar [, delta(#)]`` ([TS] tsset)."""
    return _set_time(session, rest, "tsset")


# ---------------------------------------------------------------- operators
_TS_TOKEN = re.compile(r"(?<![\w.\[])((?:[LFDSlfds]\d*)+|[LFDSlfds]\(([^()]*)\))\.([A-Za-z_]\w*)")
_OP = re.compile(r"([LFDS])(\d*)")


def _shift(values: np.ndarray, data: pd.DataFrame, panel: str | None, time: str,
           delta: float, k: int) -> np.ndarray:
    """values at t - k*delta in the same panel (missing where there is none)."""
    t = np.round(pd.to_numeric(data[time]).to_numpy(float) / delta).astype(np.int64)
    g = data[panel].to_numpy() if panel else np.zeros(len(data), dtype=np.int64)
    lookup = pd.Series(values, index=pd.MultiIndex.from_arrays([g, t]))
    want = pd.MultiIndex.from_arrays([g, t - k])
    return lookup.reindex(want).to_numpy(float)


def ts_values(data: pd.DataFrame, timevars: tuple, ops: str, var: str) -> np.ndarray:
    """The operated variable ``ops.var`` (``ops`` such as ``L2``, ``D``, ``LD``)."""
    panel, time, delta = timevars
    x = pd.to_numeric(data[var], errors="coerce").to_numpy(float)
    for op, num in _OP.findall(ops.upper()):
        k = int(num) if num else 1
        if op == "L":
            x = _shift(x, data, panel, time, delta, k)
        elif op == "F":
            x = _shift(x, data, panel, time, delta, -k)
        elif op == "D":
            for _ in range(k):
                x = x - _shift(x, data, panel, time, delta, 1)
        else:  # S: seasonal difference
            x = x - _shift(x, data, panel, time, delta, k)
    return x


def time_series_operators(session: Session, text: str, data: pd.DataFrame
                          ) -> tuple[str, pd.DataFrame]:
    """``text`` with ``L.x``-style references replaced by new variables of a copy of
    ``data`` (``data`` itself when there are none)."""
    if not _TS_TOKEN.search(text):
        return text, data
    if session.timevars is None:
        m = _TS_TOKEN.search(text)
        raise SessionError(f"time variable not set, use tsset varname or xtset panelvar "
                           f"timevar (for {m.group(0) if m else 'L.'})", 111)
    out = data.copy()

    def name_for(ops: str, var: str) -> str:
        if var not in out.columns:
            raise SessionError(f"variable {var} not found", 111)
        nm = f"{ops.upper()}_{var}"
        if nm in data.columns:
            nm = f"{nm}_ts"
        if nm not in out.columns:
            out[nm] = ts_values(out, session.timevars, ops, var)
        return nm

    def repl(m: re.Match[str]) -> str:
        ops, inner, var = m.group(1), m.group(2), m.group(3)
        if inner is not None:
            letter = ops[0].upper()
            try:
                ks = [int(v) for v in numlist(inner)]
            except StataSyntaxError:
                raise SessionError(f"invalid time-series operator {ops}.", 198) from None
            if letter == "L" or letter == "F":
                return " ".join(var if k == 0 else name_for(f"{letter}{k}", var) for k in ks)
            return " ".join(var if k == 0 else name_for(f"{letter}{k}", var) for k in ks)
        return name_for(ops, var)

    return _TS_TOKEN.sub(repl, text), out


__all__ = ["constraint", "time_series_operators", "ts_values", "tsset", "xtset"]
