"""Cost model of memodels' GLMM fits (issue "Speed", item 5): how the time grows with the
number of observations and groups, and how far a likelihood pass is from its physical floor.

    python3 bench/cost_glmm.py [--cases a,b] [--fractions 0.25,0.5,1]

For each case, memodels fits the case's model on data generated at three sizes
(observations and groups scaled together, so that the cluster sizes stay the same) and
reports the times and the growth exponent (least-squares slope of log time on log n).
At the largest size it then measures, at the fitted parameters:

* ``pass``: one evaluation of the approximated log likelihood (best of 5), adaptive
  parameters held;
* ``evals``: the density evaluations in that pass, n x (quadrature nodes per
  observation: the product of the levels' points; 1 for Laplace);
* ``ns/eval``: the cost of one density evaluation, timed on an array of that size
  with the case's family (``family.loglik``; the floor below which no pass can go
  without fewer evaluations);
* ``pass/floor``: the pass's time over evals x ns/eval (the overhead: integration
  sums, node placement, Python);
* ``passes``: the fit's time over the pass's time (how many pass-equivalents the
  optimizer, the adaptive parameters' iterations and the standard errors cost).

Only memodels; no peer (see run.py for the comparisons).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import data  # noqa: E402
import ours  # noqa: E402

# name: (generator(scale) -> DataFrame, memodels command, Stata spec, stset)
SIZED = {
    "logit_ri200k/agq7": (lambda f: data.make_logit_ri(int(200_000 * f), int(5_000 * f)),
                          "melogit", "y x || g:", None),
    "logit_ri200k/laplace": (lambda f: data.make_logit_ri(int(200_000 * f), int(5_000 * f)),
                             "melogit", "y x || g:, intmethod(laplace)", None),
    "logit_nested100k/agq7": (
        lambda f: data.make_logit_nested(int(100_000 * f), int(1_000 * f), int(10_000 * f)),
        "melogit", "y x || school: || class:", None),
    "logit_nested100k/laplace": (
        lambda f: data.make_logit_nested(int(100_000 * f), int(1_000 * f), int(10_000 * f)),
        "melogit", "y x || school: || class:, intmethod(laplace)", None),
    "logit_slope0_200k/laplace": (
        lambda f: data.make_logit_slope0(int(200_000 * f), int(5_000 * f)), "melogit",
        "y x || g: x, covariance(unstructured) intmethod(laplace)", None),
    "logit_nested_slope50k/laplace": (
        lambda f: data.make_logit_nested_slope(int(50_000 * f), int(500 * f), int(5_000 * f)),
        "melogit", "y x || school: x, covariance(unstructured) || class:, intmethod(laplace)",
        None),
    "poisson100k/agq7": (lambda f: data.make_count_ri(int(100_000 * f), int(2_000 * f)),
                         "mepoisson", "y x || g:", None),
    "nbreg100k/agq7": (lambda f: data.make_count_ri(int(100_000 * f), int(2_000 * f), 0.5),
                       "menbreg", "y x || g:", None),
    "ologit50k/agq7": (lambda f: data.make_ologit_ri(int(50_000 * f), int(1_000 * f)),
                       "meologit", "y x || g:", None),
    "weibull50k/agq7": (lambda f: data.make_weibull_ri(int(50_000 * f), int(1_000 * f)),
                        "mestreg", "x || g:, distribution(weibull)",
                        {"time": "t", "failure": "d"}),
}


def _best(fn, k: int = 5) -> float:
    best = np.inf
    for _ in range(k):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _pass_costs(res) -> dict:
    """One likelihood pass at the fit's parameters, its density evaluations, and the
    family's per-evaluation cost on an array of that size."""
    fit = res.fit if hasattr(res, "fit") else res
    extra = getattr(fit, "extra", {}) or {}
    model, par, ad = extra.get("model"), extra.get("params_theta"), extra.get("adaptive")
    if model is None or par is None:
        return {}
    if ad is None and hasattr(model, "adapt") and not hasattr(model, "A"):
        try:
            ad = model.adapt(par, None)
        except Exception:  # noqa: BLE001 - the sparse Laplace engine has no adapt
            ad = None
    try:
        one = (lambda: model.loglik(par, ad)) if ad is not None else (lambda: model.loglik(par))
        t_pass = _best(one)
    except TypeError:
        t_pass = _best(lambda: model.loglik(par))
    n = int(np.asarray(model.y).shape[0])
    if hasattr(model, "K"):  # nested engine: the product of the levels' points
        nodes = int(np.prod(model.K))
    elif hasattr(model, "nodes"):  # two-level engine: the product rule's nodes
        nodes = int(np.asarray(model.nodes).shape[0])
    else:  # the sparse Laplace engine: one density evaluation per observation
        nodes = 1
    evals = n * nodes
    fam = model.family
    aux = par[model.p:model.p + model.n_aux] if getattr(model, "n_aux", 0) else None
    eta = np.random.default_rng(0).normal(size=(n, nodes)) * 0.5
    y = np.asarray(model.y, float)[:, None]
    t_eval = _best(lambda: fam.loglik(y, eta, aux), 3)
    return {"pass": t_pass, "evals": evals, "ns_eval": 1e9 * t_eval / evals,
            "pass_floor": t_pass / t_eval}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", default=",".join(SIZED))
    ap.add_argument("--fractions", default="0.25,0.5,1")
    args = ap.parse_args(argv)
    memodels, why = ours.load()
    if memodels is None:
        print(why)
        return 1
    fractions = [float(f) for f in args.fractions.split(",")]
    print("| case | n (3 sizes) | time s (3 sizes) | exponent | iterations | pass s | "
          "evals/pass | ns/eval | pass/floor | fit/pass |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name in args.cases.split(","):
        make, command, spec, stset = SIZED[name]
        ns, ts, res = [], [], None
        for f in fractions:
            df = make(f)
            if stset:
                df = memodels.stset(df, **stset)
            fit = getattr(memodels, command)
            t0 = time.perf_counter()
            res = fit(spec, df, nolog=True)
            ts.append(time.perf_counter() - t0)
            ns.append(len(df))
        slope = float(np.polyfit(np.log(ns), np.log(ts), 1)[0])
        cost = _pass_costs(res)
        iters = getattr(res, "iterations", getattr(getattr(res, "fit", None), "iterations", "?"))
        cells = [name, "/".join(f"{n:,}" for n in ns), "/".join(f"{t:.3g}" for t in ts),
                 f"{slope:.2f}", str(iters)]
        if cost:
            cells += [f"{cost['pass']:.4f}", f"{cost['evals']:,}", f"{cost['ns_eval']:.1f}",
                      f"{cost['pass_floor']:.1f}", f"{ts[-1] / cost['pass']:.0f}"]
        else:
            cells += ["", "", "", "", ""]
        print("| " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
