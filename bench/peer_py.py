"""Time one Python peer (statsmodels MixedLM or glmm, linear or logit) on one case.

Run by ``run.py`` with the bench venv's python::

    python peer_py.py PEER SPEC.json DATA.csv REPEATS BUDGET_SECONDS MIN_SECONDS

Only the fit is timed (data are read before the clock starts).  Prints one JSON
object on the last line of stdout.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
import warnings

import pandas as pd


def fit_statsmodels(df: pd.DataFrame, spec: dict):
    import statsmodels.formula.api as smf

    sm = spec["statsmodels"]
    model = smf.mixedlm(
        sm["formula"],
        df,
        groups=df[sm["groups"]],
        re_formula=sm.get("re_formula"),
        vc_formula=sm.get("vc_formula"),
    )
    res = model.fit(reml=False)
    return float(res.llf), dict(zip(res.fe_params.index, map(float, res.fe_params), strict=True))


def fit_glmm(df: pd.DataFrame, spec: dict):
    import glmm

    family = spec.get("family", "gaussian")
    if family == "gaussian":
        # satterthwaite=False: lme4's lmer and memodels compute no Satterthwaite df either.
        res = glmm.fit(df, spec["glmm"], reml=False, satterthwaite=False)
    else:  # nagq = 1 is Laplace; > 1 adaptive quadrature (a single grouping factor only)
        nagq = spec.get("nagq", {}).get("glmm", 1)
        res = glmm.fit(df, spec["glmm"], family=family, nagq=nagq)
        if res.nagq != nagq:
            warnings.warn(f"glmm: ran nagq={res.nagq}, not {nagq}", stacklevel=1)
    if not res.converged:
        warnings.warn("glmm: fit did not converge", stacklevel=1)
    return float(res.loglik), dict(zip(res.names, map(float, res.beta), strict=True))


def more_runs(times: list[float], repeats: int, budget: float, min_time: float) -> bool:
    """The repeat rule of ours.more_runs."""
    n, total = len(times), sum(times)
    return n < 200 and total < budget and (n < repeats or total < min_time)


FITTERS = {"statsmodels": fit_statsmodels, "glmm": fit_glmm}
IMPORTS = {"statsmodels": "statsmodels.formula.api", "glmm": "glmm"}


def method(peer: str, spec: dict) -> str:
    if spec.get("family", "gaussian") == "gaussian":
        return "ML"
    nagq = spec.get("nagq", {}).get(peer, 1)
    return "laplace" if nagq == 1 else f"agh{nagq}"


def version(peer: str) -> str:
    from importlib.metadata import version as v

    return v(peer)


def main(argv: list[str]) -> None:
    peer, spec_path, data_path, repeats, budget, min_time = argv
    with open(spec_path) as fh:
        spec = json.load(fh)
    df = pd.read_csv(data_path)
    df["_one"] = 1
    for col in spec.get("categorical", []):  # Stata's i.x: levels in sorted order, first is base
        df[col] = pd.Categorical(df[col])
    fitter = FITTERS[peer]
    importlib.import_module(IMPORTS[peer])  # import outside the timed fits
    times, out, caught = [], None, []
    with warnings.catch_warnings(record=True) as wlist:
        warnings.simplefilter("always")
        while more_runs(times, int(repeats), float(budget), float(min_time)):
            t0 = time.perf_counter()
            llf, params = fitter(df, spec)
            times.append(time.perf_counter() - t0)
            out = (llf, params)
        caught = sorted({f"{w.category.__name__}: {str(w.message)[:200]}" for w in wlist})
    print(
        json.dumps(
            {
                "time": min(times),
                "times": times,
                "llf": out[0],
                "params": out[1],
                "warnings": caught,
                "version": version(peer),
                "method": method(peer, spec),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
