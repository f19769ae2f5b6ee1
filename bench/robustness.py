"""Robustness suite of the GLMM engine (issue #14, item 2).  Not a timed test: run as

    PYTHONPATH=src python bench/robustness.py [--seeds 5] [--families bernoulli,...]
                                              [--designs 2lev,...] [--methods mv,...]
                                              [--no-hard] [--out bench/robustness.md]

For each family (bernoulli, binomial, poisson, nbinomial, ordinal, Weibull survival) x
design (2 levels, 3 nested levels, random slope, crossed) x integration method
(mvaghermite 7, mcaghermite 7, laplace; crossed designs: laplace only) x seed, a data set
of 480-600 observations is simulated with true variances drawn from [0.2, 2], and the
model is fitted three times by the same method: from the default start, from Stata's
default start grid (``startgrid``) and from the true values (``from()``).  A fit passes
when the default fit is converged and its log likelihood is within 1e-4 of the best of
the three.  Hard cases must end honestly (see :func:`hard_cases`).

The pass-rate table is printed and written to ``--out`` (markdown).
"""

from __future__ import annotations

import argparse
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

import memodels
from memodels.errors import MemodelsError

FAMILIES = ("bernoulli", "binomial", "poisson", "nbinomial", "ordinal", "weibull")
DESIGNS = ("2lev", "3nest", "slope", "crossed")
METHODS = {"mv": "intmethod(mvaghermite) intpoints(7)",
           "mc": "intmethod(mcaghermite) intpoints(7)",
           "laplace": "intmethod(laplace)"}
TOL = 1e-4
CUTS = (-1.0, 0.5, 2.0)


@dataclass
class Sim:
    data: pd.DataFrame
    cmd: str            # without options
    truth: dict[str, float]
    extra: str = ""     # family options (binomial(n), distribution(weibull))


def _design(design: str, rng: np.random.Generator):
    """(frame with x and group ids, random part of eta, RE spec, true variances)."""
    if design == "2lev":
        G, S = 60, 8
        g = np.repeat(np.arange(G), S)
        x = rng.normal(size=G * S)
        v = rng.uniform(0.2, 2.0)
        eta = rng.normal(scale=np.sqrt(v), size=G)[g]
        return pd.DataFrame({"x": x, "g": g}), eta, "|| g:", {"var(_cons[g])": v}
    if design == "3nest":
        A, B, S = 20, 5, 6
        a = np.repeat(np.arange(A), B * S)
        b = np.repeat(np.arange(A * B), S)
        x = rng.normal(size=A * B * S)
        va, vb = rng.uniform(0.2, 2.0, size=2)
        eta = (rng.normal(scale=np.sqrt(va), size=A)[a]
               + rng.normal(scale=np.sqrt(vb), size=A * B)[b])
        return (pd.DataFrame({"x": x, "a": a, "b": b}), eta, "|| a: || b:",
                {"var(_cons[a])": va, "var(_cons[a>b])": vb})
    if design == "slope":
        G, S = 60, 10
        g = np.repeat(np.arange(G), S)
        x = rng.normal(size=G * S)
        v0, v1 = rng.uniform(0.2, 2.0, size=2)
        v1 = min(v1, 1.0)  # slopes on a unit-sd covariate: keep the linear predictor sane
        eta = (rng.normal(scale=np.sqrt(v0), size=G)[g]
               + rng.normal(scale=np.sqrt(v1), size=G)[g] * x)
        return (pd.DataFrame({"x": x, "g": g}), eta, "|| g: x",
                {"var(_cons[g])": v0, "var(x[g])": v1})
    if design == "crossed":
        A, B, N = 30, 20, 600
        a = rng.integers(0, A, size=N)
        b = rng.integers(0, B, size=N)
        x = rng.normal(size=N)
        va, vb = rng.uniform(0.2, 2.0, size=2)
        eta = (rng.normal(scale=np.sqrt(va), size=A)[a]
               + rng.normal(scale=np.sqrt(vb), size=B)[b])
        return (pd.DataFrame({"x": x, "a": a, "b": b}), eta, "|| _all: R.a || b:",
                {"var(_cons[_all>a])": va, "var(_cons[b])": vb})
    raise ValueError(design)


