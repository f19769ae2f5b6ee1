"""A Stata-style command session: a sequence of commands run against one dataset.

    >>> from memodels.session import Session
    >>> s = Session(pig)
    >>> print(s.run("mixed weight week || id:"))      # the estimation output
    >>> s.run("estimates store randint")
    >>> s.run("mixed weight week || id: week")
    >>> print(s.run("lrtest randint ."))
    >>> s.run("predict u*, reffects")                  # adds u1 to s.data
    >>> log = s.run_script(open("analysis.do").read())  # a do-file, echoed as a log

The session keeps what Stata keeps between commands: the data in memory
(:attr:`Session.data`, changed by ``predict``, ``generate``, ``use``...), the last
estimation results (:attr:`Session.e`, Stata's ``e()``), stored estimates
(:attr:`Session.estimates`), the last ``r()`` results and ``_rc``.  Every command
delegates to the library (:func:`memodels.fit`, the results' ``predict``, ``estat``,
``test``, ``margins``...); the session only parses Stata's syntax and prints.

Commands: every estimation command of :func:`memodels.fit` (mixed, meglm, melogit,
meprobit, mecloglog, mepoisson, menbreg, meologit, meoprobit, mestreg, meqrlogit,
meqrpoisson) and their replay (``mixed``, ``melogit, or``); ``estimates
store|restore|replay|dir|drop|clear|stats``; ``lrtest``; ``estat
icc|group|sd|recovariance|wcorrelation|ic|df``; ``test``, ``testparm``, ``testnl``, ``lincom``,
``nlcom``; ``predict``; ``margins``; ``marginsplot``, ``stcurve``, ``graph export``;
``help``; ``use``, ``webuse`` (shipped datasets), ``stset``,
``list``, ``summarize``, ``generate``, ``replace``, ``drop``, ``keep``, ``display``,
``set seed``, ``sort``, ``tabulate`` (one-way, ``generate()``), ``mkmat``, ``matrix``
(:mod:`memodels.cli.cmd_matrix`), ``constraint``, ``xtset``/``tsset`` with ``L.``/``F.``/
``D.``/``S.`` operators (:mod:`memodels.cli.cmd_program`); ``version``, ``set more``,
``log`` are accepted and ignored.  Prefixes ``quietly`` (no output), ``capture`` (errors
ignored, ``_rc`` set; output suppressed unless ``noisily``), ``noisily`` and
``by``/``bysort`` (:mod:`memodels.cli.cmd_by`).  The do-file language: local and global
macros (:mod:`memodels.cli.macros`), ``foreach``, ``forvalues``, ``while``, ``if``/``else``
and ``quietly``/``capture`` blocks (:mod:`memodels.cli.control`), ``#delimit``.

:meth:`Session.run` raises the command's error (a :class:`memodels.errors.MemodelsError`;
the session is unchanged and usable).  :meth:`Session.run_script` runs a do-file and
stops at the first error, as Stata's ``do`` does, raising :class:`ScriptError` with the
line number and the log so far.  Every exception a command raises is such an error with
Stata's return code, which ``capture`` catches: an exception that is not a memodels
error (a bug, running out of memory, an expression nested too deeply) becomes
:class:`memodels.cli.common.InternalError` naming it (the original is ``__cause__``).

Output: a session never replaces ``sys.stdout``; command output (iteration logs
included) goes to the session's own stream through :mod:`memodels.output.console`, which
is private to the calling thread, so sessions may run in parallel threads.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any, TextIO

import pandas as pd

from .cli import (
    cmd_bootstrap,
    cmd_by,
    cmd_contrast,
    cmd_data,
    cmd_estat_more,
    cmd_estimates,
    cmd_graph,
    cmd_help,
    cmd_margins,
    cmd_matrix,
    cmd_postest,
    cmd_predict,
    cmd_predictnl,
    cmd_program,
    cmd_scalar,
    cmd_svy,
    cmd_tabulate,
    jackknife,
    macros,
    matrix_define,
)
from .cli.common import ScriptError, SessionError, as_session_error, no_estimates
from .cli.control import ExitScript, Interpreter, echo_block, first_word, statement_end
from .cli.script import ScriptLine, parse_script
from .errors import MemodelsError
from .output.console import writing_to
from .output.display_opts import linesize
from .output.iterlog import stata_log

Handler = Callable[["Session", str], str]

# command -> (shortest abbreviation, handler)
COMMANDS: dict[str, tuple[int, Handler]] = {
    "bootstrap": (4, cmd_bootstrap.bootstrap),
    "bs": (2, cmd_bootstrap.bootstrap),
    "jackknife": (4, jackknife.jackknife_prefix),
    "estimates": (3, cmd_estimates.estimates),
    "lrtest": (6, cmd_estimates.lrtest),
    "hausman": (4, cmd_estat_more.hausman),
    "estat": (5, cmd_postest.estat),
    "test": (4, cmd_postest.test),
    "testparm": (8, cmd_postest.testparm),
    "testnl": (6, cmd_postest.testnl),
    "lincom": (6, cmd_postest.lincom),
    "nlcom": (5, cmd_postest.nlcom),
    "predict": (7, cmd_predict.predict),
    "predictnl": (9, cmd_predictnl.predictnl),
    "margins": (7, cmd_margins.margins),
    "marginsplot": (11, cmd_graph.marginsplot),
    "graph": (2, cmd_graph.graph),
    "stcurve": (7, cmd_graph.stcurve),
    "help": (1, cmd_help.help_),
    "contrast": (4, cmd_contrast.contrast_),
    "pwcompare": (9, cmd_contrast.pwcompare_),
    "matrix": (3, cmd_matrix.matrix),
    "use": (3, cmd_data.use),
    "webuse": (6, cmd_data.webuse),
    "stset": (5, cmd_data.stset),
    "list": (1, cmd_data.list_),
    "summarize": (2, cmd_data.summarize),
    "generate": (1, cmd_data.generate),
    "replace": (7, cmd_data.replace),
    "drop": (4, cmd_data.drop),
    "keep": (4, cmd_data.keep),
    "display": (2, cmd_data.display),
    "set": (3, cmd_data.set_),
    "local": (3, macros.local),
    "global": (2, macros.global_),
    "macro": (3, macros.macro),
    "constraint": (10, cmd_program.constraint),
    "xtset": (5, cmd_program.xtset),
    "tsset": (5, cmd_program.tsset),
    "sort": (4, cmd_by.sort),
    "statsby": (7, cmd_by.statsby),
    "scalar": (3, cmd_scalar.scalar),
    "return": (3, cmd_scalar.return_),
    "ereturn": (4, cmd_scalar.ereturn),
    "svyset": (6, cmd_svy.svyset),
    "svy": (3, cmd_svy.svy),
    "tabulate": (2, cmd_tabulate.tabulate),
    "mkmat": (5, matrix_define.mkmat),
    "version": (4, cmd_data.ignored),
    "log": (3, cmd_data.ignored),
}

_PREFIXES = {"quietly": 3, "noisily": 3, "capture": 3}
# what a command may raise that the session turns into a Stata-style error (r() code,
# the do-file line; ``capture`` catches it): every exception.  Errors that are not
# MemodelsError (a bug, MemoryError, RecursionError...) become SessionError with the
# original exception chained as ``__cause__``; KeyboardInterrupt and SystemExit pass.
CAUGHT: tuple[type[BaseException], ...] = (Exception,)


def _abbrev(word: str, table: dict[str, int]) -> str | None:
    """The full name ``word`` abbreviates in ``{name: shortest abbreviation}``."""
    for name, k in table.items():
        if name.startswith(word) and len(word) >= k:
            return name
    return None


def split_prefixes(line: str) -> tuple[set[str], str]:
    """``"capture noisily: lrtest a b"`` -> ({"capture", "noisily"}, ``"lrtest a b"``)."""
    text = line.strip()
    if text.startswith(". "):
        text = text[2:].strip()
    found: set[str] = set()
    while True:
        m = re.match(r"([A-Za-z_]\w*)\s*(:?)\s*", text)
        name = _abbrev(m.group(1), _PREFIXES) if m else None
        if m is None or name is None or m.end() == len(text):
            return found, text
        found.add(name)
        text = text[m.end():]


# constraints(numlist) in any abbreviation (c, co, ..., constraints)
_CONSTRAINTS_OPTION = re.compile(
    "(?<![\\w.])(?:" + "|".join("constraints"[:k] for k in range(11, 0, -1)) + ")\\(")
_CONTROL = ("if", "else", "foreach", "forvalues", "forval", "while", "continue", "exit")


def is_command_word(word: str) -> bool:
    """Whether ``word`` starts a command (for the one-line ``if exp command``)."""
    if word in _CONTROL or word in ("by", "bys", "bysort") or _abbrev(word, _PREFIXES):
        return True
    if _estimation_name(word) is not None:
        return True
    return _abbrev(word, {k: v[0] for k, v in COMMANDS.items()}) is not None


def resolve_command(word: str) -> tuple[str | None, bool]:
    """(the session command ``word`` abbreviates or None, whether it is an estimation
    command)."""
    if _estimation_name(word) is not None:
        return _estimation_name(word), True
    return _abbrev(word, {k: v[0] for k, v in COMMANDS.items()}), False


def _command_word(text: str) -> tuple[str, str]:
    m = re.match(r"([A-Za-z_]\w*)", text)
    if m is None:
        raise SessionError(f"{text.split()[0] if text.split() else text!r} is not a valid "
                           "command name", 199)
    return m.group(1), text[m.end():]


def _estimation_name(word: str) -> str | None:
    from .commands.dispatch import COMMANDS as ESTIMATION
    from .syntax.parse import COMMAND_ALIASES

    name = COMMAND_ALIASES.get(word, word)
    return name if name in ESTIMATION else None


class _Output(io.TextIOBase):
    """A command's output: collected, and forwarded to a live stream (when not quiet);
    ``lead`` is written to the live stream before the first output."""

    def __init__(self, live: TextIO | None, lead: str = "") -> None:
        super().__init__()
        self.parts: list[str] = []
        self.live = live
        self.lead = lead

    def writable(self) -> bool:
        return True

    def write(self, s: str) -> int:
        if not s:
            return 0
        if not self.parts and self.live is not None and self.lead:
            self.live.write(self.lead)
        self.parts.append(s)
        if self.live is not None:
            self.live.write(s)
        return len(s)

    def flush(self) -> None:
        if self.live is not None:
            self.live.flush()

    @property
    def text(self) -> str:
        return "".join(self.parts)


class _Log(io.TextIOBase):
    """The whole log of a script, optionally copied to ``out`` as it is written."""

    def __init__(self, out: TextIO | None) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.out = out

    def writable(self) -> bool:
        return True

    def write(self, s: str) -> int:
        self.parts.append(s)
        if self.out is not None:
            self.out.write(s)
            self.out.flush()
        return len(s)

    @property
    def text(self) -> str:
        return "".join(self.parts)


class Session:
    """Run Stata commands one after another against one dataset (see the module
    docstring).  ``data`` is copied; the session's data is :attr:`data`.

    Parameters
    ----------
    data : pandas.DataFrame, optional
        The data in memory (copied); a script may load its own with ``use``/``webuse``.

    Attributes
    ----------
    data : pandas.DataFrame
        The data in memory, changed by ``predict``, ``generate``...
    e : results
        The last estimation results (Stata's ``e()``).

    Examples
    --------
    >>> from memodels.session import Session
    >>> s = Session()
    >>> s.run("webuse pig")
    ''
    >>> log = s.run("quietly mixed weight week || id:")
    >>> round(s.e.llf, 4)
    -1014.9268
    >>> print(s.run("display 2 + 2"))
    4
    """

    def __init__(self, data: pd.DataFrame | None = None) -> None:
        self.data: pd.DataFrame | None = None if data is None else data.copy()
        self.e: Any = None  # the last estimation results (Stata's e())
        self.estimates: dict[str, Any] = {}  # estimates store
        self.matrices: dict[str, Any] = {}  # matrix name = e(b): from(name), fixed(name)
        self.r: dict[str, float] = {}  # the last r() results
        self.rc = 0  # _rc of the last capture
        self.seed: int | None = None
        self.last: Any = None  # what the last postestimation command computed
        self.locals: dict[str, str] = {}  # local macros (`name')
        self.globals: dict[str, str] = {}  # global macros ($name)
        self.constraints: dict[int, str] = {}  # constraint define
        # xtset/tsset: (panel variable or None, time variable, delta)
        self.timevars: tuple[str | None, str, float] | None = None
        self.svy: Any = None  # svyset (memodels.cli.cmd_svy.SvySettings)
        self.scalars: dict[str, Any] = {}  # scalar define
        self.graph: Any = None  # the current graph (a matplotlib Figure): graph export
        self.linesize = 80  # set linesize #: the width tables may stretch to (lstretch)
        # a dask.distributed Client: the bootstrap prefix runs its replications on its
        # workers (memodels.bootstrap(client=); the CLI's --dask/--scheduler set it)
        self.dask_client: Any = None

    # ---------------------------------------------------------------- state
    def require_data(self) -> pd.DataFrame:
        if self.data is None:
            raise SessionError("no data in memory (use FILE or webuse NAME first)", 3)
        return self.data

    def require_e(self) -> Any:
        if self.e is None:
            raise no_estimates()
        return self.e

    # ---------------------------------------------------------------- running
    def run(self, line: str) -> str:
        """Run one command and return what it prints.  ``//`` comments and ``///``
        continuations are allowed; errors are raised (the session stays usable)."""
        commands = parse_script(line)
        if not commands:
            return ""
        if first_word(commands[0].text) in _CONTROL or commands[0].text.rstrip().endswith("{"):
            if statement_end(commands, 0) != len(commands):
                raise SessionError("run() takes one command; use run_script() for several")
            return self.run_script(line, echo=False).strip("\n")
        if len(commands) > 1:
            raise SessionError("run() takes one command; use run_script() for several")
        return self._execute(commands[0].text)

    def run_script(self, text: str, *, out: TextIO | None = None, echo: bool = True) -> str:
        """Run a do-file's commands in order and return the log (each command echoed as
        ``. command``, then its output), writing it to ``out`` as it goes.  The first
        failing command (not under ``capture``) stops the script: :class:`ScriptError`
        carries its line, the return code and the log.  ``exit`` ends the script."""
        log = _Log(out)
        lines = parse_script(text)
        interp = Interpreter(self, lambda cmd, prefix, report: self._run_logged(
            cmd, log, prefix, report, lead=""))
        i = 0
        try:
            while i < len(lines):
                cmd = lines[i]
                if i:
                    log.write("\n")
                try:
                    j = statement_end(lines, i)
                except SessionError as exc:
                    log.write(f". {cmd.text}\n{_message(exc)}\nr({exc.rc});\n")
                    raise ScriptError(_message(exc), exc.rc, cmd.lineno, cmd.text,
                                      log.text) from exc
                block = j > i + 1 or cmd.text.rstrip().endswith("{")
                if echo:
                    log.write(echo_block(lines[i:j]) if block else f". {cmd.text}\n")
                if block or first_word(cmd.text) in _CONTROL:
                    try:
                        interp.run_lines(lines[i:j])
                    except (ScriptError, ExitScript):
                        raise
                    except CAUGHT as exc:
                        rc = as_session_error(exc).rc
                        log.write(f"{_message(exc)}\nr({rc});\n")
                        raise ScriptError(_message(exc), rc, cmd.lineno, cmd.text,
                                          log.text) from exc
                else:
                    self._run_logged(cmd, log)
                i = j
        except ExitScript:
            pass
        return log.text

    def _run_logged(self, cmd: ScriptLine, log: _Log, prefix: str = "",
                    report: bool = True, lead: str = "\n") -> None:
        try:
            self._execute(prefix + cmd.text, live=log, lead=lead)
        except CAUGHT as exc:
            rc = as_session_error(exc).rc
            if not report:
                raise as_session_error(exc) from exc
            log.write(f"{_message(exc)}\nr({rc});\n")
            cause = exc.__cause__ if isinstance(exc, SessionError) and \
                exc.__cause__ is not None else exc
            raise ScriptError(_message(exc), rc, cmd.lineno, cmd.text, log.text) from cause

    def execute(self, line: str) -> str:
        """Run one command line (prefixes and macros included) and return its output;
        errors are raised.  For commands that run others (``by``)."""
        return self._execute(line)

    def _execute(self, line: str, live: TextIO | None = None, lead: str = "") -> str:
        line = macros.expand(line, self)
        prefixes, body = split_prefixes(line)
        capture = "capture" in prefixes
        quiet = "quietly" in prefixes or (capture and "noisily" not in prefixes)
        out = _Output(None if quiet else live, lead)
        try:
            # this thread's command output, not sys.stdout; tables for set linesize;
            # Stata's iteration log shown unless nolog (memodels.output.iterlog)
            with writing_to(out), linesize(self.linesize), stata_log(True):
                text = self._dispatch(body)
                if text:
                    out.write(text)
        except BrokenPipeError:  # the log's reader went away (memodels run | head)
            raise
        except CAUGHT as exc:
            if not capture:
                if out.parts and live is not None and not quiet and \
                        not out.text.endswith("\n"):
                    live.write("\n")
                if isinstance(exc, MemodelsError):
                    raise
                raise as_session_error(exc) from exc
            self.rc = as_session_error(exc).rc
            if not quiet:  # capture noisily: the error is shown, the script goes on
                sep = "\n" if out.parts and not out.text.endswith("\n") else ""
                out.write(f"{sep}{_message(exc)}\nr({self.rc});")
        else:
            if capture:
                self.rc = 0
        if quiet:
            return ""
        if out.parts and live is not None and not out.text.endswith("\n"):
            live.write("\n")
        return out.text

    def _dispatch(self, body: str) -> str:
        word, rest = _command_word(body)
        if word in ("by", "bys", "bysort"):
            return cmd_by.by(self, word, rest)
        estimation = _estimation_name(word)
        if estimation is not None:
            return self._estimation(estimation, body, rest)
        name = _abbrev(word, {k: v[0] for k, v in COMMANDS.items()})
        if name is None:
            raise SessionError(f"command {word} is unrecognized", 199)
        return COMMANDS[name][1](self, rest)

    def _estimation(self, command: str, body: str, rest: str) -> str:
        from .commands.dispatch import fit
        from .syntax.parse import is_replay

        if is_replay(rest):
            return cmd_estimates.replay(self, command, rest)
        extra: dict[str, Any] = {}
        if self.matrices and command != "mixed":
            extra["matrices"] = dict(self.matrices)
        data = self.require_data()
        if command != "mixed" and _CONSTRAINTS_OPTION.search(body.partition(",")[2]):
            if not self.constraints:
                raise SessionError("constraints(): no constraints defined (constraint define "
                                   "# exp = exp first)", 111)
            extra["constraints"] = dict(self.constraints)
        body, data = cmd_program.time_series_operators(self, body, data)
        res = fit(body, data, **extra)
        self.e = res
        return "\n" + res.summary()


def _message(exc: BaseException) -> str:
    if isinstance(exc, MemodelsError):
        return str(exc) or type(exc).__name__
    return str(as_session_error(exc))


__all__ = ["COMMANDS", "ScriptError", "Session", "SessionError", "is_command_word",
           "resolve_command", "split_prefixes"]
