"""Where a plot draws: the caller's Axes, or a new figure.  matplotlib is imported here,
on use, and its backend is never set or switched."""

from __future__ import annotations

from typing import Any

from ..errors import MemodelsError


class PlotDependencyError(MemodelsError, ImportError):
    """matplotlib is not installed (it is the optional ``plot`` extra)."""


def require_matplotlib() -> Any:
    """The matplotlib module, or a clear error naming the extra to install."""
    try:
        import matplotlib
    except ImportError:  # pragma: no cover - matplotlib is in the test extra
        raise PlotDependencyError("plots need matplotlib: pip install 'memodels[plot]'"
                                  ) from None
    return matplotlib


def new_axes(ax: Any = None, ncols: int = 1, figsize: tuple[float, float] | None = None,
             pyplot: bool = True) -> Any:
    """``ax`` when given; otherwise new Axes (``ncols`` of them side by side) on a pyplot
    figure (shown by a notebook or a desktop session as usual), or with ``pyplot=False``
    on a bare :class:`matplotlib.figure.Figure` that no window or backend knows of (the
    do-file runner saves it to a file)."""
    if ax is not None:
        return ax
    require_matplotlib()
    size = figsize or (6.0 * ncols, 4.0)
    if pyplot:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(1, ncols, figsize=size, squeeze=False)
    else:
        from matplotlib.figure import Figure

        axes = Figure(figsize=size).subplots(1, ncols, squeeze=False)
    return axes[0, 0] if ncols == 1 else tuple(axes[0])
