"""``fit``: run a whole Stata command line by dispatching to the command's function."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from ..errors import StataSyntaxError
from ..syntax import split_command
from .me_binary import mecloglog, melogit, meprobit
from .me_count import menbreg, mepoisson
from .me_ordinal import meologit, meoprobit
from .meglm import meglm
from .meqr import meqrlogit, meqrpoisson
from .mestreg import mestreg
from .mixed import mixed

COMMANDS: dict[str, Callable[..., Any]] = {
    "mixed": mixed,
    "meglm": meglm,
    "melogit": melogit,
    "meprobit": meprobit,
    "mecloglog": mecloglog,
    "mepoisson": mepoisson,
    "menbreg": menbreg,
    "meqrlogit": meqrlogit,
    "meqrpoisson": meqrpoisson,
    "meologit": meologit,
    "meoprobit": meoprobit,
    "mestreg": mestreg,
}


def fit(cmdline: str, data: pd.DataFrame, **options: Any):
    """Run a Stata estimation command line, e.g. ``fit("mixed weight week || id:", df)``."""
    if not isinstance(cmdline, str):
        raise StataSyntaxError(f"the command line must be a string (got "
                               f"{type(cmdline).__name__})")
    command, rest = split_command(cmdline)
    func = COMMANDS.get(command)
    if func is None:
        known = ", ".join(sorted(COMMANDS))
        raise StataSyntaxError(f"command '{command}' is not available yet (available: {known})")
    return func(rest, data, **options)
