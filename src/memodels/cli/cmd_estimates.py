"""``estimates``, ``lrtest`` and the replay of estimation results in a session
([R] estimates, [R] lrtest): stored results are the library's results objects."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import OptionError
from ..postestimation.lrtest import lrtest as lr_test
from ..postestimation.tables import fmt
from ..results.mixed import large_sample_view
from ..results.replay import REPLAY_OPTIONS, check_replay_options, display_copy
from ..syntax.options import OptionTable
from .common import SessionError, no_estimates
from .parsing import NAME_RX, arg, flag, optional_arg, parse_opts, split_options, to_int

if TYPE_CHECKING:
    from ..session import Session

# ----------------------------------------------------------------------- replay
def replay(session: Session, command: str, rest: str) -> str:
    """``mixed`` alone (or with display options: ``mixed, noci cformat(%9.2f)``) shows
    the last results again; the results' ``replay()`` makes the copy
    (:mod:`memodels.results.replay`; mestreg has its own)."""
    res = session.e
    # Stata's e(cmd) of melogit ... meoprobit is meglm (their e(cmd2) the command), so
    # meglm replays them too ([ME] meglm, Stored results)
    meglm_family = ("melogit", "meprobit", "mecloglog", "mepoisson", "menbreg",
                    "meologit", "meoprobit")
    if res is None or (res.command != command
                       and not (command == "meglm" and res.command in meglm_family)):
        raise no_estimates()
    opts = parse_opts(rest.strip().lstrip(","), REPLAY_OPTIONS, command)
    if hasattr(res, "st"):
        return res.replay(**opts).summary()
    return display_copy(res, check_replay_options(res, opts)).summary()


# -------------------------------------------------------------------- estimates
_SUBCOMMANDS = {"store": 3, "restore": 3, "replay": 1, "dir": 3, "drop": 4, "clear": 5,
                "stats": 4, "table": 3}


def stored(session: Session, name: str) -> Any:
    """A stored result by name; ``.`` is the active (last) results."""
    if name == ".":
        return session.require_e()
    if name not in session.estimates:
        raise SessionError(f"estimation result {name} not found", 111)
    return session.estimates[name]


def _names(session: Session, words: list[str], default: list[str]) -> list[str]:
    if not words:
        return default
    if words in (["_all"], ["*"]):
        if not session.estimates:
            raise SessionError("no stored estimation results", 111)
        return list(session.estimates)
    return words


def estimates(session: Session, rest: str) -> str:
    """``estimates store|restore|replay|dir|drop|clear|stats``."""
    body, options = split_options(rest)
    words = body.split()
    if not words:
        raise SessionError("estimates: subcommand required (store, restore, replay, dir, "
                           "drop, clear, stats, table)")
    sub = next((s for s, k in _SUBCOMMANDS.items()
                if s.startswith(words[0]) and len(words[0]) >= k), None)
    if sub is None:
        raise SessionError(f"estimates {words[0]}: subcommand not available (available: "
                           f"{', '.join(_SUBCOMMANDS)})", 199)
    args = words[1:]
    if sub == "stats":
        opts = parse_opts(options, OptionTable([arg("n", 1, to_int)]), "estimates stats")
        return _stats(session, _names(session, args, ["."]), opts.get("n"))
    if sub == "table":
        return _table(session, _names(session, args, ["."]), options)
    if options:
        raise OptionError(f"estimates {sub}: options not allowed")
    if sub == "store":
        if len(args) != 1 or not NAME_RX.match(args[0]):
            raise SessionError("estimates store: one valid name required")
        session.estimates[args[0]] = session.require_e()
        return ""
    if sub == "restore":
        if len(args) != 1:
            raise SessionError("estimates restore: one name required")
        session.e = stored(session, args[0])
        return f"(results {args[0]} are active now)"
    if sub == "replay":
        return _replay(session, _names(session, args, ["."]))
    if sub == "dir":
        return _dir(session, _names(session, args, list(session.estimates)))
    if sub == "drop":
        for nm in _names(session, args, []):
            stored(session, nm)
            session.estimates.pop(nm)
        return ""
    session.estimates.clear()  # clear
    return ""


def _replay(session: Session, names: list[str]) -> str:
    out = []
    for nm in names:
        res = stored(session, nm)
        label = "active results" if nm == "." else nm
        if (getattr(res, "extra", None) or {}).get("ddf"):  # as plain replay: large sample
            res = large_sample_view(res)
        out += ["-" * 78, f"Model {label}", "-" * 78, "", res.summary(), ""]
    return "\n".join(out).rstrip("\n")


_TABLE_OPTIONS = OptionTable([optional_arg("b", 1), optional_arg("se", 2),
                              optional_arg("p", 1), arg("stats", 2)])


def _table(session: Session, names: list[str], options: str) -> str:
    """``estimates table [names] [, b se p stats(N ll aic bic k chi2 p)]`` ([R] estimates
    table): :func:`memodels.output.compare.compare`; display formats (``b(%9.3f)``) are
    not implemented."""
    from ..output.compare import compare

    opts = parse_opts(options, _TABLE_OPTIONS, "estimates table")
    for key in ("b", "se", "p"):
        if key in opts and opts[key] is not True:
            raise OptionError(f"estimates table: option {key}({opts[key]}): display formats "
                              "are not implemented; use b, se, p")
    stats = str(opts.get("stats") or "").split()
    results = [stored(session, nm) for nm in names]
    labels = ["active" if nm == "." else nm for nm in names]
    return compare(*results, names=labels, se="se" in opts, p="p" in opts,
                   stats=stats).text()


def _dir(session: Session, names: list[str]) -> str:
    lines = ["-" * 70, f"{'name':>12} | {'command':<12} {'depvar':<12} {'npar':>5}  title",
             "-" * 13 + "+" + "-" * 56]
    for nm in names:
        res = stored(session, nm)
        lines.append(f"{nm[:12]:>12} | {res.command[:12]:<12} {res.depvar[:12]:<12} "
                     f"{int(res.n_params):>5}  {res.title}")
    lines.append("-" * 70)
    return "\n".join(lines)


def _stats(session: Session, names: list[str], n: int | None) -> str:
    """``estimates stats``: AIC and BIC of each model (the library's ``estat ic``)."""
    rows = []
    for nm in names:
        table = stored(session, nm).estat("ic", **({} if n is None else {"n": n}))
        rec = table.iloc[0]
        rows.append(
            f"{nm[:12]:>12} | {int(rec['N']):>10,} {'.':>9} {fmt(float(rec['ll_model']), 10)} "
            f"{int(rec['df']):>7} {fmt(float(rec['AIC']), 11)} {fmt(float(rec['BIC']), 10)}")
    return "\n".join([
        "Akaike's information criterion and Bayesian information criterion", "",
        "-" * 77,
        "       Model |        Obs  ll(null)  ll(model)      df         AIC        BIC",
        "-------------+---------------------------------------------------------------",
        *rows,
        "-" * 77,
        "               Note: N=Obs used in calculating BIC; see [R] BIC note."])


# ----------------------------------------------------------------------- lrtest
def lrtest(session: Session, rest: str) -> str:
    """``lrtest A B [, force]`` (``.`` is the active results; ``lrtest A`` = ``lrtest A .``)."""
    body, options = split_options(rest)
    opts = parse_opts(options, OptionTable([flag("force")]), "lrtest")
    names = body.split()
    if len(names) == 1:
        names.append(".")
    if len(names) != 2:
        raise SessionError("lrtest: give two models, e.g. lrtest randint .")
    a, b = (stored(session, nm) for nm in names)
    result = lr_test(a, b, names=(names[0], names[1]), force=bool(opts.get("force")))
    session.r = {"chi2": result.chi2, "df": float(result.df), "p": result.p}
    return str(result)


__all__ = ["estimates", "lrtest", "replay", "stored"]
