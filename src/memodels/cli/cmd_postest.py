"""``estat``, ``test``, ``testparm``, ``testnl``, ``lincom`` and ``nlcom`` in a session: Stata's
syntax mapped to the results' methods ([ME] mixed postestimation, [R] test, [R] lincom,
[R] nlcom, [R] testnl)."""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import OptionError
from ..syntax.options import OptionTable, normalize_dfmethod
from ..syntax.tokens import find_matching_paren
from .common import SessionError
from .parsing import (
    LEVEL,
    arg,
    flag,
    optional_arg,
    parse_assignments,
    parse_opts,
    split_options,
    to_int,
    typed_values,
)

if TYPE_CHECKING:
    from ..session import Session

# estat subcommand -> (shortest abbreviation, its options)
ESTAT: dict[str, tuple[int, OptionTable]] = {
    "group": (2, OptionTable([])),
    "icc": (3, OptionTable([LEVEL])),
    "sd": (2, OptionTable([LEVEL])),
    "recovariance": (5, OptionTable([arg("relevel", 3), flag("correlation", 4),
                                     arg("format", 3)])),
    "wcorrelation": (4, OptionTable([arg("at"), flag("all"), flag("covariance", 3),
                                     flag("list"), flag("nosort"), arg("format", 3)])),
    "ic": (2, OptionTable([arg("n", 1, to_int)])),
    "bootstrap": (4, OptionTable([flag("normal", 1), flag("percentile", 1), flag("bc"),
                                  flag("all")])),
    "df": (2, OptionTable([arg("method", 3, lambda t: " ".join(
        normalize_dfmethod(w) for w in t.split())), flag("post")])),
    "quadchk": (7, OptionTable([arg("intpoints", 3), flag("nooutput", 5)])),
}


def estat(session: Session, rest: str) -> str:
    """``estat icc``, ``estat df, method(kroger satterthwaite) post``,
    ``estat wcorrelation, at(id=258)``, ``estat recovariance, relevel(id)``..."""
    res = session.require_e()
    body, options = split_options(rest)
    words = body.split()
    if len(words) > 1 and len(words[0]) >= 3 and "summarize".startswith(words[0].lower()):
        from .cmd_estat_more import estat_summarize

        return estat_summarize(session, " ".join(words[1:]) + (f", {options}" if options
                                                                else ""))
    if len(words) != 1:
        raise SessionError("estat: one subcommand required (group, icc, sd, recovariance, "
                           "wcorrelation, ic, df, quadchk)")
    word = words[0].lower()
    if word == "vce":
        from .cmd_estat_more import estat_vce

        return estat_vce(session, options)
    if len(word) >= 3 and "summarize".startswith(word):
        from .cmd_estat_more import estat_summarize

        return estat_summarize(session, options and f", {options}" or "")
    sub = next((s for s, (k, _) in ESTAT.items() if s.startswith(word) and len(word) >= k),
               None)
    if sub is None:  # the library names what is available
        return str(res.estat(word))
    opts: dict[str, Any] = parse_opts(options, ESTAT[sub][1], f"estat {sub}")
    if sub == "wcorrelation" and "at" in opts:
        data = session.require_data()
        values = typed_values(parse_assignments(opts["at"], list(data.columns), "at"), data)
        if any(len(v) != 1 for v in values.values()):
            raise OptionError("estat wcorrelation, at(): give one value per variable")
        opts["at"] = {k: v[0] for k, v in values.items()}
        opts["data"] = data
    elif sub == "wcorrelation" and session.data is not None:
        opts["data"] = session.data  # names the cluster: "for id = 1"
    elif sub == "quadchk" and session.data is not None:
        opts["data"] = session.data  # the refits use the data in memory
    out = res.estat(sub, **opts)
    session.r = dict(getattr(out, "r", None) or {})  # an r-class command replaces r()
    if sub == "df":
        return df_table(out)
    return str(out)


def df_table(table: pd.DataFrame) -> str:
    """``estat df``'s table: the degrees of freedom of each fixed effect per method."""
    cols = [str(c) for c in table.columns]
    width = max(14, *(len(c) + 2 for c in cols))
    rule = "-" * (13 + 1 + width * len(cols))
    lines = ["Degrees of freedom", "", rule,
             f"{'':>12} |" + "".join(f"{c:>{width}}" for c in cols),
             "-" * 13 + "+" + "-" * (width * len(cols))]
    for name, row in table.iterrows():
        cells = "".join(f"{v:>{width}.2f}" if np.isfinite(v) else f"{'.':>{width}}"
                        for v in row.to_numpy(float))
        lines.append(f"{str(name)[-12:]:>12} |" + cells)
    lines.append(rule)
    return "\n".join(lines)


# ------------------------------------------------------------------ test
def _groups(body: str) -> list[str]:
    """``(a = b) (c = 0)`` -> ``["a = b", "c = 0"]``."""
    out: list[str] = []
    i = 0
    text = body.strip()
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        if text[i] != "(":
            raise SessionError(f"test: expected (exp = exp) but found {text[i:]!r}")
        j = find_matching_paren(text, i)
        out.append(text[i + 1 : j].strip())
        i = j + 1
    return out


def _record_test(session: Session, result: Any) -> None:
    session.r = {"chi2": result.chi2, "df": float(result.df), "p": result.p}
    if result.F is not None:
        session.r.update(F=result.F, df_r=result.ddf)


