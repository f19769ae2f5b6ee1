"""``memodels help [command]``: a command's syntax, as in the [ME] manual's syntax
diagrams, and the options memodels reads for it (from the same option tables the
parser uses, so the list cannot drift from what is accepted).  Plain text, no markup.

The docs site (``docs/``) includes this text on every command's page.
"""

from __future__ import annotations

import textwrap

from ..syntax.options import DISPLAY_OPTIONS, MAXIMIZE_OPTIONS, OptionDef, command_tables

TITLES = {
    "mixed": "Multilevel mixed-effects linear regression",
    "meglm": "Multilevel mixed-effects generalized linear model",
    "melogit": "Multilevel mixed-effects logistic regression",
    "meprobit": "Multilevel mixed-effects probit regression",
    "mecloglog": "Multilevel mixed-effects complementary log-log regression",
    "meologit": "Multilevel mixed-effects ordered logistic regression",
    "meoprobit": "Multilevel mixed-effects ordered probit regression",
    "mepoisson": "Multilevel mixed-effects Poisson regression",
    "menbreg": "Multilevel mixed-effects negative binomial regression",
    "mestreg": "Multilevel mixed-effects parametric survival models",
    "meqrlogit": "Multilevel mixed-effects logistic regression (QR decomposition)",
    "meqrpoisson": "Multilevel mixed-effects Poisson regression (QR decomposition)",
}

# options of the shared me tables that only some commands take (commands/meglm.py
# COMMAND_OPTIONS; meqr: commands/meqr.py)
_ME_SPECIFIC = {"family", "link", "exposure", "eform", "irr", "or", "binomial", "dispersion",
                "asis"}
_ONLY = {
    "meglm": {"family", "link", "exposure", "eform", "irr", "or", "asis"},
    "melogit": {"binomial", "or", "asis"},
    "meprobit": {"binomial", "asis"},
    "mecloglog": {"binomial", "eform", "asis"},
    "mepoisson": {"exposure", "irr"},
    "menbreg": {"exposure", "irr", "dispersion"},
    "mestreg": set(),
    "meologit": {"or"},
    "meoprobit": set(),
    "meqrlogit": {"binomial", "or"},
    "meqrpoisson": {"exposure", "irr"},
}

_EQUATIONS = """\
where the syntax of fe_equation is

    [indepvars] [if] [in] {weight}[, fe_options]

and the syntax of re_equation is one of the following:

for random coefficients and intercepts
    levelvar: [varlist] [, re_options]

for random effects among the values of a factor variable
    levelvar: R.varname [, re_options]

levelvar is a variable identifying the group structure for the random effects at that
level or is _all representing one group comprising all observations."""


def _syntax(cmd: str) -> str:
    if cmd == "mestreg":
        head = ("mestreg fe_equation [|| re_equation] [|| re_equation ...], "
                "distribution(distname)\n        [options]")
        extra = ("\nThe data must be stset first (memodels.stset(data, time=, failure=), or "
                 "stset in a do-file).\ndistname: exponential, gamma, loglogistic, "
                 "lognormal, weibull.")
    elif cmd.startswith("meqr"):
        head = f"{cmd} depvar fe_equation || re_equation [|| re_equation ...] [, options]"
        extra = ""
    else:
        head = f"{cmd} depvar fe_equation [|| re_equation] [|| re_equation ...] [, options]"
        extra = ""
    weight = "" if cmd.startswith("meqr") else "[weight] "
    return head + "\n\n" + _EQUATIONS.format(weight=weight) + extra


def _shown(d: OptionDef) -> str:
    arg = {"none": "", "required": "(...)", "optional": "[(...)]"}.get(str(d.arg), "(...)")
    short = d.name[: d.min_abbrev]
    abbrev = f"  (min. abbreviation {short})" if d.min_abbrev < len(d.name) else ""
    return f"{d.name}{arg}{abbrev}"


def _allowed(cmd: str, d: OptionDef) -> bool:
    return d.name not in _ME_SPECIFIC or cmd == "mixed" or d.name in _ONLY.get(cmd, set())


def _block(title: str, defs: list[OptionDef]) -> str:
    if not defs:
        return ""
    lines = [f"  {_shown(d)}" for d in defs]
    return f"{title}\n" + "\n".join(lines)


def command_help(cmd: str) -> str:
    """The plain-text help of an estimation command: title, syntax, options."""
    if cmd not in TITLES:
        raise KeyError(cmd)
    fe, re_, glob = command_tables(cmd)
    maximize = {d.name for d in MAXIMIZE_OPTIONS}
    display = {d.name for d in DISPLAY_OPTIONS}
    fe_names = {d.name for d in fe}
    model = [d for d in glob if d.name not in maximize | display | fe_names
             and _allowed(cmd, d)]
    parts = [
        f"{cmd} -- {TITLES[cmd]}",
        "",
        _syntax(cmd),
        "",
        _block("fe_options", [d for d in fe if _allowed(cmd, d)]),
        "",
        _block("re_options", list(re_)),
        "",
        _block("options", model),
        "",
        _block("display options", [d for d in glob if d.name in display]),
        "",
        _block("maximization options", [d for d in glob if d.name in maximize]),
        "",
        textwrap.fill(
            f"From Python: memodels.{cmd}(\"...\", data, option=value, ...) takes the same "
            "text (or an lme4-style formula) and the options as keywords; "
            f"memodels.fit(\"{cmd} ...\", data) takes a whole command line.  Options that "
            "memodels cannot honour are refused with a message, never ignored.", 88),
    ]
    return "\n".join(parts).replace("\n\n\n", "\n\n").rstrip() + "\n"


def overview() -> str:
    """``memodels help`` alone: the commands and their titles."""
    lines = ["Estimation commands (memodels help COMMAND for the syntax):", ""]
    lines += [f"  {c:<12} {t}" for c, t in TITLES.items()]
    lines += ["", "Postestimation in a do-file or a session: estat, predict, margins, "
              "marginsplot,", "graph export, test, testparm, testnl, lincom, nlcom, lrtest, "
              "estimates, bootstrap."]
    return "\n".join(lines) + "\n"


__all__ = ["TITLES", "command_help", "overview"]
