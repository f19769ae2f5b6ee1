"""Option parsing with Stata's abbreviation rules ([U] 11.1.7 options, [U] 11.2).

An :class:`OptionDef` gives an option's full name, the length of its shortest allowed
abbreviation (the underlined part in the manual's syntax tables) and whether it takes
an argument.  :class:`OptionTable` looks options up by any abbreviation from that
minimum to the full name, and :func:`parse_options` turns text such as
``cov(un) nocons reml level(90) residuals(ar 2, t(time))`` into a dict keyed by
canonical names: flags map to ``True``; options with an argument map to their
argument text, or to a parsed value when the definition has a ``convert`` function
(``level`` -> float, ``iterate`` -> int, ``covariance`` -> normalized structure, ...).

Tables provided (abbreviations follow the Stata 14 [ME] manual and help files where
known; otherwise a sensible minimum):

* :data:`MIXED_FE_OPTIONS`, :data:`MIXED_RE_OPTIONS`, :data:`MIXED_OPTIONS` — [ME] mixed
  (Syntax, fe_options / re_options / options tables, manual lines 14321-14386);
* :data:`ME_FE_OPTIONS`, :data:`ME_RE_OPTIONS`, :data:`ME_OPTIONS` — [ME] meglm and its
  thin wrappers melogit, meprobit, mecloglog, meologit, meoprobit, mepoisson, menbreg
  (manual lines 2462-2540);
* :data:`MEQR_RE_OPTIONS`, :data:`MEQR_OPTIONS` — meqrlogit / meqrpoisson
  (lines 9986-10030, 11598-11640);
* :data:`MESTREG_OPTIONS` — mestreg (lines 12693-12800).

:func:`command_tables` returns the (fe, re, global) tables for a command name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from memodels.errors import OptionError, StataSyntaxError
from memodels.syntax.formats import (  # noqa: F401  (re-exported)
    DISPLAY_OPTION_NAMES,
    FORMAT_OPTIONS,
    check_cformat,
    check_format,
    check_fvwrap,
    check_fvwrapon,
    check_pformat,
    check_sformat,
    check_wcorr_format,
)
from memodels.syntax.tokens import find_matching_paren

ArgKind = Literal["none", "required", "optional"]


@dataclass(frozen=True)
class OptionDef:
    """One option: full ``name``, minimum abbreviation length, argument kind.

    ``convert`` (optional) maps the argument text to a parsed value; ``negates``
    names a flag this option switches off (``nolog`` negates ``log``).
    """

    name: str
    min_abbrev: int = 0
    arg: ArgKind = "none"
    convert: Callable[[str], Any] | None = None
    negates: str | None = None

    def __post_init__(self) -> None:
        if self.min_abbrev <= 0 or self.min_abbrev > len(self.name):
            object.__setattr__(self, "min_abbrev", len(self.name))

    def matches(self, token: str) -> bool:
        return self.name.startswith(token) and len(token) >= self.min_abbrev


class OptionTable:
    """A set of option definitions with abbreviation lookup."""

    def __init__(self, defs: Iterable[OptionDef], name: str = "") -> None:
        self.name = name
        self.defs: dict[str, OptionDef] = {}
        for d in defs:
            self.defs[d.name] = d

    def __contains__(self, name: object) -> bool:
        return name in self.defs

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.defs.values())

    def __len__(self) -> int:
        return len(self.defs)

    def __or__(self, other: OptionTable) -> OptionTable:
        return OptionTable([*self.defs.values(), *other.defs.values()], self.name)

    def without(self, *names: str) -> OptionTable:
        return OptionTable([d for d in self.defs.values() if d.name not in names], self.name)

    def find(self, token: str) -> OptionDef | None:
        """The definition ``token`` abbreviates, or None.  Ambiguity is an error."""
        tok = token
        if tok in self.defs:
            return self.defs[tok]
        found = [d for d in self.defs.values() if d.matches(tok)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            names = ", ".join(d.name for d in found)
            raise OptionError(f"option {token} ambiguous: could be {names}")
        return None

    def lookup(self, token: str) -> OptionDef:
        """Like :meth:`find` but an unknown option raises :class:`OptionError`."""
        d = self.find(token)
        if d is None:
            raise OptionError(f"option {token} not allowed")
        return d


# ---------------------------------------------------------------- value normalizers
def abbrev_choice(value: str, choices: Mapping[str, int], what: str) -> str:
    """Resolve ``value`` against ``{full name: min abbreviation length}``."""
    v = value.strip().lower()
    if v in choices:
        return v
    found = [c for c, k in choices.items() if c.startswith(v) and len(v) >= k and v]
    if len(found) == 1:
        return found[0]
    raise OptionError(f"{what} {value.strip()!r} invalid")


_COV_TYPES = {"independent": 3, "exchangeable": 2, "identity": 2, "unstructured": 2}


def normalize_covariance(value: str) -> str:
    """Normalize a ``covariance()`` argument.

    ``ind``/``indep``... -> ``independent``, ``exc`` -> ``exchangeable``, ``id`` ->
    ``identity``, ``un``/``uns`` -> ``unstructured``; ``fixed(matname)`` and
    ``pattern(matname)`` are returned as ``"fixed(matname)"`` / ``"pattern(matname)"``.
    """
    v = value.strip()
    m = re.fullmatch(r"([A-Za-z]+)\s*\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)", v)
    if m:
        kind = abbrev_choice(m.group(1), {"fixed": 3, "pattern": 3}, "covariance")
        return f"{kind}({m.group(2)})"
    return abbrev_choice(v, _COV_TYPES, "covariance")


def split_covariance(value: str) -> tuple[str, str | None]:
    """``"fixed(f)"`` -> ``("fixed", "f")``; ``"unstructured"`` -> ``("unstructured", None)``."""
    norm = normalize_covariance(value)
    m = re.fullmatch(r"(fixed|pattern)\((\w+)\)", norm)
    if m:
        return m.group(1), m.group(2)
    return norm, None


def _to_float(text: str) -> float:
    try:
        return float(text.strip())
    except ValueError as exc:
        raise OptionError(f"invalid number {text.strip()!r}") from exc


def _to_int(text: str) -> int:
    v = _to_float(text)
    if not v.is_integer():
        raise OptionError(f"invalid integer {text.strip()!r}")
    return int(v)


def level_value(text: str) -> float:
    """The confidence level of ``level(#)``: a number between 10 and 99.99 ([R] level;
    Stata: "level() must be between 10 and 99.99")."""
    v = _to_float(text)
    if not 10 <= v <= 99.99:
        raise OptionError(f"level({text.strip()}) must be between 10 and 99.99")
    return v


def _intpoints(text: str) -> int | tuple[int, ...]:
    parts = text.replace(",", " ").split()
    if not parts:
        raise OptionError("intpoints() requires a number")
    vals = tuple(_to_int(p) for p in parts)
    return vals[0] if len(vals) == 1 else vals


_INTMETHODS = {"mvaghermite": 2, "mcaghermite": 2, "ghermite": 1, "laplace": 1, "pclikelihood": 2}


def normalize_intmethod(value: str) -> str:
    """``intm(lap)`` -> ``laplace``; ``mv`` -> ``mvaghermite``; ``mc`` -> ``mcaghermite``."""
    return abbrev_choice(value, _INTMETHODS, "intmethod")


_DISTS = {
    "exponential": 1,
    "loglogistic": 4,
    "llogistic": 2,
    "weibull": 1,
    "lognormal": 4,
    "lnormal": 2,
    "gamma": 1,
}
_DIST_SYNONYMS = {"llogistic": "loglogistic", "lnormal": "lognormal"}


def normalize_distribution(value: str) -> str:
    """mestreg ``distribution()``: synonyms ``llogistic``/``lnormal`` map to full names."""
    d = abbrev_choice(value, _DISTS, "distribution")
    return _DIST_SYNONYMS.get(d, d)


_FAMILIES = {
    "gaussian": 1,
    "bernoulli": 2,
    "binomial": 2,
    "gamma": 2,
    "nbinomial": 2,
    "ordinal": 1,
    "poisson": 1,
}


def normalize_family(value: str) -> str:
    """meglm ``family()``: the family name normalized, its arguments kept
    (``family(binomial 5)`` -> ``"binomial 5"``, ``family(nb mean)`` -> ``"nbinomial mean"``)."""
    parts = value.split()
    if not parts:
        raise OptionError("family() requires a family name")
    head = abbrev_choice(parts[0], _FAMILIES, "family")
    rest = parts[1:]
    if head == "nbinomial" and rest:
        rest = [abbrev_choice(rest[0], {"mean": 1, "constant": 1}, "nbinomial dispersion")]
    return " ".join([head, *rest])


_LINKS = {"identity": 2, "log": 3, "logit": 4, "probit": 1, "cloglog": 1}


def normalize_link(value: str) -> str:
    """meglm ``link()``: ``logit``, ``probit``, ``cloglog``, ``log``, ``identity``."""
    return abbrev_choice(value, _LINKS, "link")


_DFMETHODS = {"residual": 3, "repeated": 3, "anova": 5, "satterthwaite": 3, "kroger": 2}


def normalize_dfmethod(value: str) -> str:
    """``dfmethod(kr)`` -> ``kroger``; ``dfm(sat, oim)`` -> ``"satterthwaite, oim"``."""
    head, _, opts = value.partition(",")
    method = abbrev_choice(head.replace("ö", "o"), _DFMETHODS, "dfmethod")
    opt = opts.strip().lower()
    if opt:
        if opt not in ("eim", "oim"):
            raise OptionError(f"dfmethod option {opts.strip()!r} invalid")
        if method not in ("satterthwaite", "kroger"):
            raise OptionError(f"dfmethod({method}) takes no options")
        return f"{method}, {opt}"
    return method


def normalize_dispersion(value: str) -> str:
    """menbreg ``dispersion(mean|constant)``."""
    return abbrev_choice(value, {"mean": 1, "constant": 1}, "dispersion")


def normalize_vce(value: str) -> str:
    """``vce(r)`` -> ``robust``; ``vce(cl id)`` -> ``"cluster id"``; ``oim``."""
    parts = value.split()
    if not parts:
        raise OptionError("vce() requires a vcetype")
    head = abbrev_choice(parts[0], {"oim": 3, "robust": 1, "cluster": 2}, "vcetype")
    if head == "cluster":
        if len(parts) != 2:
            raise OptionError("vce(cluster clustvar) requires one variable")
        return f"cluster {parts[1]}"
    if len(parts) != 1:
        raise OptionError(f"vce({value.strip()}) invalid")
    return head


def normalize_pwscale(value: str) -> str:
    """``pwscale(size|effective|gk)``."""
    return abbrev_choice(value, {"size": 1, "effective": 1, "gk": 1}, "pwscale")


def normalize_dftable(value: str) -> str:
    """``dftable(default|ci|pvalue)``."""
    return abbrev_choice(value, {"default": 1, "ci": 1, "pvalue": 1}, "dftable")


# ---------------------------------------------------------------- option text parsing
_NAME_RX = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def iter_option_items(text: str) -> list[tuple[str, str | None]]:
    """Split option text into ``(name, argument text or None)`` pairs.

    Parentheses are balanced (nested commas allowed); a name may be separated from its
    ``(`` by spaces; top-level commas are treated as separators.  Raises
    :class:`StataSyntaxError` on unbalanced parentheses.
    """
    items: list[tuple[str, str | None]] = []
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c.isspace() or c == ",":
            # a second comma (``|| class:, nocons , reml``) just separates options
            i += 1
            continue
        m = _NAME_RX.match(text, i)
        if not m:
            if c == ")":
                raise StataSyntaxError(f"unbalanced parentheses in options {text.strip()!r}")
            raise OptionError(f"invalid option text {text[i:].strip()!r}")
        name = m.group(0)
        j = m.end()
        k = j
        while k < n and text[k].isspace():
            k += 1
        if k < n and text[k] == "(":
            close = find_matching_paren(text, k)
            items.append((name, text[k + 1 : close].strip()))
            i = close + 1
        else:
            items.append((name, None))
            i = j
    return items


def apply_def(d: OptionDef, arg: str | None, given: str) -> tuple[str, Any]:
    """Check an option's argument against its definition; return (canonical, value)."""
    if d.arg == "none" and arg is not None:
        raise OptionError(f"option {given}() does not take an argument")
    if d.arg == "required" and (arg is None or arg == ""):
        raise OptionError(f"option {given}() requires an argument")
    if arg is None:
        return d.name, True
    value: Any = arg
    if d.convert is not None:
        try:
            value = d.convert(arg)
        except OptionError as exc:
            raise OptionError(f"option {d.name}(): {exc}") from exc
    return d.name, value


def parse_options(text: str, table: OptionTable) -> dict[str, Any]:
    """Parse option text against ``table`` into ``{canonical name: value}``.

    >>> parse_options("cov(un) nocons", MIXED_RE_OPTIONS)
    {'covariance': 'unstructured', 'noconstant': True}
    """
    out: dict[str, Any] = {}
    for name, arg in iter_option_items(text):
        d = table.lookup(name)
        key, value = apply_def(d, arg, name)
        set_option(out, d, key, value, exclusive=True)
    return out


# mutually exclusive choices: Stata refuses them together ("options reml and mle may
# not be combined", r(198)) rather than letting one win
_EXCLUSIVE = {("mle", "reml"), ("variance", "stddeviations"), ("matsqrt", "matlog")}


def set_option(out: dict[str, Any], d: OptionDef, key: str, value: Any,
               exclusive: bool = False) -> None:
    """Store an option: the later of ``log``/``nolog`` wins; with ``exclusive`` (one
    command line), exclusive choices (``reml``/``mle``, ``variance``/``stddeviations``,
    ``matsqrt``/``matlog``) are refused together (a Python keyword overrides the command
    line's choice instead)."""
    if d.negates is not None:
        out.pop(d.negates, None)
    for other in list(out):
        if other != key and _negation_pair(other, key):
            if exclusive and ((other, key) in _EXCLUSIVE or (key, other) in _EXCLUSIVE):
                raise OptionError(f"options {other} and {key} may not be combined")
            out.pop(other)
    out[key] = value


_PAIRS = {("log", "nolog"), ("variance", "stddeviations"), ("mle", "reml"), ("matsqrt", "matlog")}


def _negation_pair(a: str, b: str) -> bool:
    return (a, b) in _PAIRS or (b, a) in _PAIRS


def normalize_keywords(kwargs: Mapping[str, Any], table: OptionTable) -> dict[str, Any]:
    """Map Python keyword options onto the canonical option dict.

    Keys may be full names or abbreviations (``cov``, ``stddev``, ``nocons``); flag
    options take ``True`` (``False`` drops them, or sets the negating flag when the
    table has one, e.g. ``log=False`` -> ``nolog``); options with arguments take
    strings or numbers, converted like option text (``level=90`` -> ``90.0``,
    ``covariance="un"`` -> ``"unstructured"``).  ``None`` values are ignored.
    """
    out: dict[str, Any] = {}
    for key, value in kwargs.items():
        if value is None:
            continue
        d = table.lookup(key)
        if d.arg == "none":
            if not isinstance(value, (bool, int)) or isinstance(value, float):
                raise OptionError(f"option {key} is a flag; pass True or False")
            if value:
                set_option(out, d, d.name, True)
            else:
                neg = table.find("no" + d.name)
                if neg is not None and neg.arg == "none":
                    set_option(out, neg, neg.name, True)
                elif d.name.startswith("no") and table.find(d.name[2:]) is not None:
                    pos = table.lookup(d.name[2:])
                    set_option(out, pos, pos.name, True)
                out.pop(d.name, None)
            continue
        if value is True and d.arg == "optional":
            set_option(out, d, d.name, True)
            continue
        if isinstance(value, bool):
            if not value:
                out.pop(d.name, None)
                continue
            raise OptionError(f"option {key}() requires an argument")
        if isinstance(value, (list, tuple)):
            text = " ".join(str(v) for v in value)
        else:
            text = str(value)
        k, v = apply_def(d, text, key)
        set_option(out, d, k, v)
    return out


# ---------------------------------------------------------------- tables
def _flag(name: str, k: int = 0, negates: str | None = None) -> OptionDef:
    return OptionDef(name, k, "none", negates=negates)


def option_arg(name: str, k: int = 0, convert: Callable[[str], Any] | None = None) -> OptionDef:
    """An option table entry whose argument is required: ``name`` abbreviable to ``k``
    letters, the argument passed through ``convert`` ([U] 11.1.8 option syntax)."""
    return OptionDef(name, k, "required", convert)


def _opt(name: str, k: int = 0) -> OptionDef:
    return OptionDef(name, k, "optional")


# maximize_options ([R] maximize)
MAXIMIZE_OPTIONS = OptionTable(
    [
        _flag("difficult", 3),
        option_arg("technique", 4),
        option_arg("iterate", 4, _to_int),
        _flag("log", 2, negates="nolog"),
        _flag("nolog", 4, negates="log"),
        _flag("trace", 5),
        _flag("gradient", 4),
        _flag("showstep", 8),
        _flag("hessian", 4),
        _flag("showtolerance", 7),
        option_arg("tolerance", 3, _to_float),
        option_arg("ltolerance", 4, _to_float),
        option_arg("nrtolerance", 5, _to_float),
        _flag("nonrtolerance", 7),
        option_arg("from", 4),
    ],
    "maximize",
)

# display_options ([R] estimation options)
DISPLAY_OPTIONS = OptionTable(
    [
        _flag("noci"),
        _flag("nopvalues", 4),
        _flag("noomitted", 6),
        _flag("vsquish"),
        _flag("noemptycells", 7),
        _flag("baselevels", 4),
        _flag("allbaselevels", 7),
        _flag("nofvlabel"),
        option_arg("fvwrap", 0, check_fvwrap),
        option_arg("fvwrapon", 0, check_fvwrapon),
        option_arg("cformat", 0, check_cformat),
        option_arg("pformat", 0, check_pformat),
        option_arg("sformat", 0, check_sformat),
        _flag("nolstretch"),
        _flag("coeflegend", 5),
    ],
    "display",
)

MIXED_FE_OPTIONS = OptionTable([_flag("noconstant", 3)], "mixed fe_options")

MIXED_RE_OPTIONS = OptionTable(
    [
        option_arg("covariance", 3, normalize_covariance),
        _flag("noconstant", 3),
        _flag("collinear", 3),
        option_arg("fweight"),
        option_arg("pweight"),
    ],
    "mixed re_options",
)

MIXED_OPTIONS = (
    OptionTable(
        [
            _flag("mle", 0),
            _flag("reml"),
            option_arg("dfmethod", 3, normalize_dfmethod),
            option_arg("pwscale", 3, normalize_pwscale),
            option_arg("residuals", 3),
            option_arg("vce", 3, normalize_vce),
            option_arg("level", 1, level_value),
            _flag("variance", 3),
            _flag("stddeviations", 6),
            option_arg("dftable", 3, normalize_dftable),
            _flag("noretable", 5),
            _flag("norettable", 6),
            _flag("nofetable", 5),
            _flag("estmetric", 4),
            _flag("noheader", 3),
            _flag("nogroup", 4),
            _flag("nostderr"),
            _flag("nolrtest", 4),
            option_arg("emiterate", 4, _to_int),
            option_arg("emtolerance", 5, _to_float),
            _flag("emonly"),
            _flag("emlog"),
            _flag("emdots"),
            _flag("matsqrt"),
            _flag("matlog"),
            # small: "available only upon replay" ([ME] mixed, L14583): REPLAY_OPTIONS
            # a fe_option, accepted after the last comma too
            _flag("noconstant", 3),
        ],
        "mixed options",
    )
    | MAXIMIZE_OPTIONS
    | DISPLAY_OPTIONS
)

ME_FE_OPTIONS = OptionTable(
    [
        _flag("noconstant", 3),
        option_arg("exposure", 3),
        option_arg("offset", 3),
        _flag("asis"),
        option_arg("binomial", 3),
    ],
    "me fe_options",
)

ME_RE_OPTIONS = OptionTable(
    [
        option_arg("covariance", 3, normalize_covariance),
        _flag("noconstant", 3),
        option_arg("fweight"),
        option_arg("iweight"),
        option_arg("pweight"),
    ],
    "me re_options",
)

ME_OPTIONS = (
    OptionTable(
        [
            option_arg("family", 1, normalize_family),
            option_arg("link", 2, normalize_link),
            option_arg("constraints", 1),
            _flag("collinear", 3),
            option_arg("vce", 3, normalize_vce),
            option_arg("level", 1, level_value),
            _flag("eform", 2),
            _flag("irr"),
            _flag("or"),
            _flag("nocnsreport", 6),
            _flag("notable"),
            _flag("noheader", 3),
            _flag("nogroup", 4),
            _flag("nolrtest", 4),
            option_arg("intmethod", 4, normalize_intmethod),
            option_arg("intpoints", 4, _intpoints),
            _flag("laplace", 3),
            option_arg("startvalues", 6),
            _opt("startgrid", 6),
            _flag("noestimate", 5),
            _flag("dnumerical", 4),
            option_arg("dispersion", 4, normalize_dispersion),
        ],
        "me options",
    )
    | ME_FE_OPTIONS
    | MAXIMIZE_OPTIONS
    | DISPLAY_OPTIONS
)

MEQR_RE_OPTIONS = OptionTable(
    [
        option_arg("covariance", 3, normalize_covariance),
        _flag("noconstant", 3),
        _flag("collinear", 3),
    ],
    "meqr re_options",
)

MEQR_OPTIONS = (
    OptionTable(
        [
            option_arg("binomial", 3),
            option_arg("exposure", 3),
            option_arg("offset", 3),
            _flag("noconstant", 3),
            option_arg("level", 1, level_value),
            _flag("irr"),
            _flag("or"),
            _flag("variance", 3),
            _flag("stddeviations", 6),
            _flag("noretable", 5),
            _flag("norettable", 6),
            _flag("nofetable", 4),
            _flag("estmetric", 3),
            _flag("noheader", 3),
            _flag("nogroup", 4),
            _flag("nolrtest", 4),
            option_arg("intpoints", 3, _intpoints),
            _flag("laplace", 3),
            option_arg("retolerance", 5, _to_float),
            option_arg("reiterate", 6, _to_int),
            _flag("matsqrt"),
            _flag("matlog"),
            option_arg("refineopts", 6),
            option_arg("vce", 3, normalize_vce),
        ],
        "meqr options",
    )
    | MAXIMIZE_OPTIONS
    | DISPLAY_OPTIONS
)

MESTREG_OPTIONS = ME_OPTIONS.without("family", "link", "binomial", "exposure", "dispersion") | (
    OptionTable(
        [
            option_arg("distribution", 1, normalize_distribution),
            _flag("time", 1),
            _flag("nohr"),
            _flag("tratio", 2),
            _flag("noshow", 4),
        ],
        "mestreg options",
    )
)
MESTREG_OPTIONS.name = "mestreg options"

ME_COMMANDS = (
    "meglm",
    "melogit",
    "meprobit",
    "mecloglog",
    "meologit",
    "meoprobit",
    "mepoisson",
    "menbreg",
    "mestreg",
)
MEQR_COMMANDS = ("meqrlogit", "meqrpoisson")
COMMANDS = ("mixed", *ME_COMMANDS, *MEQR_COMMANDS)


def command_tables(command: str) -> tuple[OptionTable, OptionTable, OptionTable]:
    """The (fe_options, re_options, global options) tables for ``command``."""
    if command == "mixed":
        return MIXED_FE_OPTIONS, MIXED_RE_OPTIONS, MIXED_OPTIONS
    if command in MEQR_COMMANDS:
        return MIXED_FE_OPTIONS | ME_FE_OPTIONS.without("asis"), MEQR_RE_OPTIONS, MEQR_OPTIONS
    if command == "mestreg":
        fe = OptionTable([_flag("noconstant", 3), option_arg("offset", 3)], "mestreg fe_options")
        return fe, ME_RE_OPTIONS, MESTREG_OPTIONS
    if command in ME_COMMANDS:
        return ME_FE_OPTIONS, ME_RE_OPTIONS, ME_OPTIONS
    raise StataSyntaxError(f"command {command} is unrecognized")


def keyword_table(global_table, fe_table, re_table):
    """The options Python keywords may give: global, fixed-equation, and the re_options
    that make sense for every equation (a keyword covariance= fills each equation)."""
    return global_table | fe_table | re_table.without("noconstant", "fweight", "pweight",
                                                       "iweight")


# kept for an importer in a busy area (results/replay.py); use the public name
_level = level_value
