"""``memodels.load(path)``: read estimation results written by ``res.save(path)`` (the
format: :mod:`memodels.results.persist`).  This module sits above every results class
(``mestreg``'s included), so that all of them are known when a file is read."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def load(path: str | Path) -> Any:
    """Results saved by ``res.save(path)``: they display, replay and test without the
    data; ``predict``, ``random_effects`` and ``margins`` need a refit."""
    from .results.persist import load as _load
    from .survival import results as _survival_results  # noqa: F401  (registers mestreg)

    return _load(path)


__all__ = ["load"]
