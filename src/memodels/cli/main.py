"""The ``memodels`` console command.

    memodels fit DATAFILE "mixed weight week || id:"       run a command on a data file
    memodels fit DATAFILE "cmd1" "cmd2" ...                 run several commands in turn
    memodels run DATAFILE SCRIPT.do                         run a Stata-style do-file
    memodels run SCRIPT.do                                  (the script loads data: use, webuse)
    memodels example pig                                    run a manual example on shipped data
    memodels example --list                                 list the examples
    memodels datasets [NAME] [--save FILE]                  describe or save a shipped dataset
    memodels help [COMMAND]                                 a command's syntax and options

Commands run in one session (:mod:`memodels.session`): estimation commands (mixed, meglm,
melogit, ..., mestreg, meqrlogit), their replay, estimates store/restore/stats, lrtest,
hausman, estat (vce and summarize too), test, testparm, testnl, lincom, nlcom, predict,
predictnl, margins, marginsplot, graph export, contrast, pwcompare, use, webuse, stset,
xtset, tsset, svyset, list, summarize, tabulate, sort, generate, replace, drop, keep,
display, scalar, matrix, mkmat, constraint, local, global, set seed; prefixes quietly,
capture, noisily, by/bysort, bootstrap, jackknife, statsby, svy. A do-file holds one
command per line: ``*`` and ``//`` start comments, ``/* */`` is a comment, ``///``
continues a command on the next line (or ``#delimit ;`` ends commands at ``;``),
``foreach``/``forvalues``/``while``/``if``/``else`` open blocks in braces, ``exit`` ends
the script. Each command is echoed as ``. command`` followed by its output, as in Stata's
log. Data files: .csv, .dta (value labels kept) or .parquet; SCRIPT ``-`` reads standard
input. The first failing command stops the run (exit status 2), as a do-file stops; prefix
a command with ``capture`` to go on regardless. Every error is one line on standard error
naming the script line and Stata's return code; an internal error (a bug) is reported the
same way (set ``MEMODELS_DEBUG=1`` to see its Python traceback).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import traceback
from pathlib import Path

from .._version import __version__
from ..errors import MemodelsError

EXAMPLES = {
    "pig": ("pig", "mixed weight week || id:"),
    "pig-slope": ("pig", "mixed weight week || id: week, covariance(unstructured)"),
    "pig-reml": ("pig", "mixed weight week || id: week, reml"),
    "productivity": (
        "productivity",
        "mixed gsp private emp hwy water other unemp || region: || state:",
    ),
}


def _run(data, script: str, where: str, client=None) -> int:
    """Run a script in a new session, the log on standard output; 2 on error.  ``client``
    (``--dask``/``--scheduler``): the session's Dask client (the bootstrap prefix)."""
    from ..session import ScriptError, Session

    try:
        session = Session(data)
        session.dask_client = client
        session.run_script(script, out=sys.stdout)
    except ScriptError as exc:
        sys.stdout.flush()
        place = f"{where} {exc.lineno}" if where else f"line {exc.lineno}"
        print(f"memodels: {place} ({exc.command}): {exc} r({exc.rc});", file=sys.stderr)
        if os.environ.get("MEMODELS_DEBUG") and exc.__cause__ is not None:
            traceback.print_exception(exc.__cause__, file=sys.stderr)
        return 2
    return 0


