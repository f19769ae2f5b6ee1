"""What the session's command modules share: errors with Stata's return codes, and the
text of Stata's estimate rows."""

from __future__ import annotations

import math

from ..errors import DataError, MemodelsError, OptionError, VariableNotFoundError
from ..output import numfmt

RULE = "-" * 78
SEP = "-" * 13 + "+" + "-" * 64


class SessionError(MemodelsError):
    """A command of a session failed; ``rc`` is Stata's return code (199 unrecognized
    command, 111 not found, 110 already defined, 198 syntax, 301 no estimates...)."""

    def __init__(self, message: str, rc: int = 198) -> None:
        super().__init__(message)
        self.rc = rc


class ScriptError(SessionError):
    """A script stopped at a failing command (as a do-file does): ``lineno`` and
    ``command`` say where, ``log`` holds the output up to and including the error."""

    def __init__(self, message: str, rc: int, lineno: int, command: str, log: str) -> None:
        super().__init__(message, rc)
        self.lineno = lineno
        self.command = command
        self.log = log


def return_code(exc: BaseException) -> int:
    """Stata's return code for an error raised by a command."""
    if isinstance(exc, SessionError):
        return exc.rc
    if isinstance(exc, VariableNotFoundError | KeyError) or "not found" in str(exc):
        return 111
    if "already defined" in str(exc):
        return 110
    if isinstance(exc, OptionError | DataError):
        return 198 if isinstance(exc, OptionError) else 459
    if isinstance(exc, MemodelsError):
        return 198
    return 498


def no_estimates() -> SessionError:
    return SessionError("last estimates not found", 301)


def coef_line(label: str, est: float, se: float, z: float, p: float, lo: float,
              hi: float) -> str:
    """One row of a Stata coefficient table (as the estimation output prints it)."""
    zt = "." if z is None or math.isnan(z) else f"{z:.2f}"
    return (f"{label[-12:]:>12} |{numfmt.g9(est):>11}{numfmt.g9(se):>11}{zt:>9}"
            f"{numfmt.pvalue(p):>8}{numfmt.g9(lo):>13}{numfmt.g9(hi):>12}")


def header_pair(left: str, label: str, value: str) -> str:
    """``Title ... Number of obs     =        432`` (Stata's header layout)."""
    return f"{left:<48}{label:<18}= {value:>10}"


__all__ = ["RULE", "SEP", "ScriptError", "SessionError", "coef_line", "header_pair",
           "no_estimates", "return_code"]
