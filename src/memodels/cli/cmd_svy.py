"""``svyset`` and the ``svy:`` prefix for the me commands in a session ([SVY] svyset,
[SVY] svy; [ME] meglm, example 6 and Syntax: "Same as above, but svyset data first").

    svyset psu [pw=w] [, strata(var) fpc(var)] [|| ssu, weight(w2) || _n, weight(w1)]
    svy [, subpop(varname)]: me_command ...

The stage weights become the model's weights as the manual's syntax examples show:
``svyset psu, weight(w3) || ssu, weight(w2) || _n, weight(w1)`` then ``svy: meglm y x
|| psu: || ssu:`` fits ``meglm y x [pw=w1] || psu:, pweight(w3) || ssu:, pweight(w2)``;
``[pw=w]`` on a design with later stages is the first stage's weight, on a one-stage
design the observations' weight.  The variance is the linearized one of the first stage
(PSUs, strata, fpc; :mod:`memodels.glmm.survey`); later stages only pass their weights,
as Stata notes ("further stages will be ignored for variance estimation").
``svy: mestreg`` is allowed as for meglm ([ME] mestreg).  ``subpop(var)`` fits the
observations with var != 0 and keeps the whole design in the variance.  The results
print Stata's survey header (strata, PSUs, population size, design df, adjusted Wald F)
and t statistics with the design df (:mod:`memodels.results.survey_stats`).  ``mixed``
does not allow svy in Stata 14.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import OptionError
from ..glmm.survey import SurveyDesign
from ..syntax.options import OptionTable
from .common import SessionError
from .parsing import arg, parse_opts, split_options

if TYPE_CHECKING:
    from ..session import Session

_STAGE1 = OptionTable([arg("strata", 3), arg("fpc"), arg("weight", 3), arg("vce"),
                       arg("singleunit", 6)])
_STAGE = OptionTable([arg("strata", 3), arg("fpc"), arg("weight", 3)])
_WEIGHT = re.compile(r"\[\s*(?:pw|pweight)\s*=\s*([A-Za-z_]\w*)\s*\]")
_ME = ("meglm", "melogit", "meprobit", "mecloglog", "mepoisson", "menbreg", "meologit",
       "meoprobit", "mestreg")


@dataclass
class Stage:
    unit: str
    weight: str | None = None
    strata: str | None = None
    fpc: str | None = None


@dataclass
class SvySettings:
    stages: list[Stage] = field(default_factory=list)
    pweight: str | None = None


def svyset(session: Session, rest: str) -> str:
    """``svyset psu [pw=w] [, strata() fpc()] [|| ssu, weight() ...]``; without
    arguments, the current settings."""
    data = session.require_data()
    if not rest.strip():
        if session.svy is None:
            raise SessionError("data not set up for svy, use svyset", 119)
        return _describe(session.svy)
    settings = SvySettings()
    for k, piece in enumerate(rest.split("||")):
        m = _WEIGHT.search(piece)
        if m:
            if k:
                raise SessionError("svyset: [pw=] belongs to the first stage", 198)
            settings.pweight = m.group(1)
            piece = piece[:m.start()] + piece[m.end():]
        body, options = split_options(piece)
        opts = parse_opts(options, _STAGE1 if k == 0 else _STAGE, "svyset")
        if str(opts.get("vce", "linearized")).strip() not in ("linearized", "linear"):
            raise OptionError("svyset, vce(): only linearized is supported")
        if opts.get("singleunit") not in (None, "missing"):
            raise OptionError("svyset, singleunit(): only missing (the default) is "
                              "supported")
        words = body.split()
        if len(words) != 1:
            raise SessionError("svyset: one sampling-unit variable per stage (or _n)", 198)
        stage = Stage(words[0], opts.get("weight"), opts.get("strata"), opts.get("fpc"))
        for var in (stage.unit if stage.unit != "_n" else None, stage.weight, stage.strata,
                    stage.fpc):
            if var is not None and var not in data.columns:
                raise SessionError(f"variable {var} not found", 111)
        settings.stages.append(stage)
    if settings.pweight and settings.pweight not in data.columns:
        raise SessionError(f"variable {settings.pweight} not found", 111)
    session.svy = settings
    return _describe(settings)


def _describe(s: SvySettings) -> str:
    lines = [f"      pweight: {s.pweight or '<none>'}", "          VCE: linearized",
             "  Single unit: missing"]
    for k, st in enumerate(s.stages, start=1):
        lines += [f"     Strata {k}: {st.strata or '<one>'}",
                  f"         SU {k}: {'<observations>' if st.unit == '_n' else st.unit}",
                  f"        FPC {k}: {st.fpc or '<zero>'}"]
        if st.weight:
            lines.append(f"     Weight {k}: {st.weight}")
    return "\n".join(lines)


def _add_weights(cmdline: str, s: SvySettings) -> str:
    """The command line with the design's weights as the me command takes them."""
    if re.search(r"\[\s*\w+\s*=", cmdline):
        raise SessionError("weights not allowed with the svy prefix (svyset them)", 101)
    obs_weight = None
    level_weights: dict[str, str] = {}
    multistage = len(s.stages) > 1
    if s.pweight:
        if multistage and s.stages[0].unit != "_n":
            level_weights[s.stages[0].unit] = s.pweight
        else:
            obs_weight = s.pweight
    for st in s.stages:
        if st.weight is None:
            continue
        if st.unit == "_n":
            obs_weight = st.weight
        else:
            level_weights[st.unit] = st.weight
    pieces = cmdline.split("||")
    if obs_weight:
        fixed, comma, opts = pieces[0].partition(",")
        pieces[0] = f"{fixed.rstrip()} [pw={obs_weight}] {comma}{opts}".rstrip() + " "
    for unit, w in level_weights.items():
        for k in range(1, len(pieces)):
            m = re.match(r"\s*([A-Za-z_]\w*)\s*:", pieces[k])
            if m and m.group(1) == unit:
                sep = " " if "," in pieces[k] else ", "
                pieces[k] = pieces[k].rstrip() + f"{sep}pweight({w}) "
                break
        else:
            raise SessionError(f"svy: the sampling unit {unit} (weight {w}) is not a level "
                               "of the model's random effects", 459)
    return "||".join(pieces)


