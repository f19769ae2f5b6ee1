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
from ..syntax.formats import DISPLAY_OPTION_NAMES
from ..syntax.options import (
    DISPLAY_OPTIONS,
    OptionDef,
    OptionTable,
    _level,
    normalize_dftable,
    normalize_keywords,
)
from .mixed import large_sample_view


def flag_(name: str, k: int = 0) -> OptionDef:
    return OptionDef(name, k, "none")


def arg_(name: str, k: int = 0, convert=None) -> OptionDef:
    return OptionDef(name, k, "required", convert)


# options a replay accepts (``mixed, noci``, ``melogit, or``): reporting and display
REPLAY_OPTIONS = (
    OptionTable(
        [
            arg_("level", 1, _level),
            flag_("noheader", 3),
            flag_("nogroup", 4),
            flag_("nofetable", 4),
            flag_("noretable", 5),
            flag_("norettable", 6),
            flag_("notable"),
            flag_("nolrtest", 4),
            flag_("nostderr"),
            flag_("estmetric", 3),
            flag_("eform", 2),
            flag_("irr"),
            flag_("or"),
            flag_("nohr"),
            flag_("tratio", 2),
            flag_("noshow", 4),
            flag_("small"),
            arg_("dftable", 3, normalize_dftable),
            flag_("variance", 3),
            flag_("stddeviations", 6),
        ],
        "replay options",
    )
    | DISPLAY_OPTIONS
)


EFORM = ("or", "irr", "eform")
DISPLAY_ONLY = ("level", "noheader", "nogroup", "nofetable", "noretable", "norettable",
                "notable", "nolrtest", "nostderr", "estmetric", "dftable", "small",
                "variance", "stddeviations",
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
        if opts.get(key) and res.command not in ("mixed", "meqrlogit", "meqrpoisson"):
            raise OptionError(f"option {key} not allowed after {res.command}")
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
    opts = dict(opts)
    stddev = opts.pop("stddeviations", False)
    variance = opts.pop("variance", False)
    options = {k: v for k, v in res.options.items()
               if k not in (*DISPLAY_OPTION_NAMES, "dftable", "small")
               and not (eform and k in EFORM)}
    options.update(opts)
    new.options = options
    was_sd = bool(res.options.get("stddeviations"))
    if (stddev and not was_sd) or (variance and was_sd):
        _metric_copy(new, bool(stddev))
    extra = getattr(res, "extra", None) or {}
    if extra.get("ddf") is not None and not (opts.get("small") or opts.get("dftable")):
        new = large_sample_view(new)
    if "level" in opts:
        new.level = float(opts["level"])
    if opts.get("nolrtest"):
        new.lr_test = None
    return new


def _metric_copy(new: Any, stddev: bool) -> None:
    """``mixed, stddeviations`` / ``mixed, variance`` on replay: the random-effects rows
    recomputed from the stored fit in the other metric (standard deviations and
    correlations, or variances and covariances; delta-method SEs from the same VCE)."""
    from .meqr import MeqrResults, build_meqr_results
    from .mixed import MixedResults, build_mixed_results

    opts = {k: v for k, v in new.options.items() if k not in ("variance", "stddeviations")}
    if stddev:
        opts["stddeviations"] = True
    if isinstance(new, MixedResults):
        fresh = build_mixed_results(new.design, new.fit, cmdline=new.cmdline, options=opts,
                                    spec=new.spec)
    elif isinstance(new, MeqrResults):
        fresh = build_meqr_results(new.design, new.fit, command=new.command,
                                   cmdline=new.cmdline, options=opts,
                                   family_obj=new.family_obj)
    else:
        raise OptionError(f"option {'stddeviations' if stddev else 'variance'} not allowed "
                          f"after {new.command}")
    nb = sum(1 for r in new.rows if r.section == "fixed" and r.status == "ok")
    keep = [r for r in new.rows if r.section not in ("random", "residual")]
    new.rows = keep + [r for r in fresh.rows if r.section in ("random", "residual")]
    vm = fresh.vcov_matrix.copy()
    vm[:nb, :nb] = new.vcov_matrix[:nb, :nb]
    new.vcov_matrix = vm
    new.options = opts


def replay_copy(res: Any, keywords: dict[str, Any]) -> Any:
    """Python keywords (``noci=True``, ``cformat="%9.2f"``, ``level=90``) -> the copy."""
    opts = normalize_keywords(keywords, REPLAY_OPTIONS)
    return display_copy(res, check_replay_options(res, opts))


__all__ = ["DISPLAY_ONLY", "EFORM", "check_replay_options", "display_copy", "replay_copy"]
