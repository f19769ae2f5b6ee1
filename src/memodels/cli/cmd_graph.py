"""Graphs in a session: ``marginsplot`` after ``margins``, ``stcurve`` after ``mestreg``
and ``graph export`` ([R] marginsplot, [ST] stcurve, [G-2] graph export).

    marginsplot [, xdimension(varname) noci title(text) saving(filename[, replace])]
    stcurve, survival | hazard | cumhaz [at(var=# ...) | at1(...) at2(...) ...
             range(# #) title(text) saving(filename[, replace])]
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
from .parsing import arg, flag, parse_assignments, parse_opts, split_options, to_int

if TYPE_CHECKING:
    from ..session import Session

FORMATS = ("png", "pdf", "svg", "eps", "ps", "jpg", "jpeg", "tif", "tiff")
MARGINSPLOT = OptionTable([arg("xdimension", 4), flag("noci"), arg("title"), arg("subtitle"),
                           arg("xtitle"), arg("ytitle"), arg("saving")])


def _text(value: str) -> str:
    """A title as Stata quotes it: ``"a" "b"`` are two lines."""
    parts = [p for p in value.split('"') if p.strip()] if '"' in value else [value]
    return "\n".join(p.strip() for p in parts)
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
        ax.set_title(_text(str(opts["title"])))
    if opts.get("subtitle"):
        ax.figure.suptitle(_text(str(opts["subtitle"])), fontsize="small")
    if opts.get("xtitle"):
        ax.set_xlabel(_text(str(opts["xtitle"])))
    if opts.get("ytitle"):
        ax.set_ylabel(_text(str(opts["ytitle"])))
    session.graph = ax.figure
    cols = [c for c in table.columns if c not in ("margin", "se", "z", "t", "p", "ci_lower",
                                                   "ci_upper", "term", "_set")]
    out = f"Variables that uniquely identify margins: {' '.join(cols)}" if cols else ""
    if "saving" in opts:
        path, replace = _target(str(opts["saving"]))
        out = (out + "\n" + _save(ax.figure, path, replace)).strip("\n")
    return out


STCURVE = OptionTable([flag("survival", 4), flag("hazard", 3), flag("cumhaz", 3),
                       arg("at"), *(arg(f"at{k}") for k in range(1, 10)), arg("range"),
                       arg("title"), arg("saving")])


def _at_values(text: str, columns: list[str], what: str) -> dict[str, float]:
    out = {}
    for var, (raw,) in parse_assignments(text, columns, what).items():
        try:
            out[var] = float(raw)
        except ValueError:
            raise OptionError(f"stcurve: {what}({var}={raw}) needs one number") from None
    return out


def stcurve(session: Session, rest: str) -> str:
    """Draw the survivor, hazard or cumulative hazard curves of the last mestreg."""
    from ..plot.survival import stcurve as draw

    res = session.require_e()
    if getattr(res, "command", None) != "mestreg":
        raise SessionError("stcurve: last estimates not found (run mestreg first)", 301)
    data = session.require_data()
    opts = parse_opts(rest.strip().lstrip(","), STCURVE, "stcurve")
    kinds = [k for k in ("survival", "hazard", "cumhaz") if opts.get(k)]
    if len(kinds) != 1:
        raise OptionError("stcurve: specify one of survival, hazard or cumhaz")
    columns = [str(c) for c in data.columns]
    numbered = [k for k in range(1, 10) if f"at{k}" in opts]
    if "at" in opts and numbered:
        raise OptionError("stcurve: at() may not be combined with at1(), at2(), ...")
    at: object = None
    if "at" in opts:
        at = _at_values(str(opts["at"]), columns, "at")
    elif numbered:
        if numbered != list(range(1, len(numbered) + 1)):
            raise OptionError("stcurve: at#() options must be numbered 1, 2, ... in turn")
        at = [_at_values(str(opts[f"at{k}"]), columns, f"at{k}") for k in numbered]
    extra = {}
    if "range" in opts:
        bounds = str(opts["range"]).split()
        try:
            lo, hi = (float(b) for b in bounds)
        except ValueError:
            raise OptionError("stcurve: range() needs two numbers") from None
        extra["range"] = (lo, hi)
    ax = draw(res, kinds[0], data=data, at=at, pyplot=False, **extra)
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


__all__ = ["graph", "marginsplot", "stcurve"]
