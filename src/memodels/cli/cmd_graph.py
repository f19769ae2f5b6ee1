"""Graphs in a session: ``marginsplot`` after ``margins`` and ``graph export``
([R] marginsplot, [G-2] graph export).

    marginsplot [, xdimension(varname) noci title(text) saving(filename[, replace])]
    graph export filename.suffix [, replace width(#) as(png|pdf|svg|eps|ps|jpg|tif)]

The graph is drawn on a bare :class:`matplotlib.figure.Figure` (no window, no pyplot,
matplotlib's backend untouched) and kept as the session's current graph until the next
one; ``graph export`` writes it (the format from the suffix or ``as()``).  Stata's own
``.gph`` format is not written: ``saving()`` needs an image suffix.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import OptionError
from ..syntax.options import OptionTable
from .common import SessionError
from .parsing import arg, flag, parse_opts, split_options, to_int

if TYPE_CHECKING:
    from ..session import Session

FORMATS = ("png", "pdf", "svg", "eps", "ps", "jpg", "jpeg", "tif", "tiff")
MARGINSPLOT = OptionTable([arg("xdimension", 4), flag("noci"), arg("title"), arg("saving")])
EXPORT = OptionTable([flag("replace"), arg("width", 0, to_int), arg("as")])


def _target(text: str, fmt: str | None = None) -> tuple[str, bool]:
    """``"file.png, replace"`` -> (path, replace); the format checked."""
    name, opts = split_options(text)
    name = name.strip().strip('"')
    if not name:
        raise SessionError("filename required", 100)
    replace = False
    for item in (o.strip() for o in opts.split(",") if o.strip()):
        if item in ("replace", "replac", "repla", "repl", "rep"):
            replace = True
        else:
            raise OptionError(f"option {item} not allowed")
    ext = (fmt or os.path.splitext(name)[1].lstrip(".")).lower()
    if ext not in FORMATS:
        raise SessionError(f"{name}: give the file an image suffix ({', '.join(FORMATS[:6])}"
                           "); Stata's .gph format is not written", 198)
    return name, replace


def _save(figure: Any, path: str, replace: bool, fmt: str | None = None,
          width: int | None = None) -> str:
    if os.path.exists(path) and not replace:
        raise SessionError(f"file {path} already exists", 602)
    dpi = None
    if width is not None:
        if width <= 0:
            raise OptionError("width() must be positive")
        dpi = width / figure.get_size_inches()[0]
    try:
        figure.savefig(path, format=fmt, dpi=dpi)
    except OSError as exc:
        raise SessionError(f"file {path} could not be opened ({exc.strerror})", 603) from None
    return f"(file {path} written in {(fmt or os.path.splitext(path)[1].lstrip('.')).upper()}"\
           " format)"


def marginsplot(session: Session, rest: str) -> str:
    """Draw the margins of the last ``margins`` command."""
    from ..plot.margins import marginsplot as draw

    table = session.last
    if not isinstance(table, pd.DataFrame) or "margin" not in table.columns:
        raise SessionError("previous command was not margins", 301)
    opts = parse_opts(rest.strip().lstrip(","), MARGINSPLOT, "marginsplot")
    ax = draw(table, opts.get("xdimension"), ci=not opts.get("noci", False), pyplot=False)
    if "title" in opts:
        ax.set_title(str(opts["title"]).strip().strip('"'))
    session.graph = ax.figure
    if "saving" in opts:
        path, replace = _target(str(opts["saving"]))
        return _save(ax.figure, path, replace)
    return ""


def graph(session: Session, rest: str) -> str:
    """``graph export``: write the current graph to a file."""
    words = rest.strip().split(None, 1)
    if not words or words[0] not in ("export", "expor", "expo", "exp"):
        sub = words[0] if words else ""
        raise SessionError(f"graph {sub}: only graph export is available".replace("  ", " "),
                           199)
    figure = getattr(session, "graph", None)
    if figure is None:
        raise SessionError("no graph in memory (draw one first: marginsplot)", 111)
    body = words[1] if len(words) > 1 else ""
    name, opts_text = split_options(body)
    opts = parse_opts(opts_text, EXPORT, "graph export")
    fmt = str(opts["as"]).strip().lower() if "as" in opts else None
    path, _ = _target(name, fmt)
    return _save(figure, path, bool(opts.get("replace")), fmt, opts.get("width"))


__all__ = ["graph", "marginsplot"]
