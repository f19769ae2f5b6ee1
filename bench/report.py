"""Print the results table and write the JSON results."""

from __future__ import annotations

import json
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
OURS = "memodels"
# A fit whose log likelihood is this far below the best one by the very same method
# (laplace vs laplace, agh7 vs agh7) stopped short of the maximum and is flagged.
LOW_LLF = 0.05


def _fmt_time(r: dict) -> str:
    if "time" in r:
        return f"{r['time']:.4g}"
    return "n/a" if "skipped" in r else "error"


def _note(r: dict) -> str:
    if "skipped" in r:
        return r["skipped"]
    if "error" in r:
        return "ERROR: " + r["error"].splitlines()[-1][:90]
    notes = [w[:70] for w in r.get("warnings", [])[:2]]
    if len(r.get("times", [])) > 1:
        notes.insert(0, f"{len(r['times'])} runs")
    if r.get("same_fit_as"):
        notes.insert(0, f"same fit as {r['same_fit_as']}")
    return "; ".join(notes)


def case_rows(case: str, results: dict, peers_note: str = "") -> list[list[str]]:
    """One row per contestant: time, ratio ours/peer, llf, llf minus the reference llf."""
    ours = results.get(OURS, {})
    ref_name = OURS if "llf" in ours else "lme4"
    if "llf" not in results.get(ref_name, {}):  # e.g. ordered logit: no lme4
        ref_name = next((n for n, r in results.items() if "llf" in r), ref_name)
    ref = results.get(ref_name, {}).get("llf")
    rows = []
    for name, r in results.items():
        ratio = "n/a"
        if name != OURS and "time" in ours and "time" in r and r["time"] > 0:
            ratio = f"{ours['time'] / r['time']:.2f}"
        elif name == OURS and "time" in ours:
            ratio = "1.00"
        llf = f"{r['llf']:.4f}" if "llf" in r else ""
        diff = ""
        if "llf" in r and ref is not None:
            diff = "ref" if name == ref_name else f"{r['llf'] - ref:+.2e}"
        note = _note(r)
        if name == OURS and peers_note:
            note = "; ".join(x for x in (peers_note, note) if x)
        best = max(
            (
                x["llf"]
                for x in results.values()
                if "llf" in x and x.get("method") == r.get("method")
            ),
            default=None,
        )
        if "llf" in r and best is not None and r["llf"] < best - LOW_LLF:
            flag = f"LOW LLF: {r['llf'] - best:+.3f} vs best {r.get('method')} fit"
            note = "; ".join(x for x in (flag, note) if x)
        method = r.get("method", "")
        rows.append([case, name, method, _fmt_time(r), ratio, llf, diff, note])
    return rows


HEADER = ["case", "contestant", "method", "time_s", "ours/peer", "loglik", "d_llf", "note"]


def table(all_results: dict, notes: dict | None = None) -> str:
    """``notes``: per case, a remark for the memodels row (e.g. the peers' method)."""
    rows = [HEADER]
    for case, results in all_results.items():
        rows.extend(case_rows(case, results, (notes or {}).get(case, "")))
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER) - 1)]
    lines = []
    for i, r in enumerate(rows):
        cells = [
            c.rjust(w) if 3 <= j <= 6 else c.ljust(w)
            for j, (c, w) in enumerate(zip(r, widths, strict=False))
        ]
        lines.append("  ".join(cells + [r[-1]]).rstrip())
        if i == 0:
            lines.append("-" * len(lines[0]))
    return "\n".join(lines)


def write_json(payload: dict) -> Path:
    RESULTS.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = RESULTS / f"bench-{stamp}.json"
    text = json.dumps(payload, indent=2, default=str)
    path.write_text(text)
    (RESULTS / "latest.json").write_text(text)
    return path
