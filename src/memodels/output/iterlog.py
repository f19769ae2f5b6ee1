"""The one switch for Stata's iteration log ([R] maximize: ``log``/``nolog``).

Every estimation command sends each line of its iteration log ("Performing
gradient-based optimization:", "Iteration 0:   log likelihood = -1014.9268", the
``trace``/``gradient`` displays, ...) through :class:`IterationLog`, which

* always passes the line to the :mod:`logging` logger ``"memodels"`` (level INFO), so
  a Python program can collect it with the standard logging machinery, and
* prints it on the console (:func:`memodels.output.console.console`) only when the log
  is shown.

Whether it is shown: ``nolog`` (``nolog=True``, ``log=False``) hides it; ``log``
(``log=True``) shows it; otherwise the context decides. From Python
(``memodels.mixed(...)``, ``memodels.fit(...)``) the default is quiet, as statsmodels and
lme4 are; Stata syntax run by a :class:`memodels.session.Session` (the do-file runner,
the command line) shows it, as Stata does -- the session runs its commands inside
:func:`stata_log`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from .console import console

LOGGER = logging.getLogger("memodels")

# whether a command without log/nolog shows its log in this context (thread / task)
_SHOW_BY_DEFAULT: ContextVar[bool] = ContextVar("memodels_iterlog", default=False)


def shows_log(options: Mapping[str, Any]) -> bool:
    """Whether the iteration log is printed for a command with these (parsed) options."""
    if options.get("nolog"):
        return False
    if "log" in options:
        return bool(options["log"])
    return _SHOW_BY_DEFAULT.get()


def in_stata_context() -> bool:
    """Whether the current context runs Stata syntax for a session (see
    :func:`stata_log`)."""
    return _SHOW_BY_DEFAULT.get()


@contextmanager
def stata_log(show: bool = True) -> Iterator[None]:
    """Within the block, commands without ``log``/``nolog`` print their iteration log
    (``show=True``, Stata's behaviour) or not (``show=False``)."""
    token = _SHOW_BY_DEFAULT.set(show)
    try:
        yield
    finally:
        _SHOW_BY_DEFAULT.reset(token)


class IterationLog:
    """Writes iteration-log lines to the ``memodels`` logger and, when ``show``, to the
    console."""

    def __init__(self, show: bool) -> None:
        self.show = bool(show)

    def __call__(self, line: str = "") -> None:
        if line.strip():
            LOGGER.info(line.rstrip())
        if self.show:
            print(line, file=console())


def iteration_log(options: Mapping[str, Any]) -> IterationLog:
    """The log writer for a command with these options (see :func:`shows_log`)."""
    return IterationLog(shows_log(options))


__all__ = ["LOGGER", "IterationLog", "in_stata_context", "iteration_log", "shows_log",
           "stata_log"]
