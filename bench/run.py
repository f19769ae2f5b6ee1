"""Time memodels (mixed, melogit, meologit) against lme4, glmmTMB, ordinal (clmm), glmm and
statsmodels on the same data.

    python bench/run.py [--cases a,b|lmm|glmm|logit_ri20k|ologit_ri] [--repeats N] [--skip-r]

See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

import data
import env
import ours
import peer_r
import report

PY_PEERS = ["glmm", "statsmodels"]
R_PEERS = peer_r.R_PEERS  # lme4, glmmTMB, ordinal


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--cases",
        default="lmm,glmm",
        help="comma-separated cases or groups (default: all). Groups: "
        + "; ".join(f"{g} = {','.join(m)}" for g, m in data.GROUPS.items())
        + ". Cases: "
        + ", ".join(data.CASES),
    )
    p.add_argument("--repeats", type=int, default=3, help="fits per contestant; best is kept")
    p.add_argument(
        "--budget",
        type=float,
        default=60.0,
        help="stop repeating once a contestant's fits took this many seconds",
    )
    p.add_argument(
        "--min-time",
        type=float,
        default=0.5,
        help="past --repeats, keep repeating fast fits (up to 200) until they took this long",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=900.0,
        help="kill a peer's subprocess after this many seconds",
    )
    p.add_argument("--skip-r", action="store_true", help="do not run (or install) the R peers")
    p.add_argument(
        "--r-peers",
        default=",".join(R_PEERS),
        help="which R peers to run where a case has a model for them (default: "
        + ",".join(R_PEERS)
        + ")",
    )
    p.add_argument(
        "--skip-py-peers", action="store_true", help="do not run (or install) glmm and statsmodels"
    )
    p.add_argument(
        "--py-peers",
        default=",".join(PY_PEERS),
        help="which Python peers to run (default: glmm,statsmodels)",
    )
    p.add_argument(
        "--skip-statsmodels",
        default="crossed100k,ri1m",
        help="cases on which statsmodels is not run (default: crossed100k, where "
        "it needs one dense group of 100,000 rows, and ri1m, where its Python loop over "
        "10,000 groups takes minutes); '' to run everywhere",
    )
    args = p.parse_args(argv)
    try:
        args.cases = data.expand([c for c in args.cases.split(",") if c])
    except KeyError as exc:
        p.error(f"unknown case {exc}; known: {list(data.GROUPS)} and {list(data.CASES)}")
    args.r_peers = [] if args.skip_r else [x for x in args.r_peers.split(",") if x]
    args.py_peers = [] if args.skip_py_peers else [x for x in args.py_peers.split(",") if x]
    args.skip_statsmodels = {c for c in args.skip_statsmodels.split(",") if c}
    return args


def guarded(fn, *a) -> dict:
    try:
        return fn(*a)
    except subprocess.TimeoutExpired as exc:
        return {"error": f"timed out after {exc.timeout:.0f} s"}
    except Exception as exc:  # noqa: BLE001 - one contestant failing must not stop the run
        traceback.print_exc()
        return {"error": f"{type(exc).__name__}: {exc}"}


def run_py_peer(python, peer, spec_path, data_path, args) -> dict:
    cmd = [
        str(python),
        str(Path(__file__).with_name("peer_py.py")),
        peer,
        str(spec_path),
        str(data_path),
        str(args.repeats),
        str(args.budget),
        str(args.min_time),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip()[-800:] or f"exit {proc.returncode}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def setup(args) -> tuple[dict, object, str | None, Path | None]:
    info = {"machine": env.machine(), "blas_memodels_python": env.blas_info()}
    memodels, why_not = ours.load()
    python = None
    if args.py_peers:
        python = env.ensure_venv()
        info["blas_venv_python"] = env.blas_info(python)
    # Only the R packages that the chosen cases use (glmmTMB for the logit cases, ordinal
    # for the ordered-logit ones).
    needed = [p for p in args.r_peers if any(p in data.CASES[c] for c in args.cases)]
    if needed:
        try:
            env.ensure_r(needed)
        except Exception as exc:  # noqa: BLE001
            print(f"[bench] R unavailable, skipping {needed}: {exc}", file=sys.stderr)
            args.r_peers = []
            info["r_error"] = str(exc)
    return info, memodels, why_not, python


def _fit_key(spec: dict, peer: str, data_path: Path) -> str:
    """What determines a peer's fit: two cases with equal keys (e.g. our 7-point and
    Laplace rows of a nested model, both against the peers' Laplace) share one run."""
    keys = ("family", "factors", "categorical")
    nagq = spec.get("nagq", {}).get(peer)
    return json.dumps([peer, spec.get(peer), nagq, str(data_path), *map(spec.get, keys)])


