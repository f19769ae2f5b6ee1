"""The ``memodels`` console command.

    memodels fit DATAFILE "mixed weight week || id:"   run a command on a data file
    memodels example pig                                run a manual example on shipped data
    memodels example --list                             list the examples
"""

from __future__ import annotations

import argparse
import sys

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


def _run(cmdline: str, data) -> int:
    from ..commands.dispatch import fit

    print(f". {cmdline}\n")
    res = fit(cmdline, data)
    print()
    print(res.summary())
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="memodels", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="action", required=True)
    p_fit = sub.add_parser("fit", help="run a Stata estimation command on a data file")
    p_fit.add_argument("datafile", help="a .csv, .dta or .parquet file")
    p_fit.add_argument("command", help='a Stata command line, e.g. "mixed y x || g:"')
    p_ex = sub.add_parser("example", help="run a manual example on a shipped dataset")
    p_ex.add_argument("name", nargs="?", default="pig", help=f"one of {', '.join(EXAMPLES)}")
    p_ex.add_argument("--list", action="store_true", help="list the examples")
    args = parser.parse_args(argv)
    try:
        if args.action == "fit":
            from ..io import read_data

            return _run(args.command, read_data(args.datafile))
        if args.list:
            for key, (ds, cmd) in EXAMPLES.items():
                print(f"{key:<14} {ds:<14} {cmd}")
            return 0
        if args.name not in EXAMPLES:
            parser.error(f"unknown example '{args.name}'; choose from {', '.join(EXAMPLES)}")
        from ..datasets import load

        ds, cmd = EXAMPLES[args.name]
        return _run(cmd, load(ds))
    except MemodelsError as exc:
        print(f"memodels: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
