"""The ``bootstrap`` prefix in a session ([R] bootstrap), as the hdp worked analysis
uses it:

    set seed 10
    bootstrap, reps(100) cluster(did) idcluster(newdid): melogit remission il6 || newdid:
    estat bootstrap, all

The command is refitted on cluster resamples (:func:`memodels.bootstrap`); the results
(observed e(b), bootstrap standard errors, normal-based intervals) become the session's
estimates, and ``estat bootstrap`` shows the bias and the bias-corrected, percentile or
normal intervals.  The random numbers are numpy's (seeded by ``seed()`` or ``set seed``),
not Stata's, so the replications differ from Stata's while their distribution does not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from ..errors import OptionError, StataSyntaxError
from ..output.console import console
from ..syntax.options import OptionTable
from ..syntax.tokens import split_top_level
from .parsing import LEVEL, arg, flag, parse_opts, split_options, to_int

if TYPE_CHECKING:
    from ..session import Session

OPTIONS = OptionTable([arg("reps", 1, to_int), arg("seed", 4, to_int), arg("cluster", 2),
                       arg("idcluster", 3), flag("nodots"), flag("dots"), LEVEL,
                       flag("notable"), flag("noheader", 5)])


def bootstrap(session: Session, rest: str) -> str:
    """``bootstrap [, options] : command``."""
    from ..postestimation.bootstrap import bootstrap as run

    pieces = split_top_level(rest, ":")
    if len(pieces) < 2:
        raise StataSyntaxError("bootstrap: the command to bootstrap follows a colon "
                               "(bootstrap, reps(100) cluster(id): melogit ...)")
    head = pieces[0][1]
    command = rest[pieces[1][0]:].strip()
    exps, options = split_options(head)
    if exps.strip():
        raise OptionError("bootstrap: expression lists are not supported; the command's "
                          "e(b) is bootstrapped")
    opts = parse_opts(options, OPTIONS, "bootstrap")
    if "cluster" not in opts:
        raise OptionError("bootstrap: cluster() is required (memodels resamples clusters)")
    cluster = opts["cluster"].strip()
    if len(cluster.split()) != 1:
        raise OptionError("bootstrap: cluster() takes one variable")
    data = session.require_data()
    if not isinstance(data, pd.DataFrame):
        raise OptionError("bootstrap: the data are a Dask DataFrame; the bootstrap prefix "
                          "resamples a pandas DataFrame (its replications can run on a Dask "
                          "cluster: memodels.bootstrap(..., client=))")
    seed = opts.get("seed", session.seed)
    level = float(opts.get("level", 95))
    out = console()
    print(f"(running {command.split()[0]} on estimation sample)\n", file=out)
    print(f"Bootstrap replications ({opts.get('reps', 50)})", file=out)
    result = run(command, data, reps=int(opts.get("reps", 50)), cluster=cluster,
                 idcluster=(opts.get("idcluster") or "").strip() or None, seed=seed,
                 level=level, progress=not opts.get("nodots"), stream=out,
                 client=getattr(session, "dask_client", None))
    session.e = BootstrapEstimates(result)
    if opts.get("notable"):
        return ""
    return "\n" + result.summary()


class BootstrapEstimates:
    """The session's e() after ``bootstrap:``: the model's results with the bootstrap
    VCE, and ``estat bootstrap``."""

    def __init__(self, boot) -> None:
        self.boot = boot
        self.results = boot.bootstrap_fit()

    def __getattr__(self, name: str):
        return getattr(self.results, name)

    def summary(self) -> str:
        return self.boot.summary()

    def estat(self, name: str, **options):
        if name == "bootstrap":
            kinds = [k for k in ("normal", "percentile", "bc", "all") if options.get(k)]
            return self.boot.estat(*kinds)
        return self.results.estat(name, **options)
