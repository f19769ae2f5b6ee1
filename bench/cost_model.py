"""Cost model of memodels' linear mixed models (not a timed test; see bench/README.md).

For each LMM family of the benchmark (random intercept, correlated random slope, crossed
random intercepts) it fits three sizes growing in observations at a fixed number of
groups, and three growing in groups at a fixed number of observations, and reports

* the growth exponent of the fit time in n and in the number of groups (the slope of
  log time on log size between the smallest and the largest size);
* the cost of one data pass (one weighted group sum over the n rows, ``np.bincount``)
  and of one likelihood evaluation at the estimates (which touches only the per-group
  sufficient statistics, never the n rows);
* the number of likelihood evaluations of the fit (pieces for the exact gradient and
  Hessian counted as evaluations), so that fit time ~ setup (a fixed number of passes)
  + evaluations x per-evaluation cost.

Times are the best of ``--repeats`` wall-clock runs (the machine may be shared).

    python bench/cost_model.py [--repeats 3] [--families ri,slope,crossed]
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import data  # noqa: E402

import memodels  # noqa: E402
from memodels.lmm import dense, profiled  # noqa: E402
from memodels.optimize.blas import single_threaded_blas  # noqa: E402

FAMILIES = {
    "ri": ("y x1 x2 || g:", lambda n, g: data.make_ri(n, g),
           [(100_000, 1_000), (400_000, 1_000), (1_600_000, 1_000)],
           [(400_000, 1_000), (400_000, 4_000), (400_000, 16_000)]),
    "slope": ("y x || g: x, covariance(unstructured)", lambda n, g: data.make_slope(n, g),
              [(50_000, 1_000), (200_000, 1_000), (800_000, 1_000)],
              [(200_000, 1_000), (200_000, 4_000), (200_000, 16_000)]),
    "crossed": ("y x || _all: R.f1 || f2:", lambda n, g: data.make_crossed(n, g, g // 4),
                [(25_000, 2_000), (50_000, 2_000), (100_000, 2_000)],
                [(100_000, 500), (100_000, 1_000), (100_000, 2_000)]),
}

COUNT = collections.Counter()


def _count(cls, name):
    orig = getattr(cls, name)

    def wrapped(*a, **k):
        COUNT[name] += 1
        return orig(*a, **k)

    setattr(cls, name, wrapped)


for _cls in (profiled.ProfiledLMM, dense.DenseLMM):
    for _m in ("evaluate", "cov_pieces"):
        if hasattr(_cls, _m):
            _count(_cls, _m)


def best(f, repeats):
    out = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        out = min(out, time.perf_counter() - t0)
    return out


def measure(cmd, df, repeats):
    COUNT.clear()
    res = memodels.mixed(cmd, df, nolog=True)
    evals = COUNT["evaluate"] + COUNT["cov_pieces"]
    t_fit = best(lambda: memodels.mixed(cmd, df, nolog=True), repeats)
    model = res.fit.model
    thetas = [s.theta_from_sigma(sg / res.fit.sigma2)
              for s, sg in zip([t.structure for t in res.fit.terms], res.fit.sigmas, strict=True)]
    g = np.asarray(res.fit.terms[0].groups)
    y = np.asarray(df["y"], float)
    with single_threaded_blas():  # as inside a fit
        t_eval = best(lambda: model.evaluate(thetas), max(repeats, 5))
        t_pass = best(lambda: np.bincount(g, weights=y), max(repeats, 5))
    return t_fit, t_eval, t_pass, evals, res.llf


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--families", default="ri,slope,crossed")
    args = ap.parse_args(argv)
    print("| family | series | n | groups | fit s | evals | eval ms | pass ms | "
          "evals x eval / fit |")
    print("|---|---|---|---|---|---|---|---|---|")
    summary = []
    for fam in args.families.split(","):
        cmd, make, by_n, by_g = FAMILIES[fam]
        for label, sizes, axis in (("n", by_n, 0), ("groups", by_g, 1)):
            times = []
            for n, groups in sizes:
                df = make(n, groups)
                t_fit, t_eval, t_pass, evals, _ = measure(cmd, df, args.repeats)
                times.append(t_fit)
                print(f"| {fam} | {label} | {n:,} | {groups:,} | {t_fit:.4f} | {evals} | "
                      f"{t_eval * 1e3:.2f} | {t_pass * 1e3:.2f} | "
                      f"{evals * t_eval / t_fit:.2f} |", flush=True)
            lo, hi = sizes[0][axis], sizes[-1][axis]
            expo = np.log(times[-1] / times[0]) / np.log(hi / lo)
            summary.append((fam, label, expo))
    print()
    print("| family | exponent in n (fixed groups) | exponent in groups (fixed n) |")
    print("|---|---|---|")
    for fam in args.families.split(","):
        e = {lab: x for f, lab, x in summary if f == fam}
        print(f"| {fam} | {e['n']:.2f} | {e['groups']:.2f} |")


if __name__ == "__main__":
    main()
