"""Time memodels' linear mixed model against lme4, glmm and statsmodels on the same data.

    python bench/run.py [--cases a,b] [--repeats N] [--skip-r] [--skip-py-peers]

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
R_PACKAGES = ["lme4"]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--cases",
        default=",".join(data.CASES),
        help="comma-separated cases (default: all): " + ", ".join(data.CASES),
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
    p.add_argument("--skip-r", action="store_true", help="do not run (or install) lme4")
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
        default="crossed100k",
        help="cases on which statsmodels is not run (default: crossed100k, where "
        "it needs one dense group of 100,000 rows); '' to run everywhere",
    )
    args = p.parse_args(argv)
    args.cases = [c for c in args.cases.split(",") if c]
    unknown = [c for c in args.cases if c not in data.CASES]
    if unknown:
        p.error(f"unknown cases {unknown}; known: {list(data.CASES)}")
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
    if not args.skip_r:
        try:
            env.ensure_r(R_PACKAGES)
        except Exception as exc:  # noqa: BLE001
            print(f"[bench] R unavailable, skipping lme4: {exc}", file=sys.stderr)
            args.skip_r = True
            info["r_error"] = str(exc)
    return info, memodels, why_not, python


def run_case(case, workdir, memodels, why_not, python, args) -> dict:
    spec = data.peer_spec(case)
    data_path = data.write_case(case, workdir)
    spec_path = workdir / f"{case['name']}.json"
    spec_path.write_text(json.dumps(spec))
    res: dict = {}
    if memodels is None:
        res["memodels"] = {"skipped": why_not}
    else:
        res["memodels"] = guarded(
            ours.run_memodels, memodels, spec, data_path, args.repeats, args.budget, args.min_time
        )
    if not args.skip_r:
        res["lme4"] = guarded(
            peer_r.run_lme4, spec, data_path, args.repeats, args.budget, args.min_time, args.timeout
        )
    for peer in args.py_peers:
        if peer == "statsmodels" and case["name"] in args.skip_statsmodels:
            res[peer] = {"skipped": "not run (--skip-statsmodels)"}
            continue
        res[peer] = guarded(run_py_peer, python, peer, spec_path, data_path, args)
    return res


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    info, memodels, why_not, python = setup(args)
    results: dict = {}
    with tempfile.TemporaryDirectory(prefix="memodels-bench-") as tmp:
        for name in args.cases:
            case = data.CASES[name]
            print(f"[bench] {name}: {case['what']}", file=sys.stderr, flush=True)
            t0 = time.perf_counter()
            results[name] = run_case(case, Path(tmp), memodels, why_not, python, args)
            print(f"[bench] {name} done in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    print(report.table(results))
    print(
        "\nratio = memodels time / peer time (< 1 means memodels is faster); "
        "d_llf = log likelihood minus the reference (memodels, else lme4)."
    )
    versions = {
        p: r.get("version")
        for case in results.values()
        for p, r in case.items()
        if r.get("version")
    }
    r_extra = next(
        (r for c in results.values() for p, r in c.items() if p == "lme4" and "r_blas" in r), {}
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