def _read_script(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    p = Path(path)
    if not p.is_file():
        raise MemodelsError(f"script '{p}' not found")
    return p.read_text(encoding="utf-8", errors="replace")


def _datasets(name: str | None, save: str | None) -> int:
    """``memodels datasets [NAME] [--save FILE]``."""
    from ..datasets import describe, load
    from ..io import write_data

    if save is None:
        print(describe(name))
        return 0
    if name is None:
        raise MemodelsError("datasets --save needs a dataset name: memodels datasets pig "
                            "--save pig.csv")
    write_data(load(name), save)
    print(f"{name}: written to {save}")
    return 0


def _help(topic: str | None) -> int:
    """``memodels help [COMMAND]``."""
    from ..syntax.parse import COMMAND_ALIASES
    from .help_text import TITLES, command_help, overview

    if topic is None:
        print(overview(), end="")
        return 0
    name = COMMAND_ALIASES.get(topic, topic)
    if name not in TITLES:
        raise MemodelsError(f"help for {topic} not found (memodels help lists the commands)")
    print(command_help(name), end="")
    return 0


def plain_text(doc: str) -> str:
    """A docstring without reStructuredText markup (``x`` -> x, :mod:`x` -> x)."""
    text = re.sub(r":[a-z]+:`~?([^`]+)`", r"\1", doc)
    return text.replace("``", "")


def _parser() -> argparse.ArgumentParser:
    doc = plain_text(__doc__ or "")
    parser = argparse.ArgumentParser(
        prog="memodels", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="memodels: Stata's multilevel mixed-effects commands ([ME] manual) in "
                    "Python.\n" + doc.split("\n", 1)[1],
        epilog="memodels help COMMAND prints a command's syntax and options (memodels help "
               "lists the commands).\nThe documentation site is built from docs/ in the "
               "repository (mkdocs build).")
    parser.add_argument("--version", action="version", version=f"memodels {__version__}")
    sub = parser.add_subparsers(dest="action", required=True)
    p_fit = sub.add_parser("fit", help="run Stata commands on a data file")
    p_fit.add_argument("datafile", help="a .csv, .dta or .parquet file")
    p_fit.add_argument("command", nargs="+",
                       help='Stata command lines, e.g. "mixed y x || g:" "estat icc"')
    p_run = sub.add_parser("run", help="run a Stata-style do-file (optionally on a data file)",
                           usage="memodels run [-h] [DATAFILE] SCRIPT")
    p_run.add_argument("files", nargs="+", metavar="FILE",
                       help="[DATAFILE] SCRIPT: the data file (optional; else the script "
                            "loads its data with use or webuse) and the do-file ('-': "
                            "standard input)")
    for p in (p_fit, p_run):  # the Dask engine (memodels[dask]; docs/dask.md)
        p.add_argument("--scheduler", metavar="ADDRESS",
                       help="fit on the Dask cluster at ADDRESS (tcp://host:8786); the data "
                            "file is Parquet (a file, folder or glob) read on the workers")
        p.add_argument("--dask", choices=["local"],
                       help="--dask local: fit on a new Dask LocalCluster (Parquet data)")
    p_ex = sub.add_parser("example", help="run a manual example on a shipped dataset")
    p_ex.add_argument("name", nargs="?", default="pig", help=f"one of {', '.join(EXAMPLES)}")
    p_ex.add_argument("--list", action="store_true", help="list the examples")
    p_ds = sub.add_parser("datasets", help="list, describe or save the shipped datasets")
    p_ds.add_argument("name", nargs="?", help="a dataset (default: describe them all)")
    p_help = sub.add_parser("help", help="a command's syntax and options (Stata's help)")
    p_help.add_argument("topic", nargs="?", help="an estimation command, e.g. mixed")
    p_ds.add_argument("--save", metavar="FILE",
                      help="write the dataset to FILE (.csv, .dta with its value labels, or "
                           ".parquet)")
    return parser


def _load(args, path: str):
    """The data: in memory, or (``--dask``/``--scheduler``) a Dask DataFrame over Parquet
    with a client connected for the run."""
    if getattr(args, "scheduler", None) or getattr(args, "dask", None):
        from ..distributed.cli import open_cluster, read_parquet

        data = read_parquet(path)  # checked before any cluster is started
        args.client = open_cluster(args.scheduler, args.dask == "local")
        return data
    from ..io import load_data_file

    return load_data_file(path)


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return _main(parser, args)
    finally:
        client = getattr(args, "client", None)
        if client is not None:
            cluster = client.cluster
            client.close()
            if cluster is not None and args.dask == "local":
                cluster.close()


def _main(parser, args) -> int:
    try:
        if args.action == "fit":
            data = _load(args, args.datafile)
            return _run(data, "\n".join(args.command), "command", getattr(args, "client", None))
        if args.action == "run":
            if len(args.files) > 2:
                parser.error("run takes at most two files: [DATAFILE] SCRIPT")
            data = _load(args, args.files[0]) if len(args.files) == 2 else None
            script = args.files[-1]
            return _run(data, _read_script(script), f"{script}, line",
                        getattr(args, "client", None))
        if args.action == "datasets":
            return _datasets(args.name, args.save)
        if args.action == "help":
            return _help(args.topic)
        if args.list:
            for key, (ds, cmd) in EXAMPLES.items():
                print(f"{key:<14} {ds:<14} {cmd}")
            return 0
        if args.name not in EXAMPLES:
            parser.error(f"unknown example '{args.name}'; choose from {', '.join(EXAMPLES)}")
        from ..datasets import load

        ds, cmd = EXAMPLES[args.name]
        return _run(load(ds), cmd, "command")
    except MemodelsError as exc:
        print(f"memodels: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into head, less...: stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except Exception as exc:  # noqa: BLE001 - a bug: one error line, not a traceback
        from .common import as_session_error

        err = as_session_error(exc)
        print(f"memodels: {err} r({err.rc});", file=sys.stderr)
        if os.environ.get("MEMODELS_DEBUG"):
            traceback.print_exception(exc, file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