def simulate(family: str, design: str, seed: int) -> Sim:
    rng = np.random.default_rng([seed, FAMILIES.index(family), DESIGNS.index(design)])
    df, re_eta, re_spec, truth = _design(design, rng)
    x = df["x"].to_numpy()
    n = x.size
    b0, b1 = {"poisson": (0.3, 0.4), "nbinomial": (0.3, 0.4), "weibull": (-1.0, 0.5)
              }.get(family, (-0.3, 0.7))
    eta = b0 + b1 * x + re_eta
    truth = {"x": b1, "_cons": b0, **truth}
    extra = ""
    if family == "bernoulli":
        y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
        cmd = f"melogit y x {re_spec}"
    elif family == "binomial":
        trials = 1 + rng.integers(0, 5, size=n)
        y = rng.binomial(trials, 1 / (1 + np.exp(-eta))).astype(float)
        df["n"] = trials
        cmd, extra = f"melogit y x {re_spec}", "binomial(n)"
    elif family == "poisson":
        y = rng.poisson(np.exp(eta)).astype(float)
        cmd = f"mepoisson y x {re_spec}"
    elif family == "nbinomial":
        alpha = 0.5
        y = rng.poisson(np.exp(eta) * rng.gamma(1 / alpha, alpha, size=n)).astype(float)
        cmd = f"menbreg y x {re_spec}"
        truth["/lnalpha"] = np.log(alpha)
    elif family == "ordinal":
        latent = eta - b0 + rng.logistic(size=n)
        y = 1.0 + np.searchsorted(np.array(CUTS), latent)
        cmd = f"meologit y x {re_spec}"
        truth.pop("_cons")
        truth.update({f"/cut{k + 1}": c for k, c in enumerate(CUTS)})
    elif family == "weibull":
        p = 1.5
        t = (rng.exponential(size=n) / np.exp(eta)) ** (1 / p)
        c = rng.uniform(1.0, 4.0, size=n)
        df["t"], df["d"] = np.minimum(t, c), (t <= c).astype(int)
        df = memodels.stset(df, "t", failure="d")
        cmd, extra = f"mestreg x {re_spec}", "distribution(weibull)"
        truth["/ln_p"] = np.log(p)
        return Sim(df, cmd, truth, extra)
    else:
        raise ValueError(family)
    df["y"] = y
    return Sim(df, cmd, truth, extra)


@dataclass
class Outcome:
    ll: list[float] = field(default_factory=list)
    conv: list[bool] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    error: str = ""

    @property
    def passed(self) -> bool:
        if self.error or not self.conv or not self.conv[0]:
            return False
        best = max(v for v in self.ll if np.isfinite(v))
        return self.ll[0] >= best - TOL