def run_case(case, workdir, memodels, why_not, python, args, done: dict) -> dict:
    """Run memodels and each peer on one case; ``done`` holds peer fits already run."""
    spec = data.peer_spec(case)
    data_path = data.write_case(case, workdir)
    spec_path = workdir / f"{case['name'].replace('/', '_')}.json"
    spec_path.write_text(json.dumps(spec))
    res: dict = {}
    if memodels is None:
        res["memodels"] = {"skipped": why_not}
    else:
        res["memodels"] = guarded(
            ours.run_memodels, memodels, spec, data_path, args.repeats, args.budget, args.min_time
        )
    unsupported = spec.get("unsupported", {})
    peers = [(p, "r") for p in args.r_peers] + [(p, "py") for p in args.py_peers]
    for peer, kind in peers:
        if peer not in spec:
            if peer in unsupported:
                res[peer] = {"skipped": f"n/a (unsupported: {unsupported[peer]})"}
            continue
        if peer == "statsmodels" and case["name"] in args.skip_statsmodels:
            res[peer] = {"skipped": "not run (--skip-statsmodels)"}
            continue
        key = _fit_key(spec, peer, data_path)
        if key in done:
            res[peer] = dict(done[key][1], same_fit_as=done[key][0])
            continue
        if kind == "r":
            run = (peer_r.run_r, peer, spec, data_path, args.repeats, args.budget)
            res[peer] = guarded(*run, args.min_time, args.timeout)
        else:
            res[peer] = guarded(run_py_peer, python, peer, spec_path, data_path, args)
        done[key] = (case["name"], res[peer])
    return res


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    info, memodels, why_not, python = setup(args)
    results: dict = {}
    done: dict = {}
    with tempfile.TemporaryDirectory(prefix="memodels-bench-") as tmp:
        for name in args.cases:
            case = data.CASES[name]
            print(f"[bench] {name}: {case['what']}", file=sys.stderr, flush=True)
            t0 = time.perf_counter()
            results[name] = run_case(case, Path(tmp), memodels, why_not, python, args, done)
            print(f"[bench] {name} done in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    notes = {c: data.CASES[c].get("peers_note", "") for c in results}
    print(report.table(results, notes))
    print(
        "\nratio = memodels time / peer time (< 1 means memodels is faster); "
        "d_llf = log likelihood minus the reference (memodels, else lme4, else the first fit).\n"
        "method: ML (linear), laplace, mvagh<n> (memodels: Stata's mean-variance adaptive "
        "Gauss-Hermite, n points per level), agh<n> (peers: adaptive Gauss-Hermite at the "
        "mode, n points; not the same rule as mvagh<n>). d_llf against a different method "
        "measures the approximation, not the optimiser. 'LOW LLF' flags a fit more than "
        f"{report.LOW_LLF} below the best fit by the very same method."
    )
    versions = {
        p: r.get("version")
        for case in results.values()
        for p, r in case.items()
        if r.get("version")
    }
    r_extra = next(
        (r for c in results.values() for p, r in c.items() if p in R_PEERS and "r_blas" in r), {}
    )
    info["versions"] = versions
    if r_extra:
        info["r"] = {"version": r_extra.get("r_version"), "blas": r_extra.get("r_blas")}
    print(f"versions: {versions}")
    for key in ("blas_memodels_python", "blas_venv_python"):
        if key in info:
            print(f"{key}: {json.dumps(info[key])}")
    if "r" in info:
        print(f"R: {info['r']['version']}; BLAS/LAPACK: {info['r']['blas']}")
    print(f"env: {info['machine']['env']}")
    path = report.write_json(
        {
            "args": {k: (sorted(v) if isinstance(v, set) else v) for k, v in vars(args).items()},
            "info": info,
            "cases": {k: data.peer_spec(data.CASES[k]) for k in args.cases},
            "results": results,
        }
    )
    print(f"results written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
