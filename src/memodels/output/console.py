"""Where command output goes: the calling context's console stream.

Estimation commands print their iteration logs ([ME] mixed, Remarks: "Iteration 0: log
likelihood = ...") to the *console*: ``sys.stdout`` unless a caller -- a
:class:`memodels.session.Session` -- has set its own stream for the current context with
:func:`writing_to`.  The setting is a :class:`contextvars.ContextVar`, so it is private to
a thread (and to an asyncio task): two sessions running in two threads each get their own
output, and the process's ``sys.stdout`` is never replaced.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TextIO

_STREAM: ContextVar[TextIO | None] = ContextVar("memodels_console", default=None)


def console() -> TextIO:
    """The stream command output is written to in this context (default ``sys.stdout``,
    looked up at call time)."""
    stream = _STREAM.get()
    return sys.stdout if stream is None else stream


@contextmanager
def writing_to(stream: TextIO) -> Iterator[TextIO]:
    """Send :func:`console` output of the current context (thread) to ``stream``."""
    token = _STREAM.set(stream)
    try:
        yield stream
    finally:
        _STREAM.reset(token)


__all__ = ["console", "writing_to"]