def _fit(cmdline: str, data: pd.DataFrame, from_=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = time.perf_counter()
        res = memodels.fit(cmdline, data, from_=from_) if from_ is not None else \
            memodels.fit(cmdline, data)
        return res, time.perf_counter() - t


def run_case(family: str, design: str, method: str, seed: int) -> Outcome:
    sim = simulate(family, design, seed)
    opts = " ".join(o for o in (sim.extra, METHODS[method], "nolog") if o)
    base = f"{sim.cmd}, {opts}"
    out = Outcome()
    starts = [(base, None), (f"{base} startgrid", None), (base, sim.truth)]
    for k, (cmdline, start) in enumerate(starts):
        try:
            res, sec = _fit(cmdline, sim.data, start)
            out.ll.append(float(res.llf))
            out.conv.append(bool(res.converged))
            out.seconds.append(sec)
        except MemodelsError as exc:
            out.error = f"start {k}: {type(exc).__name__}: {exc}"[:200]
            if k == 0:
                return out
            out.ll.append(-np.inf)
            out.conv.append(False)
            out.seconds.append(np.nan)
    return out


def cells(families, designs, methods):
    for fam in families:
        for des in designs:
            for m in methods:
                if des == "crossed" and m != "laplace":
                    continue  # crossed designs are fitted by Laplace only
                yield fam, des, m


# ------------------------------------------------------------------ hard cases
def hard_cases() -> list[tuple[str, bool, str]]:
    """(case, passed, detail): fits that must end honestly."""
    out = []
    rng = np.random.default_rng(2026)

    # true variance 0: boundary flagged, finite estimates, LR test as Stata (chibar2)
    G, S = 80, 6
    g = np.repeat(np.arange(G), S)
    x = rng.normal(size=G * S)
    y = (rng.random(G * S) < 1 / (1 + np.exp(-(-0.2 + 0.6 * x)))).astype(float)
    cnt = rng.poisson(np.exp(0.2 + 0.3 * x)).astype(float)
    df0 = pd.DataFrame({"y": y, "cnt": cnt, "x": x, "g": g})
    for cmd in ("melogit y x || g:", "melogit y x || g:, intmethod(laplace)",
                "meqrlogit y x || g:", "mepoisson cnt x || g:"):
        sep = " " if "," in cmd else ", "
        try:
            res, sec = _fit(cmd + sep + "nolog", df0)
            v = [val for name, val in res.params.items() if name.startswith("var(")][0]
            flagged = any(res.fit.boundary) or any("boundary" in w for w in res.warnings)
            finite = bool(np.all(np.isfinite(res.params.to_numpy())))
            ok = finite and (v < 1e-3 and flagged or v >= 1e-3 and res.converged)
            lr = (f"{res.lr_test.kind} {res.lr_test.stat:.3g}" if res.lr_test is not None
                  else None)
            detail = (f"var={v:.3g}, boundary flagged={flagged}, converged={res.converged}, "
                      f"LR={lr}, {sec:.1f}s")
        except MemodelsError as exc:
            ok, detail = False, str(exc)[:150]
        out.append((f"true variance 0: `{cmd}`", ok, detail))

    # correlation 0.999 between a random intercept and slope
    G, S = 100, 10
    g = np.repeat(np.arange(G), S)
    x = rng.normal(size=G * S)
    z = rng.normal(size=G)
    u0, u1 = z, 0.999 * z + np.sqrt(1 - 0.999**2) * rng.normal(size=G)
    eta = -0.2 + 0.6 * x + u0[g] + 0.8 * u1[g] * x
    y = (rng.random(G * S) < 1 / (1 + np.exp(-eta))).astype(float)
    dfc = pd.DataFrame({"y": y, "x": x, "g": g})
    for cmd in ("melogit y x || g: x, covariance(unstructured)",
                "melogit y x || g: x, covariance(unstructured) intmethod(laplace)"):
        try:
            res, sec = _fit(cmd + " nolog", dfc)
            finite = bool(np.all(np.isfinite(res.params.to_numpy())))
            honest = res.converged or any("convergence not achieved" in w for w in res.warnings)
            corr = res.params.get("cov(x,_cons[g])", np.nan) / np.sqrt(
                res.params["var(x[g])"] * res.params["var(_cons[g])"])
            ok = finite and honest
            detail = (f"corr={corr:.4f}, converged={res.converged}, "
                      f"warnings={res.warnings}, {sec:.1f}s")
        except MemodelsError as exc:
            ok, detail = False, str(exc)[:150]
        out.append((f"correlation 0.999: `{cmd}`", ok, detail))

    # separation in a cluster: one cluster all 1, one all 0 (an ordinary fit)
    G, S = 50, 8
    g = np.repeat(np.arange(G), S)
    x = rng.normal(size=G * S)
    eta = -0.2 + 0.6 * x + rng.normal(scale=0.5, size=G)[g]
    y = (rng.random(G * S) < 1 / (1 + np.exp(-eta))).astype(float)
    y[g == 0], y[g == 1] = 1.0, 0.0
    dfs = pd.DataFrame({"y": y, "x": x, "g": g})
    for cmd in ("melogit y x || g:", "melogit y x || g:, intmethod(laplace)",
                "meqrlogit y x || g:"):
        sep = " " if "," in cmd else ", "
        try:
            res, sec = _fit(cmd + sep + "nolog", dfs)
            ok = res.converged and bool(np.all(np.isfinite(res.params.to_numpy()))) and \
                not res.warnings
            detail = f"converged={res.converged}, var={res.params['var(_cons[g])']:.3g}, " \
                     f"warnings={res.warnings}, {sec:.1f}s"
        except MemodelsError as exc:
            ok, detail = False, str(exc)[:150]
        out.append((f"separation in a cluster: `{cmd}`", ok, detail))
    # group-level separation: half the clusters all 0, half all 1 (no maximum)
    dfg = dfs.assign(y=(dfs.g % 2).astype(float))
    for cmd in ("melogit y x || g:", "meqrlogit y x || g:"):
        try:
            res, sec = _fit(cmd + ", nolog", dfg)
            ok = not res.converged and any("without bound" in w or "convergence not" in w
                                           for w in res.warnings)
            detail = f"converged={res.converged}, var={res.params['var(_cons[g])']:.3g}, {sec:.1f}s"
        except MemodelsError as exc:
            ok, detail = True, f"refused: {str(exc)[:150]}"
        out.append((f"group-level separation: `{cmd}`", ok, detail))

    # 100,000 groups of size 2
    G = 100_000
    g = np.repeat(np.arange(G), 2)
    x = rng.normal(size=2 * G)
    eta = -0.3 + 0.8 * x + rng.normal(size=G)[g]
    y = (rng.random(2 * G) < 1 / (1 + np.exp(-eta))).astype(float)
    dfb = pd.DataFrame({"y": y, "x": x, "g": g})
    for cmd in ("melogit y x || g:", "melogit y x || g:, intmethod(laplace)"):
        sep = " " if "," in cmd else ", "
        try:
            res, sec = _fit(cmd + sep + "nolog", dfb)
            # Laplace on binary pairs is biased toward 0 (its own limit, see LAPLACE_PAIRS)
            near = 0.3 if "laplace" not in cmd else 0.6
            ok = res.converged and abs(res.params["var(_cons[g])"] - 1.0) < near
            detail = (f"converged={res.converged}, it={res.iterations}, "
                      f"var={res.params['var(_cons[g])']:.3f}, {sec:.1f}s")
        except MemodelsError as exc:
            ok, detail = False, str(exc)[:150]
        out.append((f"100,000 groups of 2: `{cmd}`", ok, detail))
    return out


LAPLACE_PAIRS = """\
Laplace on 100,000 binary pairs (the method's own limit, not an engine failure): the
Laplacian approximation of a cluster of two binary outcomes is poor, and its maximum is
var(_cons) = 0.504 (true 1; ll -127120.0004) where 7-point adaptive quadrature gives 0.9325
(ll -126649.6489).  An independent numpy computation (per-cluster Newton for the modes, the
Laplace formula, Nelder-Mead over (b0, b1, ln var)) reaches the same Laplace maximum,
-127120.00040072 at var 0.50400 (b0 -0.26872, b1 0.75268), and 30-point Gauss-Hermite
quadrature by the same route 0.93266 (ll -126649.6193): the engine's Laplace fit is the
Laplace maximum, the bias is Laplace's (Breslow and Lin 1995, Biometrika 82: 81-91).
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--families", default=",".join(FAMILIES))
    ap.add_argument("--designs", default=",".join(DESIGNS))
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--no-hard", action="store_true")
    ap.add_argument("--out", default="bench/robustness.md")
    args = ap.parse_args()
    fams, dess, meths = (args.families.split(","), args.designs.split(","),
                         args.methods.split(","))
    rows, failures = [], []
    t_all = time.perf_counter()
    for fam, des, m in cells(fams, dess, meths):
        n_pass, secs = 0, []
        for seed in range(args.seeds):
            o = run_case(fam, des, m, seed)
            n_pass += o.passed
            secs += [s for s in o.seconds[:1] if np.isfinite(s)]
            if not o.passed:
                failures.append((fam, des, m, seed, o))
        line = (fam, des, m, n_pass, args.seeds, float(np.mean(secs)) if secs else np.nan)
        rows.append(line)
        print(f"{fam:10s} {des:8s} {m:8s} {n_pass}/{args.seeds}  "
              f"mean fit {line[5]:.2f}s", flush=True)
    hard = [] if args.no_hard else hard_cases()
    total = time.perf_counter() - t_all
    md = ["# GLMM robustness suite (bench/robustness.py)", "",
          f"Seeds per cell: {args.seeds}; pass: the default fit converged and its log "
          f"likelihood within {TOL:g} of the best of three fits by the same method (default "
          "start, `startgrid`, true values via `from()`). Total run time "
          f"{total / 60:.1f} min.", "",
          "| family | design | method | pass | mean fit (s) |", "|---|---|---|---|---|"]
    md += [f"| {f} | {d} | {m} | {p}/{n} | {s:.2f} |" for f, d, m, p, n, s in rows]
    if failures:
        md += ["", "## Failures", "", "| cell | seed | converged (default, grid, true) | "
               "log likelihoods | error |", "|---|---|---|---|---|"]
        for f, d, m, s, o in failures:
            lls = ", ".join(f"{v:.6f}" for v in o.ll)
            md.append(f"| {f} {d} {m} | {s} | {o.conv} | {lls} | {o.error} |")
    if hard:
        md += ["", "## Hard cases (must end honestly)", "", "| case | pass | detail |",
               "|---|---|---|"]
        md += [f"| {c} | {'yes' if ok else 'NO'} | {d} |" for c, ok, d in hard]
        md += ["", LAPLACE_PAIRS]
        for c, ok, d in hard:
            print(f"{'PASS' if ok else 'FAIL'}  {c}: {d}", flush=True)
    with open(args.out, "w") as fh:
        fh.write("\n".join(md) + "\n")
    print(f"wrote {args.out}; {sum(r[3] for r in rows)}/{sum(r[4] for r in rows)} passed "
          f"in {total / 60:.1f} min")


if __name__ == "__main__":
    main()
