"""Replay: the same estimates shown with other display options, as Stata's
``mixed, noci`` / ``melogit, or`` ([R] estimation options; [ME] mixed, Options,
``noheader``/``nolrtest``... "either at estimation or upon replay").

Display options given at estimation (``noci``, ``cformat()``, ``coeflegend``...) are
not stored with the results: a replay shows the default table unless they are given
again, as in Stata.  Options fixed at estimation (the variance metric, ``dfmethod()``)
cannot be changed here.
"""

from __future__ import annotations

import copy
from typing import Any

from ..errors import OptionError
from ..syntax.options import DISPLAY_OPTION_NAMES, REPLAY_OPTIONS, normalize_keywords
from .mixed import large_sample_view

EFORM = ("or", "irr", "eform")
DISPLAY_ONLY = ("level", "noheader", "nogroup", "nofetable", "noretable", "norettable",
                "notable", "nolrtest", "nostderr", "estmetric", "dftable", "small",
                *DISPLAY_OPTION_NAMES)


def check_replay_options(res: Any, opts: dict[str, Any]) -> dict[str, Any]:
    """Validate parsed replay options against what ``res`` can show; returns the
    options minus ``small``/``variance``/``stddeviations`` (checked, display-neutral)."""
    opts = dict(opts)
    if (opts.get("small") or opts.get("dftable")) and not (res.extra or {}).get("ddf"):
        which = "small" if opts.get("small") else "dftable()"
        raise OptionError(f"option {which} requires that dfmethod() be specified at "
                          "estimation (or posted by estat df, post)")
    for key in ("stddeviations", "variance"):
        if opts.pop(key, False) and bool(res.options.get("stddeviations")) != (
                key == "stddeviations"):
            raise OptionError(f"option {key} not allowed on replay: the metric of the "
                              "variance components is set at estimation (refit with it, or "
                              "see estat sd)")
    eform = [k for k in EFORM if opts.get(k)]
    if eform and not hasattr(res, "eform"):
        raise OptionError(f"option {eform[0]} not allowed after {res.command}")
    if str(res.command).startswith("meqr") and opts.get("notable"):
        # not a meqrlogit/meqrpoisson option (they have nofetable and noretable)
        raise OptionError(f"option notable not allowed with {res.command}; use nofetable "
                          "and noretable")
    if opts.get("estmetric") and res.estmetric is None:
        raise OptionError(f"option estmetric not allowed after {res.command}")
    bad = set(opts) - set(DISPLAY_ONLY) - set(EFORM)
    if bad:
        raise OptionError(f"option {sorted(bad)[0]} not allowed on replay")
    return opts


def display_copy(res: Any, opts: dict[str, Any]) -> Any:
    """A shallow copy of ``res`` showing ``opts`` (already validated)."""
    opts = dict(opts)
    if opts.pop("norettable", False):  # the manual's spelling in [ME] mixed example 13
        opts["noretable"] = True
    new = copy.copy(res)
    eform = any(opts.get(k) for k in EFORM)
    options = {k: v for k, v in res.options.items()
               if k not in (*DISPLAY_OPTION_NAMES, "dftable", "small")
               and not (eform and k in EFORM)}
    options.update(opts)
    new.options = options
    extra = getattr(res, "extra", None) or {}
    if extra.get("ddf") is not None and not (opts.get("small") or opts.get("dftable")):
        new = large_sample_view(new)
    if "level" in opts:
        new.level = float(opts["level"])
    if opts.get("nolrtest"):
        new.lr_test = None
    return new


def replay_copy(res: Any, keywords: dict[str, Any]) -> Any:
    """Python keywords (``noci=True``, ``cformat="%9.2f"``, ``level=90``) -> the copy."""
    opts = normalize_keywords(keywords, REPLAY_OPTIONS)
    return display_copy(res, check_replay_options(res, opts))


__all__ = ["DISPLAY_ONLY", "EFORM", "check_replay_options", "display_copy", "replay_copy"]
