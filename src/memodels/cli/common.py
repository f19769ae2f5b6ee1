"""What the session's command modules share: errors with Stata's return codes, and the
text of Stata's estimate rows."""

from __future__ import annotations

import math
import traceback
from pathlib import Path

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


class InternalError(SessionError):
    """A command failed with an exception that is not a memodels error: a bug (the
    message names the exception and where it was raised; please report it), or the
    machine's limits (memory, nesting depth).  The original exception is the
    ``__cause__``."""


def _where(exc: BaseException) -> str:
    """``glmm/fit.py:94``: the innermost memodels frame of the exception's traceback."""
    package = Path(__file__).resolve().parents[1]
    place = ""
    for frame in traceback.extract_tb(exc.__traceback__):
        path = Path(frame.filename)
        try:
            place = f"{path.resolve().relative_to(package)}:{frame.lineno}"
        except (ValueError, OSError):
            continue
    return place


def as_session_error(exc: BaseException) -> SessionError:
    """A Stata-style error (message and r() code) for any exception a command raised."""
    if isinstance(exc, SessionError):
        return exc
    if isinstance(exc, MemodelsError):
        return SessionError(str(exc) or type(exc).__name__, return_code(exc))
    if isinstance(exc, KeyError):
        return SessionError(f"{exc.args[0] if exc.args else exc} not found", 111)
    if isinstance(exc, MemoryError):
        return InternalError("insufficient memory: op. sys. refuses to provide memory "
                             "(the command needs more memory than is available)", 909)
    if isinstance(exc, RecursionError):
        return InternalError("expression too long (nested too deeply to evaluate)", 130)
    if isinstance(exc, SyntaxError):  # an expression Python's compiler refused
        return SessionError(f"invalid syntax: {exc.msg or exc}", 198)
    if isinstance(exc, OverflowError | FloatingPointError | ZeroDivisionError):
        return SessionError(f"arithmetic error: {exc or type(exc).__name__}", 498)
    if type(exc) in (ValueError, NotImplementedError):
        return SessionError(str(exc) or type(exc).__name__, return_code(exc))
    where = _where(exc)
    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    at = f" at {where}" if where else ""
    return InternalError(f"memodels internal error ({detail}{at}); please report it", 498)


def return_code(exc: BaseException) -> int:
    """Stata's return code for an error raised by a command."""
    if isinstance(exc, SessionError):
        return exc.rc
    if isinstance(getattr(exc, "rc", None), int):  # an error that knows Stata's code
        return int(exc.rc)  # type: ignore[attr-defined]
    if isinstance(exc, MemoryError):
        return 909
    if isinstance(exc, RecursionError):
        return 130
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


__all__ = ["RULE", "SEP", "InternalError", "ScriptError", "SessionError", "as_session_error",
           "coef_line", "header_pair", "no_estimates", "return_code"]
