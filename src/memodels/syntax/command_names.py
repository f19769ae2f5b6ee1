"""The estimation commands' names and their old aliases ([ME] mixed, [ME] meglm, [ME]
meqrlogit, [ME] meqrpoisson: ``xtmixed``, ``xtmelogit``, ``xtmepoisson``).  Below both
front ends (the Stata-syntax parser and the lme4 formula parser); re-exported by
:mod:`memodels.syntax.parse`.
"""

from __future__ import annotations

from memodels.errors import StataSyntaxError
from memodels.syntax.options import ME_COMMANDS, MEQR_COMMANDS

COMMAND_ALIASES = {
    "xtmixed": "mixed",
    "xtmelogit": "meqrlogit",
    "xtmepoisson": "meqrpoisson",
}
ESTIMATION_COMMANDS = ("mixed", *ME_COMMANDS, *MEQR_COMMANDS)


def normalize_command(name: str) -> str:
    """Canonical command name (``xtmixed`` -> ``mixed``); unknown names raise."""
    cmd = COMMAND_ALIASES.get(name, name)
    if cmd not in ESTIMATION_COMMANDS:
        raise StataSyntaxError(f"command {name} is unrecognized")
    return cmd
