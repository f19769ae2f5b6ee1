"""The delete-one-cluster jackknife VCE of an estimation command ([R] jackknife; the
``jackknife`` prefix [ME] mixed allows): the command is refitted with each cluster (or
each observation) left out in turn, and

    V = (G - 1)/G  sum_g (b_(g) - b_bar)(b_(g) - b_bar)'

over the G leave-one-out estimates b_(g) of e(b) (b_bar their mean), [R] jackknife,
Methods and formulas.  Replications that fail to converge are reported and left out (G
is then the number of successful ones, as Stata's e(N_reps)).  As Stata reports, the
table's statistics are t with G - 1 degrees of freedom (e(df_r): the number of clusters,
or observations, minus one), and ``test``/``lincom`` afterwards use F(k, G - 1) = W/k and
t(G - 1).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataError, MemodelsError, OptionError


@dataclass
class JackknifeResults:
    observed: pd.Series
    replicates: pd.DataFrame  # one row per successful leave-one-out fit
    n_units: int
    cluster: str | None
    results: object

    @property
    def vcov(self) -> pd.DataFrame:
        g = len(self.replicates)
        dev = self.replicates - self.replicates.mean()
        v = (g - 1) / g * dev.T.to_numpy() @ dev.to_numpy()
        return pd.DataFrame(v, index=self.replicates.columns, columns=self.replicates.columns)

    def jackknife_fit(self):
        """A copy of the fit with the jackknife standard errors and e(V)."""
        res = copy.copy(self.results)
        v = self.vcov
        se = np.sqrt(np.clip(np.diag(v.to_numpy()), 0, None))
        se = pd.Series(se, index=v.index)
        res.rows = [copy.copy(r) for r in self.results.rows]
        df_r = len(self.replicates) - 1  # Stata's e(df_r): t statistics and intervals
        for r in res.rows:
            if r.name in se.index and r.status == "ok" and not r.constrained:
                r.se = float(se[r.name])
            if getattr(r, "section", "") in ("fixed", "aux", "random", "residual"):
                r.df = float(df_r)
        names = [r.name for r in res.rows if r.status == "ok"]
        res.vcov_matrix = v.reindex(index=names, columns=names).to_numpy(float)
        res.extra = dict(getattr(self.results, "extra", {}) or {})
        unit = f"clusters in {self.cluster}" if self.cluster else "observations"
        res.extra.pop("ddf", None)  # mixed, dfmethod(): replaced by the jackknife's df
        res.extra.update({"vce": "jackknife", "se_label": "Jackknife",
                          "N_reps": len(self.replicates), "df_r": df_r,
                          "vce_note": f"(Jackknife: {len(self.replicates):,} of "
                                      f"{self.n_units:,} {unit} left out in turn)"})
        res.lr_test = None
        fixed = [r.name for r in res.rows if getattr(r, "section", "") == "fixed"
                 and r.status == "ok" and r.name != "_cons" and r.name in v.index]
        if fixed:  # the Wald test with the jackknife VCE
            b = self.observed[fixed].to_numpy(float)
            vf = v.loc[fixed, fixed].to_numpy(float)
            try:
                res.wald = (float(b @ np.linalg.solve(vf, b)), len(fixed))
            except np.linalg.LinAlgError:
                res.wald = (float("nan"), len(fixed))
            # Stata's jackknife header: F(k, df_r) = W/k
            res.extra["model_F"] = (res.wald[0] / len(fixed), len(fixed), float(df_r))
        return res


def jackknife(cmdline: str, data: pd.DataFrame, cluster: str | None = None,
              **options) -> JackknifeResults:
    """Leave-one-out refits of ``cmdline`` on ``data`` (by ``cluster`` when given)."""
    from ..commands.dispatch import fit

    full = fit(cmdline, data, nolog=True, **options)
    sample = data.loc[full.design.index]
    if cluster is not None:
        if cluster not in data.columns:
            raise OptionError(f"jackknife: cluster({cluster}): variable not found")
        units = sample[cluster].to_numpy()
        labels = pd.unique(units)
    else:
        units = np.arange(len(sample))
        labels = units
    if len(labels) < 2:
        raise DataError("jackknife: at least two clusters are needed")
    names = list(full.params.index)
    rows, failed = [], 0
    for lab in labels:
        keep = units != lab
        try:
            res = fit(cmdline, sample.loc[keep], nolog=True, **options)
        except MemodelsError:
            failed += 1
            continue
        if not getattr(res, "converged", True):
            failed += 1
            continue
        rows.append(res.params.reindex(names).to_numpy(float))
    if len(rows) < 2:
        raise DataError("jackknife: fewer than two replications succeeded")
    reps = pd.DataFrame(rows, columns=names)
    return JackknifeResults(full.params, reps, len(labels), cluster, full)


# ------------------------------------------------------------------ the prefix
def jackknife_prefix(session, rest: str) -> str:
    """``jackknife [, cluster(var) idcluster(newvar)] : command`` in a session."""
    from ..syntax.options import OptionTable
    from ..syntax.tokens import split_top_level
    from .parsing import arg, flag, parse_opts, split_options

    pieces = split_top_level(rest, ":")
    if len(pieces) < 2:
        raise OptionError("jackknife: the command follows a colon (jackknife, cluster(id): "
                          "mixed ...)")
    head = pieces[0][1]
    command = rest[pieces[1][0]:].strip()
    exps, options = split_options(head)
    if exps.strip():
        raise OptionError("jackknife: expression lists are not supported; the command's "
                          "e(b) is jackknifed")
    opts = parse_opts(options, OptionTable([arg("cluster", 2), arg("idcluster", 3),
                                            flag("nodots"), flag("notable")]), "jackknife")
    if opts.get("idcluster"):
        raise OptionError("jackknife: idcluster() is not needed (clusters are left out, "
                          "not resampled) and is not supported")
    cluster = (opts.get("cluster") or "").strip() or None
    data = session.require_data()
    result = jackknife(command, data, cluster=cluster)
    session.e = result.jackknife_fit()
    if opts.get("notable"):
        return ""
    return f"(running {command.split()[0]} on estimation sample)\n\n" + session.e.summary()


__all__ = ["JackknifeResults", "jackknife", "jackknife_prefix"]
