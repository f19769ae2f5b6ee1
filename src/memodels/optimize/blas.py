"""Single-threaded BLAS for the small dense pieces of the likelihood engines.

``threadpoolctl.threadpool_limits`` scans the loaded shared libraries on every call
(0.4-2 ms, as much as a whole fit of a manual example); the controller is created once,
on first use (numpy and scipy are loaded by then), and reused.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from threadpoolctl import ThreadpoolController

_CONTROLLER: ThreadpoolController | None = None


def single_threaded_blas() -> AbstractContextManager:
    """Context manager limiting the BLAS thread pools to one thread."""
    global _CONTROLLER
    if _CONTROLLER is None:
        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=1, user_api="blas")