def svy(session: Session, rest: str) -> str:
    """``svy [, subpop(varname)]: me_command ...``."""
    from ..commands.dispatch import fit

    data = session.require_data()
    if session.svy is None:
        raise SessionError("data not set up for svy, use svyset", 119)
    head, _, command = rest.partition(":")
    head = head.strip()
    if head.startswith(","):
        head = head[1:]
    opts = parse_opts(head, OptionTable([arg("subpop", 3)]), "svy")
    word = command.split()[0] if command.split() else ""
    from ..syntax.parse import COMMAND_ALIASES

    name = COMMAND_ALIASES.get(word, word)
    if name not in _ME:
        raise SessionError(f"svy: {word or 'a command'} is not allowed (the me commands "
                           "other than meqrlogit/meqrpoisson are; mixed is not)", 199)
    s = session.svy
    first = s.stages[0]
    if first.unit == "_n":
        raise SessionError("svy: the first-stage units must be a variable (the me "
                           "commands' highest level)", 459)
    design_vars = [first.unit] + [v for v in (first.strata, first.fpc) if v]
    ok = data[design_vars].notna().all(axis=1).to_numpy()
    survey = SurveyDesign(data.loc[ok, first.unit],
                          data.loc[ok, first.strata] if first.strata else None,
                          data.loc[ok, first.fpc] if first.fpc else None)
    keep = ok.copy()
    sub = opts.get("subpop")
    if sub is not None:
        sub = str(sub).strip()
        if sub not in data.columns:
            raise SessionError(f"variable {sub} not found", 111)
        values = pd.to_numeric(data[sub], errors="coerce").to_numpy(float)
        keep &= np.nan_to_num(values, nan=0.0) != 0
    cmdline = _add_weights(command.strip(), s)
    res = fit(cmdline, data.loc[keep], survey=survey)
    if sub is not None:  # the header then labels the counts "Subpop. ..."
        res.extra["subpop"] = sub
    session.e = res
    return f"(running {name} on estimation sample)\n" + res.summary()


__all__ = ["Stage", "SvySettings", "svy", "svyset"]
