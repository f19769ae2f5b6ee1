"""``marginsplot`` and ``graph export`` in a session ([R] marginsplot, [G-2] graph
export): the last ``margins`` table drawn with its confidence intervals
(:func:`memodels.postestimation.margins.marginsplot`, matplotlib), kept as the current
graph and written to a file by ``graph export FILE [, replace]`` (or by
``marginsplot, saving(FILE)``).  Options: ``x(var)``, ``title()``, ``subtitle()``,
``xtitle()``, ``ytitle()``, ``saving(FILE[, replace])``; other graph options are refused
with a message."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pandas as pd

from ..errors import OptionError
from ..syntax.options import OptionTable
from .common import SessionError
from .parsing import arg, flag, parse_opts, split_options

if TYPE_CHECKING:
    from ..session import Session

OPTIONS = OptionTable([arg("x"), arg("title"), arg("subtitle"), arg("xtitle"),
                       arg("ytitle"), arg("saving"), flag("noci")])


def _text(value: str) -> str:
    parts = [p for p in value.split('"') if p.strip()] if '"' in value else [value]
    return "\n".join(p.strip() for p in parts)


def _save(fig, target: str) -> str:
    name, _, opt = target.partition(",")
    path = name.strip().strip('"')
    if not os.path.splitext(path)[1]:
        path += ".png"
    if os.path.exists(path) and opt.strip() != "replace":
        raise SessionError(f"file {path} already exists (use replace)", 602)
    fig.savefig(path)
    return f"(file {path} written in {os.path.splitext(path)[1][1:].upper()} format)"


def marginsplot(session: Session, rest: str) -> str:
    """``marginsplot [, x(var) title() ytitle() saving()]``."""
    from ..postestimation.margins import marginsplot as draw

    table = session.last
    if not isinstance(table, pd.DataFrame) or "margin" not in table.columns:
        raise SessionError("previous command was not margins", 301)
    body, options = split_options(rest)
    if body.strip():
        raise SessionError("marginsplot: no varlist allowed", 198)
    try:
        opts = parse_opts(options, OPTIONS, "marginsplot")
    except OptionError as exc:
        raise OptionError(f"{exc} (marginsplot takes x(), title(), subtitle(), xtitle(), "
                          "ytitle(), saving())") from None
    if opts.get("noci"):
        raise OptionError("marginsplot, noci is not supported")
    fig = draw(table, x=opts.get("x"))
    ax = fig.axes[0]
    if opts.get("title") is not None:
        ax.set_title(_text(opts["title"]))
    if opts.get("subtitle"):
        fig.suptitle(_text(opts["subtitle"]), fontsize="small")
    if opts.get("xtitle"):
        ax.set_xlabel(_text(opts["xtitle"]))
    if opts.get("ytitle"):
        ax.set_ylabel(_text(opts["ytitle"]))
    session.graph = fig
    cols = [c for c in table.columns if c not in ("margin", "se", "z", "p", "ci_lower",
                                                   "ci_upper", "term", "_set")]
    out = f"\nVariables that uniquely identify margins: {' '.join(cols)}" if cols else ""
    if opts.get("saving"):
        out += "\n" + _save(fig, opts["saving"])
    return out.strip("\n")


GRAPH_OPTIONS = OptionTable([flag("replace"), arg("width"), arg("height"), arg("as"),
                             arg("name")])


def graph(session: Session, rest: str) -> str:
    """``graph export FILE [, replace]`` of the current graph."""
    words = rest.split(None, 1)
    if not words or words[0] not in ("export", "save"):
        raise SessionError("graph: only graph export FILE [, replace] is supported", 198)
    fig = getattr(session, "graph", None)
    if fig is None:
        raise SessionError("no graph in memory (marginsplot first)", 301)
    body, options = split_options(words[1] if len(words) > 1 else "")
    opts = parse_opts(options, GRAPH_OPTIONS, "graph export")
    if not body.strip():
        raise SessionError("graph export: a file name is required", 198)
    return _save(fig, body + (", replace" if opts.get("replace") else ""))


__all__ = ["graph", "marginsplot"]
