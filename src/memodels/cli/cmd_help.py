"""``help [command]`` in a session or do-file: the command's syntax and the options
memodels reads (:mod:`memodels.cli.help_text`), as ``memodels help`` prints them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..syntax.parse import COMMAND_ALIASES
from .common import SessionError
from .help_text import TITLES, command_help, overview

if TYPE_CHECKING:
    from ..session import Session


def help_(session: Session, rest: str) -> str:
    """Print a command's syntax (or the list of commands)."""
    topic = rest.strip()
    if not topic:
        return overview().rstrip()
    name = COMMAND_ALIASES.get(topic, topic)
    if name not in TITLES:
        raise SessionError(f"help for {topic} not found", 111)
    return command_help(name).rstrip()


__all__ = ["help_"]