# the last test's constraints per session, for ``test ..., accumulate`` ([R] test)
_LAST_TEST: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()

TEST_OPTIONS = OptionTable([flag("small"), optional_arg("mtest", 2), flag("accumulate", 3),
                            flag("notest", 4)])


def test(session: Session, rest: str) -> str:
    """``test week = 0``, ``test a = b = 0, small``, ``test (a = b) (c = 0)``,
    ``test x1 x2`` (each coefficient 0), ``test [eq]``; options ``mtest[(bonferroni|holm|
    sidak|noadjust)]``, ``accumulate`` and ``notest``."""
    res = session.require_e()
    body, options = split_options(rest)
    opts = parse_opts(options, TEST_OPTIONS, "test")
    if not body:
        raise SessionError("test: a hypothesis is required, e.g. test week = 0")
    hypothesis: str | list[str] = _groups(body) if body.lstrip().startswith("(") else body
    previous = None
    if opts.get("accumulate"):
        previous = _LAST_TEST.get(session)
        if previous is None or previous[0] is not res:
            raise SessionError("test: accumulate requires a previous test after the "
                               "current estimates")
        previous = previous[1]
    mtest = opts.get("mtest")
    result = res.test(hypothesis, small=bool(opts.get("small")), accumulate=previous,
                      mtest=(True if mtest in (None, "", True) else mtest)
                      if "mtest" in opts else None)
    _LAST_TEST[session] = (res, result)
    _record_test(session, result)
    return "" if opts.get("notest") else str(result)


def testnl(session: Session, rest: str) -> str:
    """``testnl exp1 = exp2`` or ``testnl (exp1 = exp2) (exp3 = exp4) ...`` ([R] testnl)."""
    res = session.require_e()
    body, options = split_options(rest)
    parse_opts(options, OptionTable([]), "testnl")
    if not body:
        raise SessionError("testnl: a constraint exp = exp is required")
    grouped = body.lstrip().startswith("(") and _is_grouped(body)
    result = res.testnl(_groups(body) if grouped else body)
    _record_test(session, result)
    return str(result)


def testparm(session: Session, rest: str) -> str:
    """``testparm i.drug week [, small equal]``."""
    res = session.require_e()
    body, options = split_options(rest)
    opts = parse_opts(options, OptionTable([flag("small"), flag("equal")]), "testparm")
    if not body:
        raise SessionError("testparm: varlist required")
    result = res.testparm(body, small=bool(opts.get("small")), equal=bool(opts.get("equal")))
    _record_test(session, result)
    return str(result)


# ------------------------------------------------------------------ lincom, nlcom
def _record_combination(session: Session, result: Any) -> None:
    session.r = {"estimate": result.estimate, "se": result.se, "p": result.p}
    if result.df is not None:
        session.r["df"] = float(result.df)


def lincom(session: Session, rest: str) -> str:
    """``lincom week + _cons [, small level(90) eform|or|irr|hr|rrr]``."""
    res = session.require_e()
    body, options = split_options(rest)
    opts = parse_opts(options, OptionTable([LEVEL, flag("small"), flag("eform"), flag("or"),
                                            flag("irr"), flag("hr"), flag("rrr")]), "lincom")
    if not body:
        raise SessionError("lincom: an expression is required")
    forms = [f for f in ("eform", "or", "irr", "hr", "rrr") if opts.get(f)]
    if len(forms) > 1:
        raise OptionError(f"lincom: options {' and '.join(forms)} may not be combined")
    result = res.lincom(body, level=opts.get("level"), small=bool(opts.get("small")),
                        eform=forms[0] if forms else None)
    _record_combination(session, result)
    return str(result)


def _named(piece: str) -> tuple[str | None, str]:
    name, sep, expr = piece.partition(":")
    if sep and name.strip().isidentifier():
        return name.strip(), expr.strip()
    return None, piece.strip()


def nlcom(session: Session, rest: str) -> str:
    """``nlcom [name:] exp [, level(#)]`` or ``nlcom (n1: exp1) (n2: exp2)``."""
    res = session.require_e()
    body, options = split_options(rest)
    opts = parse_opts(options, OptionTable([LEVEL]), "nlcom")
    if not body:
        raise SessionError("nlcom: an expression is required")
    pieces = _groups(body) if body.startswith("(") and _is_grouped(body) else [body]
    heads: list[str] = []
    rows: list[str] = []
    lines: list[str] = []
    for k, piece in enumerate(pieces):
        name, expr = _named(piece)
        result = res.nlcom(expr, level=opts.get("level"))
        label = (name or f"_nl_{k + 1}")[:12]  # Stata labels every unnamed expression
        # Combination's text: title, blank, rule, header, separator, the row, rule
        lines = str(result).split("\n")
        heads.append(f"{label:>12}:  {result.expression}")
        rows.append(lines[5].replace(f"{'(1)':>12} |", f"{label:>12} |", 1))
        _record_combination(session, result)
    # one table for all expressions, as Stata prints it ([R] nlcom)
    return "\n".join([*heads, "", *lines[2:5], *rows, lines[6]])


def _is_grouped(body: str) -> bool:
    """True when the whole argument is one or more parenthesized groups."""
    try:
        return bool(_groups(body))
    except SessionError:
        return False


__all__ = ["ESTAT", "df_table", "estat", "lincom", "nlcom", "test", "testnl", "testparm"]
