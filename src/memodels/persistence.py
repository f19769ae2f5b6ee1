"""``memodels.load(path)``: read estimation results written by ``res.save(path)`` (the
format: :mod:`memodels.results.persist`).  This module sits above every results class
(``mestreg``'s included), so that all of them are known when a file is read."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def load(path: str | Path) -> Any:
    """Results saved by ``res.save(path)``.

    Loaded results display, replay and run ``test``, ``lincom``, ``nlcom``, ``estat``
    and ``lrtest`` without the data; ``predict``, ``random_effects`` and ``margins``
    need the data and refuse with a message (refit the model).

    Parameters
    ----------
    path : str or pathlib.Path
        A file written by ``res.save(path)`` (a ZIP with ``meta.json`` and
        ``arrays.npz``, format version 1).

    Returns
    -------
    results
        The results object of the command that was saved.

    Examples
    --------
    >>> import os, tempfile
    >>> import memodels
    >>> res = memodels.mixed("weight week || id:", memodels.datasets.load("pig"))
    >>> path = os.path.join(tempfile.mkdtemp(), "pig.zip")
    >>> _ = res.save(path)
    >>> round(memodels.load(path).llf, 4)
    -1014.9268
    """
    from .results.persist import load as _load
    from .survival import results as _survival_results  # noqa: F401  (registers mestreg)

    return _load(path)


__all__ = ["load"]
