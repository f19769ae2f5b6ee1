"""Time memodels (the repo's ``src``; ``mixed``, ``melogit`` or ``meologit``) in the current
interpreter."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd

SRC = Path(__file__).resolve().parent.parent / "src"


def load():
    """Import memodels from the repo; return ``(module, None)`` or ``(None, reason)``."""
    if str(SRC) not in sys.path:
        sys.path.insert(0, str(SRC))
    try:
        import memodels
    except Exception as exc:  # noqa: BLE001 - any import failure means "n/a"
        return None, f"import memodels failed: {exc!r}"
    if not hasattr(memodels, "mixed"):
        return None, "memodels.mixed does not exist yet"
    return memodels, None


def method(spec: dict) -> str:
    """How memodels integrates: ML for a linear model, Laplace or ``mvagh<n>`` (Stata's
    default mean-variance adaptive Gauss-Hermite quadrature, n points per level)."""
    if spec.get("method"):  # e.g. meqr's mode-curvature rule, "mcagh7"
        return spec["method"]
    if spec.get("family", "gaussian") == "gaussian":
        return "ML"
    points = spec.get("points", 7)
    return "laplace" if points == 1 else f"mvagh{points}"


def _params(res) -> dict:
    p = getattr(res, "params", None)
    if isinstance(p, pd.Series):
        return {str(k): float(v) for k, v in p.items()}
    if isinstance(p, dict):
        return {str(k): float(v) for k, v in p.items()}
    return {}


def more_runs(times: list[float], repeats: int, budget: float, min_time: float) -> bool:
    """Repeat to ``repeats`` fits, or more while they add up to < ``min_time`` s (at most
    200), but stop once they add up to ``budget`` s.  Same rule in peer_py.py and peer_r.py."""
    n, total = len(times), sum(times)
    return n < 200 and total < budget and (n < repeats or total < min_time)


def run_memodels(
    memodels, spec: dict, data: Path, repeats: int, budget: float, min_time: float
) -> dict:
    df = pd.read_csv(data)
    if spec.get("stset"):  # mestreg: the data declared (outside the clock)
        df = memodels.stset(df, **spec["stset"])
    fit = getattr(memodels, spec.get("memodels", "mixed"))  # mixed, melogit, meologit
    times: list[float] = []
    res = None
    while more_runs(times, repeats, budget, min_time):
        t0 = time.perf_counter()
        res = fit(spec["stata"], df, nolog=True)
        times.append(time.perf_counter() - t0)
    return {
        "time": min(times),
        "times": times,
        "llf": float(res.llf),
        "params": _params(res),
        "version": getattr(memodels, "__version__", "?"),
        "method": method(spec),
    }
