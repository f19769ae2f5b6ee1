"""Cluster (and multilevel) bootstrap of any memodels command ([R] bootstrap with
cluster() and idcluster(), as the hdp worked analysis uses it).

``bootstrap(command, data, reps=..., cluster="did", idcluster="newdid", seed=...)``
resamples clusters with replacement, gives every drawn cluster a new unique id in
``idcluster`` (so that a cluster drawn twice counts as two groups), refits, and reports
the bootstrap standard errors with normal-based, percentile and bias-corrected
confidence intervals (``estat bootstrap``).  ``multilevel=True`` resamples the top level
and then, within each drawn top-level cluster, the ``within`` clusters.  Replications run
in worker processes (``n_jobs``) from per-replication seeds, so results do not depend on
the number of workers.  Workers end with their parent: killing the process that runs
the bootstrap (a timeout, SIGKILL) ends its workers within about a second.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import DataError, OptionError


@dataclass
class BootstrapResults:
    observed: pd.Series
    replicates: pd.DataFrame  # one row per successful replication
    reps: int
    level: float = 95.0
    results: object | None = None  # the fit on the original data (e(b) = observed)

    @property
    def bse(self) -> pd.Series:
        return self.replicates.std(ddof=1)

    @property
    def vcov(self) -> pd.DataFrame:
        """The bootstrap covariance matrix of e(b) (Stata's e(V) after bootstrap)."""
        return self.replicates.cov(ddof=1)

    def bootstrap_fit(self):
        """A copy of the fitted results with the bootstrap standard errors in its rows and
        the bootstrap VCE (what Stata displays and stores after ``bootstrap:``)."""
        import copy

        if self.results is None:
            raise DataError("bootstrap of a function: no results object to display")
        res = copy.copy(self.results)
        se = self.bse
        res.rows = [copy.copy(r) for r in self.results.rows]
        for r in res.rows:
            if r.name in se.index and r.status == "ok" and not r.constrained:
                r.se = float(se[r.name])
        res.extra = dict(getattr(self.results, "extra", {}) or {})
        res.extra.pop("se_label", None)
        res.extra.pop("vce_note", None)
        # e(V) is the bootstrap VCE: test, lincom and nlcom use it ([R] bootstrap)
        names = [r.name for r in res.rows if r.status == "ok"]
        boot_v = self.vcov.reindex(index=names, columns=names)
        res.vcov_matrix = boot_v.to_numpy(float)
        res.extra["vce"] = "bootstrap"
        return res

    def wald(self) -> tuple[float, int] | None:
        """The Wald test of the coefficients except the constant, with the bootstrap VCE."""
        res = self.results
        if res is None:
            return None
        names = [r.name for r in res.rows if r.section == "fixed" and r.status == "ok"
                 and r.name != "_cons" and r.name in self.replicates.columns]
        if not names:
            return None
        b = self.observed[names].to_numpy(float)
        v = self.vcov.loc[names, names].to_numpy(float)
        vals = np.linalg.eigvalsh(v)
        if not vals.min() > 1e-10 * max(vals.max(), 1e-300):  # fewer draws than effects
            return float("nan"), len(names)
        return float(b @ np.linalg.solve(v, b)), len(names)

    def summary(self) -> str:
        """Stata's table after ``bootstrap: command`` (observed estimates, bootstrap
        standard errors, normal-based intervals)."""
        from ..output.bootstrap_text import results_text

        return results_text(self.bootstrap_fit(), len(self.replicates), self.wald())

    def estat(self, *kinds: str) -> str:
        """``estat bootstrap``: bias-corrected intervals by default; ``"normal"``,
        ``"percentile"``, ``"bc"`` or ``"all"``."""
        from ..errors import OptionError
        from ..output.bootstrap_text import estat_text

        chosen = [k.lower() for k in kinds] or ["bc"]
        if "all" in chosen:
            chosen = ["normal", "percentile", "bc"]
        for k in chosen:
            if k not in ("normal", "percentile", "bc"):
                raise OptionError(f"estat bootstrap: option {k} not allowed (normal, "
                                  "percentile, bc, all)")
        if self.results is None:
            return str(self)
        return estat_text(self.results, self.table(), len(self.replicates), chosen,
                          self.level)

    @property
    def bias(self) -> pd.Series:
        return self.replicates.mean() - self.observed

    def table(self) -> pd.DataFrame:
        """estat bootstrap: observed, bias, SE, normal, percentile and BC intervals."""
        a = (100 - self.level) / 200
        z = stats.norm.ppf(1 - a)
        rows = {}
        for name in self.observed.index:
            draws = self.replicates[name].dropna().to_numpy()
            obs = float(self.observed[name])
            se = float(draws.std(ddof=1))
            lo_p, hi_p = np.quantile(draws, [a, 1 - a])
            frac = np.clip(np.mean(draws < obs), 1e-12, 1 - 1e-12)
            z0 = stats.norm.ppf(frac)
            lo_bc, hi_bc = np.quantile(draws, stats.norm.cdf([2 * z0 - z, 2 * z0 + z]))
            rows[name] = {"observed": obs, "bias": float(draws.mean() - obs), "se": se,
                          "normal_lower": obs - z * se, "normal_upper": obs + z * se,
                          "percentile_lower": lo_p, "percentile_upper": hi_p,
                          "bc_lower": lo_bc, "bc_upper": hi_bc}
        return pd.DataFrame.from_dict(rows, orient="index")

    def __str__(self) -> str:
        return (f"Bootstrap results ({len(self.replicates)} of {self.reps} replications)\n"
                + self.table().to_string(float_format=lambda v: f"{v:.6g}"))


def _resample(data: pd.DataFrame, cluster: str, idcluster: str, rng: np.random.Generator,
              within: str | None) -> pd.DataFrame:
    codes, uniques = pd.factorize(data[cluster])
    order = np.argsort(codes, kind="stable")
    starts = np.searchsorted(codes[order], np.arange(len(uniques)))
    ends = np.r_[starts[1:], len(order)]
    drawn = rng.integers(0, len(uniques), len(uniques))
    pieces, ids = [], []
    for new_id, c in enumerate(drawn):
        rows = order[starts[c]:ends[c]]
        part = data.iloc[rows]
        if within is not None:
            sub_codes, sub_uniques = pd.factorize(part[within])
            pick = rng.integers(0, len(sub_uniques), len(sub_uniques))
            part = pd.concat([part[sub_codes == k].assign(**{within: f"{new_id}_{j}"})
                              for j, k in enumerate(pick)])
        pieces.append(part)
        ids.append(np.full(len(part), new_id))
    out = pd.concat(pieces, ignore_index=True)
    out[idcluster] = np.concatenate(ids)
    return out


def _one(args) -> np.ndarray | None:
    command, data, cluster, idcluster, seed, within, names = args
    from ..commands.dispatch import fit

    rng = np.random.default_rng(seed)
    sample = _resample(data, cluster, idcluster, rng, within)
    try:
        res = command(sample) if callable(command) else fit(command, sample, nolog=True)
    except Exception:  # noqa: BLE001 - a failed replication is counted, as Stata does
        return None
    params = res.params
    return np.array([params.get(n, np.nan) for n in names], float)


def _one_remote(args, data: pd.DataFrame) -> np.ndarray | None:
    """:func:`_one` as a Dask task: ``data`` (scattered once) apart from the rest."""
    return _one((args[0], data, *args[1:]))


def bootstrap(
    command: str | Callable[[pd.DataFrame], object],
    data: pd.DataFrame,
    *,
    reps: int = 50,
    cluster: str,
    idcluster: str | None = None,
    seed: int | None = None,
    multilevel: bool = False,
    within: str | None = None,
    n_jobs: int | None = None,
    level: float = 95.0,
    progress: bool = True,
    stream=None,
    client=None,
) -> BootstrapResults:
    """Cluster bootstrap of a command line (``"melogit y x || newdid:"``) or a function of
    the resampled data returning results.  The command should use ``idcluster`` as its
    level variable (as Stata's hdp example does with ``newdid``).

    Parameters
    ----------
    command : str or callable
        An estimation command line, or a function of the resampled DataFrame that
        returns results.
    data : pandas.DataFrame
    reps : int
        Number of replications.
    cluster : str
        The variable whose clusters are resampled.
    idcluster : str, optional
        A new variable identifying the resampled clusters (use it as the level variable).
    seed : int, optional
        Random seed (Stata's ``set seed``).
    multilevel, within
        Resample ``within`` units inside the resampled clusters as well.
    n_jobs : int, optional
        Worker processes for command lines (default 2).
    level : float
        Confidence level of the normal-based intervals.
    progress : bool
        Stata's dots on standard error.
    client : dask.distributed.Client, optional
        Run the replications as Dask tasks on its workers (the data are scattered to
        them once), with the same per-replication seeds, hence the same results, as the
        local process pool (``n_jobs``).

    Returns
    -------
    BootstrapResults
        ``observed``, ``replicates`` (reps x parameters), ``bse``, ``bias``, ``vcov``,
        ``summary()`` (Stata's table), ``estat("all")``.

    Examples
    --------
    >>> import memodels
    >>> pig = memodels.datasets.load("pig")
    >>> bs = memodels.bootstrap("mixed weight week || nid:", pig, reps=3, cluster="id",
    ...                         idcluster="nid", seed=1, progress=False, n_jobs=1)
    >>> bs.replicates.shape
    (3, 4)
    """
    from ..commands.dispatch import fit

    if cluster not in data.columns:
        raise DataError(f"cluster variable '{cluster}' not found")
    if multilevel and within is None:
        raise DataError("multilevel=True needs within= (the level resampled within clusters)")
    idcluster = idcluster or cluster
    observed_data = data.assign(**{idcluster: pd.factorize(data[cluster])[0]})
    fitted = (command(observed_data) if callable(command)
              else fit(command, observed_data, nolog=True))
    design = getattr(fitted, "design", None)
    if not callable(command) and design is not None and (design.weights is not None or any(
            getattr(t, "level_weights", None) is not None for t in design.terms)):
        # [ME] mixed, Syntax: "Weights are not allowed with the bootstrap prefix"
        raise OptionError("weights not allowed with the bootstrap prefix")
    observed = fitted.params
    names = list(observed.index)
    seeds = np.random.SeedSequence(seed).generate_state(reps)
    tasks = [(command, data, cluster, idcluster, int(s), within if multilevel else None, names)
             for s in seeds]
    results: list[np.ndarray | None] = []
    workers = n_jobs if n_jobs is not None else 2
    if client is not None:
        shared = client.scatter(data, broadcast=True)
        futures = client.map(_one_remote, [t[:1] + t[2:] for t in tasks], data=shared,
                             pure=False)
        for k, fut in enumerate(futures):
            out = fut.result()
            results.append(out)
            _progress(progress, k + 1, reps, out is None, stream)
    elif workers > 1 and not callable(command):
        with ProcessPoolExecutor(max_workers=workers, initializer=_watch_parent,
                                 initargs=(os.getpid(),)) as pool:
            for k, out in enumerate(pool.map(_one, tasks)):
                results.append(out)
                _progress(progress, k + 1, reps, out is None, stream)
    else:
        for k, task in enumerate(tasks):
            out = _one(task)
            results.append(out)
            _progress(progress, k + 1, reps, out is None, stream)
    if progress:
        print("", file=stream or sys.stderr)
    good = [r for r in results if r is not None]
    if len(good) < 2:
        raise DataError("fewer than two bootstrap replications succeeded")
    reps_df = pd.DataFrame(good, columns=names)
    return BootstrapResults(observed, reps_df, reps, level,
                            fitted if hasattr(fitted, "rows") else None)


PARENT_POLL_SECONDS = 0.5


def _watch_parent(parent: int) -> None:
    """Worker initializer: end this worker as soon as the process that started it is
    gone (killed by SIGKILL, a timeout...), instead of computing replications for
    nobody.  A daemon thread polls the parent pid; an orphan is re-parented (to init or
    a subreaper), so ``os.getppid()`` changes."""

    def watch() -> None:
        while True:
            if os.getppid() != parent:
                os._exit(1)
            time.sleep(PARENT_POLL_SECONDS)

    if os.getppid() != parent:
        os._exit(1)
    threading.Thread(target=watch, name="memodels-parent-watch", daemon=True).start()


def _progress(show: bool, k: int, total: int, failed: bool, stream=None) -> None:
    """Stata's dots: '.' per replication, 'x' for a failed one, a count every 50."""
    if not show:
        return
    out = stream or sys.stderr
    out.write("x" if failed else ".")
    if k % 50 == 0 or k == total:
        out.write(f" {k:>5}\n" if k % 50 == 0 else "")
    out.flush()
