"""Benchmark cases: data (generated with a fixed seed or shipped) and each contestant's model.

Every contestant reads the very same CSV file that :func:`write_case` writes, so that all
of them fit bit-identical data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20240517


def make_slope(n: int, groups: int, seed: int = SEED) -> pd.DataFrame:
    """y = 1 + 0.5 x + u0 + u1 x + e, (u0, u1) ~ N(0, [[1, .3], [.3, .5]]), e ~ N(0, 1)."""
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(1, groups + 1), n // groups)
    g = np.concatenate([g, rng.integers(1, groups + 1, n - g.size)])
    x = rng.normal(size=n)
    u = rng.multivariate_normal([0.0, 0.0], [[1.0, 0.3], [0.3, 0.5]], size=groups)
    y = 1.0 + 0.5 * x + u[g - 1, 0] + u[g - 1, 1] * x + rng.normal(size=n)
    return pd.DataFrame({"y": y, "x": x, "g": g})


def make_ri(n: int, groups: int, seed: int = SEED) -> pd.DataFrame:
    """y = 1 + 0.5 x1 - 0.3 x2 + u[g] + e, u ~ N(0, 1), e ~ N(0, 1); n // groups obs per
    group (the rest in random groups)."""
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(1, groups + 1), n // groups)
    g = np.concatenate([g, rng.integers(1, groups + 1, n - g.size)])
    x1 = rng.normal(size=n)
    x2 = rng.normal(size=n)
    u = rng.normal(size=groups)
    y = 1.0 + 0.5 * x1 - 0.3 * x2 + u[g - 1] + rng.normal(size=n)
    return pd.DataFrame({"y": y, "x1": x1, "x2": x2, "g": g})


def make_crossed(n: int, levels1: int, levels2: int, seed: int = SEED) -> pd.DataFrame:
    """y = 1 + 0.5 x + a[f1] + b[f2] + e with a ~ N(0, 1), b ~ N(0, 0.5), e ~ N(0, 1)."""
    rng = np.random.default_rng(seed)
    f1 = rng.integers(1, levels1 + 1, n)
    f2 = rng.integers(1, levels2 + 1, n)
    x = rng.normal(size=n)
    a = rng.normal(size=levels1)
    b = rng.normal(scale=np.sqrt(0.5), size=levels2)
    y = 1.0 + 0.5 * x + a[f1 - 1] + b[f2 - 1] + rng.normal(size=n)
    return pd.DataFrame({"y": y, "x": x, "f1": f1, "f2": f2})


def _expit(eta: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-eta))


def make_logit_ri(n: int, groups: int, seed: int = SEED) -> pd.DataFrame:
    """y ~ Bernoulli(expit(-0.5 + 0.8 x + u[g])), u ~ N(0, 1), n // groups obs per group."""
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(1, groups + 1), n // groups)
    g = np.concatenate([g, rng.integers(1, groups + 1, n - g.size)])
    x = rng.normal(size=n)
    u = rng.normal(size=groups)
    y = rng.binomial(1, _expit(-0.5 + 0.8 * x + u[g - 1]))
    return pd.DataFrame({"y": y, "x": x, "g": g})


def make_logit_nested(n: int, schools: int, classes: int, seed: int = SEED) -> pd.DataFrame:
    """y ~ Bernoulli(expit(-0.5 + 0.8 x + u[school] + v[class])), u ~ N(0, 1), v ~ N(0, 0.5).

    ``classes`` inner clusters (numbered 1..classes, ``classes // schools`` per school),
    ``n // classes`` obs in each.
    """
    rng = np.random.default_rng(seed)
    cls = np.repeat(np.arange(1, classes + 1), n // classes)
    school = (cls - 1) // (classes // schools) + 1
    x = rng.normal(size=cls.size)
    u = rng.normal(size=schools)
    v = rng.normal(scale=np.sqrt(0.5), size=classes)
    y = rng.binomial(1, _expit(-0.5 + 0.8 * x + u[school - 1] + v[cls - 1]))
    return pd.DataFrame({"y": y, "x": x, "school": school, "class": cls})


def make_logit_crossed(n: int, levels1: int, levels2: int, seed: int = SEED) -> pd.DataFrame:
    """y ~ Bernoulli(expit(-0.5 + 0.8 x + a[f1] + b[f2])), a ~ N(0, 1), b ~ N(0, 0.5)."""
    rng = np.random.default_rng(seed)
    f1 = rng.integers(1, levels1 + 1, n)
    f2 = rng.integers(1, levels2 + 1, n)
    x = rng.normal(size=n)
    a = rng.normal(size=levels1)
    b = rng.normal(scale=np.sqrt(0.5), size=levels2)
    y = rng.binomial(1, _expit(-0.5 + 0.8 * x + a[f1 - 1] + b[f2 - 1]))
    return pd.DataFrame({"y": y, "x": x, "f1": f1, "f2": f2})


def make_ologit_ri(n: int, groups: int, seed: int = SEED) -> pd.DataFrame:
    """Ordered y in 1..4: latent = 0.8 x + u[g] + logistic noise, u ~ N(0, 1), cut at
    -1, 0.5 and 2; ``n // groups`` obs per group (the rest in random groups)."""
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(1, groups + 1), n // groups)
    g = np.concatenate([g, rng.integers(1, groups + 1, n - g.size)])
    x = rng.normal(size=n)
    u = rng.normal(size=groups)
    latent = 0.8 * x + u[g - 1] + rng.logistic(size=n)
    y = 1 + np.searchsorted([-1.0, 0.5, 2.0], latent)
    return pd.DataFrame({"y": y, "x": x, "g": g})


def _shared(name: str, columns: list[str]) -> pd.DataFrame:
    """A dataset shipped with memodels (the manual's data), restricted to ``columns``."""
    from memodels.datasets import load

    return load(name)[columns]


PRODUCTIVITY_X = ["private", "emp", "hwy", "water", "other", "unemp"]


def _slope_case(name: str, n: int, groups: int) -> dict:
    return {
        "name": name,
        "what": f"correlated random intercept and slope, {n:,} obs in {groups:,} groups",
        "make": lambda: make_slope(n, groups),
        "stata": "y x || g: x, covariance(unstructured)",
        "factors": ["g"],
        "lme4": "y ~ x + (1 + x | g)",
        "glmm": "y ~ x + (1 + x | g)",
        "statsmodels": {"formula": "y ~ x", "groups": "g", "re_formula": "~x"},
    }


CASES: dict[str, dict] = {
    c["name"]: c
    for c in [
        _slope_case("slope50k", 50_000, 1_000),
        _slope_case("slope200k", 200_000, 5_000),
        {
            "name": "ri1m",
            "what": "random intercept, 1,000,000 obs in 10,000 groups",
            "make": lambda: make_ri(1_000_000, 10_000),
            "stata": "y x1 x2 || g:",
            "factors": ["g"],
            "lme4": "y ~ x1 + x2 + (1 | g)",
            "glmm": "y ~ x1 + x2 + (1 | g)",
            "statsmodels": {"formula": "y ~ x1 + x2", "groups": "g", "re_formula": "1"},
        },
        {
            "name": "crossed100k",
            "what": "crossed random intercepts, 100,000 obs, factors of 2,000 and 500 levels",
            "make": lambda: make_crossed(100_000, 2_000, 500),
            "stata": "y x || _all: R.f1 || f2:",
            "factors": ["f1", "f2"],
            "lme4": "y ~ x + (1 | f1) + (1 | f2)",
            "glmm": "y ~ x + (1 | f1) + (1 | f2)",
            # statsmodels has no crossed effects: one group holding every row, with
            # variance components for both factors (dense, very slow at this size).
            "statsmodels": {
                "formula": "y ~ x",
                "groups": "_one",
                "re_formula": "0",
                "vc_formula": {"f1": "0 + C(f1)", "f2": "0 + C(f2)"},
            },
        },
        {
            "name": "pig_ri",
            "what": "manual: pig data, random intercept (mixed weight week || id:)",
            "make": lambda: _shared("pig", ["id", "week", "weight"]),
            "stata": "weight week || id:",
            "factors": ["id"],
            "lme4": "weight ~ week + (1 | id)",
            "glmm": "weight ~ week + (1 | id)",
            "statsmodels": {"formula": "weight ~ week", "groups": "id", "re_formula": "1"},
        },
        {
            "name": "pig_slope",
            "what": "manual: pig data, || id: week, covariance(unstructured)",
            "make": lambda: _shared("pig", ["id", "week", "weight"]),
            "stata": "weight week || id: week, covariance(unstructured)",
            "factors": ["id"],
            "lme4": "weight ~ week + (1 + week | id)",
            "glmm": "weight ~ week + (1 + week | id)",
            "statsmodels": {"formula": "weight ~ week", "groups": "id", "re_formula": "~week"},
        },
        {
            "name": "productivity",
            "what": "manual: productivity data, two-level nested || region: || state:",
            "make": lambda: _shared("productivity", ["gsp", *PRODUCTIVITY_X, "region", "state"]),
            "stata": "gsp " + " ".join(PRODUCTIVITY_X) + " || region: || state:",
            "factors": ["region", "state"],
            "lme4": "gsp ~ " + " + ".join(PRODUCTIVITY_X) + " + (1 | region/state)",
            "glmm": "gsp ~ " + " + ".join(PRODUCTIVITY_X) + " + (1 | region/state)",
            "statsmodels": {
                "formula": "gsp ~ " + " + ".join(PRODUCTIVITY_X),
                "groups": "region",
                "re_formula": "1",
                "vc_formula": {"state": "0 + C(state)"},
            },
        },
    ]
}


HDP_X = "age lengthofstay i.familyhx il6 crp i.cancerstage experience"
HDP_R = "age + lengthofstay + familyhx + il6 + crp + cancerstage + experience"
HDP_COLUMNS = ["remission", *HDP_X.replace("i.", "").split(), "hid", "did"]

# The peers' families and quadrature for the logit cases.  ``nagq`` per peer (1 =
# Laplace); a peer missing from the spec is not run and shows ``unsupported[peer]``.
LOGIT_NOTE = "statsmodels has no ML GLMM (BinomialBayesMixedGLM is variational Bayes)"
GLMMTMB_LAPLACE = "glmmTMB fits by Laplace only"


def _logit(
    name: str,
    data: str,
    what: str,
    make,
    stata: str,
    formula: str,
    factors: list[str],
    points: int,
    peer_nagq: int,
    categorical: list[str] | None = None,
    peers_note: str = "",
) -> dict:
    """A melogit case.  ``points``: memodels' quadrature points (1 = Laplace); the peers
    run Laplace (``peer_nagq`` = 1) or adaptive quadrature with ``peer_nagq`` points, which
    glmmTMB cannot do."""
    spec = {
        "name": name,
        "data": data,
        "what": what,
        "make": make,
        "family": "binomial",
        "memodels": "melogit",
        "stata": stata if points > 1 else f"{stata}, intmethod(laplace)",
        "points": points,
        "factors": factors,
        "categorical": categorical or [],
        "lme4": formula,
        "glmm": formula,
        "nagq": {"lme4": peer_nagq, "glmm": peer_nagq, "glmmTMB": 1},
        "unsupported": {"statsmodels": LOGIT_NOTE},
        "peers_note": peers_note,
    }
    if peer_nagq == 1:
        spec["glmmTMB"] = formula
    else:
        spec["unsupported"]["glmmTMB"] = GLMMTMB_LAPLACE
    return spec


OLOGIT_NOTE = "no ordinal (cumulative logit) family"
OLOGIT_AGQ_NOTE = "clmm nAGQ=7 is mode-centred AGH, ours Stata's mean-variance rule"


def _ologit(
    name: str,
    data: str,
    what: str,
    make,
    stata: str,
    formula: str,
    factors: list[str],
    points: int,
    peer_nagq: int,
    peers_note: str = "",
) -> dict:
    """A meologit case against R's ``ordinal::clmm`` (``nAGQ`` = ``peer_nagq``: 1 is
    Laplace, > 1 adaptive Gauss-Hermite at the mode, single grouping factor only).  The
    other peers have no mixed ordered logit."""
    return {
        "name": name,
        "data": data,
        "what": what,
        "make": make,
        "family": "ordinal",
        "memodels": "meologit",
        "stata": stata if points > 1 else f"{stata}, intmethod(laplace)",
        "points": points,
        "factors": factors,
        "categorical": [],
        "ordinal": formula,
        "nagq": {"ordinal": peer_nagq},
        "unsupported": {
            "lme4": "no ordinal family",
            "glmmTMB": OLOGIT_NOTE,
            "glmm": OLOGIT_NOTE,
            "statsmodels": "OrderedModel has no random effects",
        },
        "peers_note": peers_note,
    }


NESTED_NOTE = "peers: Laplace (glmer's nAGQ > 1 needs a single grouping factor)"
_ri = lambda: make_logit_ri(20_000, 500)  # noqa: E731
_nested = lambda: make_logit_nested(50_000, 1_000, 10_000)  # noqa: E731
_crossed = lambda: make_logit_crossed(50_000, 1_000, 200)  # noqa: E731
_ologit_ri = lambda: make_ologit_ri(10_000, 300)  # noqa: E731
_hdp = lambda: _shared("hdp", HDP_COLUMNS)  # noqa: E731

GLMM_CASES: dict[str, dict] = {
    c["name"]: c
    for c in [
        _logit(
            "logit_ri20k/laplace",
            "logit_ri20k",
            "random-intercept logit, 20,000 obs in 500 groups, Laplace",
            _ri,
            "y x || g:",
            "y ~ x + (1 | g)",
            ["g"],
            1,
            1,
        ),
        _logit(
            "logit_ri20k/agq7",
            "logit_ri20k",
            "random-intercept logit, 20,000 obs in 500 groups, 7-point quadrature",
            _ri,
            "y x || g:",
            "y ~ x + (1 | g)",
            ["g"],
            7,
            7,
        ),
        _logit(
            "logit_nested50k/agq7",
            "logit_nested50k",
            "3-level logit, 50,000 obs, 1,000 schools, 10,000 classes; ours 7 points/level",
            _nested,
            "y x || school: || class:",
            "y ~ x + (1 | school/class)",
            ["school", "class"],
            7,
            1,
            peers_note=NESTED_NOTE,
        ),
        _logit(
            "logit_nested50k/laplace",
            "logit_nested50k",
            "3-level logit, 50,000 obs, 1,000 schools, 10,000 classes; Laplace",
            _nested,
            "y x || school: || class:",
            "y ~ x + (1 | school/class)",
            ["school", "class"],
            1,
            1,
        ),
        _logit(
            "logit_crossed",
            "logit_crossed",
            "crossed logit, 50,000 obs, factors of 1,000 and 200 levels, Laplace",
            _crossed,
            "y x || _all: R.f1 || f2:",
            "y ~ x + (1 | f1) + (1 | f2)",
            ["f1", "f2"],
            1,
            1,
        ),
        _logit(
            "hdp3/agq7",
            "hdp3",
            "manual: hdp, melogit ... || hid: || did:, 7 points/level",
            _hdp,
            f"remission {HDP_X} || hid: || did:",
            f"remission ~ {HDP_R} + (1 | hid/did)",
            ["hid", "did"],
            7,
            1,
            ["familyhx", "cancerstage"],
            NESTED_NOTE,
        ),
        _logit(
            "hdp3/laplace",
            "hdp3",
            "manual: hdp, melogit ... || hid: || did:, Laplace",
            _hdp,
            f"remission {HDP_X} || hid: || did:",
            f"remission ~ {HDP_R} + (1 | hid/did)",
            ["hid", "did"],
            1,
            1,
            ["familyhx", "cancerstage"],
        ),
        _logit(
            "hdp3/did_agq7",
            "hdp3",
            "manual: hdp, 2-level melogit ... || did:, 7 points",
            _hdp,
            f"remission {HDP_X} || did:",
            f"remission ~ {HDP_R} + (1 | did)",
            ["did"],
            7,
            7,
            ["familyhx", "cancerstage"],
        ),
        _ologit(
            "ologit_ri/laplace",
            "ologit_ri",
            "random-intercept ordered logit, 4 categories, 10,000 obs in 300 groups, Laplace",
            _ologit_ri,
            "y x || g:",
            "factor(y) ~ x + (1 | g)",
            ["g"],
            1,
            1,
        ),
        _ologit(
            "ologit_ri/agq7",
            "ologit_ri",
            "random-intercept ordered logit, 4 categories, 10,000 obs in 300 groups, 7 points",
            _ologit_ri,
            "y x || g:",
            "factor(y) ~ x + (1 | g)",
            ["g"],
            7,
            7,
            OLOGIT_AGQ_NOTE,
        ),
    ]
}

LMM_CASES = dict(CASES)
CASES.update(GLMM_CASES)

# Names that select several cases on the command line (``--cases logit_ri20k``).
GROUPS: dict[str, list[str]] = {"lmm": list(LMM_CASES), "glmm": list(GLMM_CASES)}
for _name in GLMM_CASES:
    if "/" in _name:
        GROUPS.setdefault(_name.split("/")[0], []).append(_name)


def expand(names: list[str]) -> list[str]:
    """Case names with group names (``lmm``, ``glmm``, ``logit_ri20k``) expanded, in
    order, without duplicates; unknown names raise ``KeyError``."""
    out: list[str] = []
    for n in names:
        if n in CASES:
            members = [n]
        elif n in GROUPS:
            members = GROUPS[n]
        else:
            raise KeyError(n)
        out.extend(m for m in members if m not in out)
    return out


def write_case(case: dict, directory: Path) -> Path:
    """Write the case's data to ``directory/<data>.csv`` (round-trip float precision);
    cases with the same ``data`` key share one file."""
    path = Path(directory) / f"{case.get('data', case['name'])}.csv"
    if not path.exists():
        case["make"]().to_csv(path, index=False, float_format="%.17g")
    return path


def peer_spec(case: dict) -> dict:
    """The JSON-serialisable part of a case (everything but the data generator)."""
    return {k: v for k, v in case.items() if k != "make"}


# ---------------------------------------------------------------------------------------
# Issue "Speed" item 4: the larger GLMM cases (added; the cases above are unchanged).


def make_logit_slope0(n: int, groups: int, seed: int = SEED) -> pd.DataFrame:
    """y ~ Bernoulli(expit(-0.5 + 0.8 x + u0[g] + u1[g] x)), u0 ~ N(0, 1) and a slope
    u1 ~ N(0, 0.01^2): a random-slope variance near 0 (a flat likelihood in it)."""
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(1, groups + 1), n // groups)
    x = rng.normal(size=g.size)
    u0 = rng.normal(size=groups)
    u1 = rng.normal(scale=0.01, size=groups)
    y = rng.binomial(1, _expit(-0.5 + 0.8 * x + u0[g - 1] + u1[g - 1] * x))
    return pd.DataFrame({"y": y, "x": x, "g": g})


def make_logit_nested_slope(n: int, schools: int, classes: int,
                            seed: int = SEED) -> pd.DataFrame:
    """y ~ Bernoulli(expit(-0.5 + 0.8 x + u0[school] + u1[school] x + v[class])),
    u0 ~ N(0, 1), u1 ~ N(0, 0.25), v ~ N(0, 0.5); ``n // classes`` obs per class."""
    rng = np.random.default_rng(seed)
    cls = np.repeat(np.arange(1, classes + 1), n // classes)
    school = (cls - 1) // (classes // schools) + 1
    x = rng.normal(size=cls.size)
    u0 = rng.normal(size=schools)
    u1 = rng.normal(scale=0.5, size=schools)
    v = rng.normal(scale=np.sqrt(0.5), size=classes)
    eta = -0.5 + 0.8 * x + u0[school - 1] + u1[school - 1] * x + v[cls - 1]
    y = rng.binomial(1, _expit(eta))
    return pd.DataFrame({"y": y, "x": x, "school": school, "class": cls})


def make_count_ri(n: int, groups: int, alpha: float = 0.0,
                  seed: int = SEED) -> pd.DataFrame:
    """Counts with mean exp(0.2 + 0.5 x + u[g]), u ~ N(0, 0.5): Poisson (``alpha`` = 0)
    or negative binomial with Var = mu (1 + alpha mu) (a gamma-Poisson mixture)."""
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(1, groups + 1), n // groups)
    x = rng.normal(size=g.size)
    u = rng.normal(scale=np.sqrt(0.5), size=groups)
    mu = np.exp(0.2 + 0.5 * x + u[g - 1])
    if alpha > 0:
        mu = mu * rng.gamma(1.0 / alpha, alpha, size=g.size)
    return pd.DataFrame({"y": rng.poisson(mu), "x": x, "g": g})


def make_weibull_ri(n: int, groups: int, seed: int = SEED) -> pd.DataFrame:
    """Weibull proportional hazards, h(t) = p t^(p-1) exp(-1 + 0.5 x + u[g]), p = 1.5,
    u ~ N(0, 0.5); independent uniform censoring (about a third censored)."""
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(1, groups + 1), n // groups)
    x = rng.normal(size=g.size)
    u = rng.normal(scale=np.sqrt(0.5), size=groups)
    lin = -1.0 + 0.5 * x + u[g - 1]
    t = (rng.exponential(size=g.size) / np.exp(lin)) ** (1 / 1.5)
    c = rng.uniform(0, 3.0 * np.median(t), size=g.size)
    return pd.DataFrame({"t": np.minimum(t, c), "d": (t <= c).astype(int), "x": x, "g": g})


def _me_case(name: str, data: str, what: str, make, stata: str, formula: str | None,
             factors: list[str], points: int, peer_nagq: int, *, command: str,
             family: str, method: str | None = None, categorical: list[str] | None = None,
             peers_note: str = "", unsupported: dict | None = None,
             stset: dict | None = None) -> dict:
    """A GLMM case of any me command.  ``formula`` None: no peer can fit it.  R peers
    (bench/peer_r.py) fit the binomial family only; for other families they are n/a."""
    spec = {
        "name": name, "data": data, "what": what, "make": make, "family": family,
        "memodels": command, "stata": stata, "points": points, "factors": factors,
        "categorical": categorical or [], "nagq": {"lme4": peer_nagq, "glmm": peer_nagq,
                                                   "glmmTMB": 1},
        "unsupported": dict(unsupported or {}), "peers_note": peers_note,
    }
    if method:
        spec["method"] = method
    if stset:
        spec["stset"] = stset
    spec["unsupported"].setdefault("statsmodels", "no ML GLMM")
    if formula is None:
        for peer in ("lme4", "glmmTMB", "glmm", "ordinal"):
            spec["unsupported"].setdefault(peer, "no peer fits this model")
        return spec
    spec["glmm"] = formula
    if family == "binomial":
        spec["lme4"] = formula
        if peer_nagq == 1:
            spec["glmmTMB"] = formula
        else:
            spec["unsupported"].setdefault("glmmTMB", GLMMTMB_LAPLACE)
    else:
        for peer in ("lme4", "glmmTMB"):
            spec["unsupported"].setdefault(peer, f"bench/peer_r.py fits binomial only, not "
                                                 f"{family}")
    for peer in unsupported or {}:  # named unsupported although the formula is given
        spec.pop(peer, None)
    return spec


_nested100k = lambda: make_logit_nested(100_000, 1_000, 10_000)  # noqa: E731
_slope0 = lambda: make_logit_slope0(200_000, 5_000)  # noqa: E731
_ri200k = lambda: make_logit_ri(200_000, 5_000)  # noqa: E731
_nslope = lambda: make_logit_nested_slope(50_000, 500, 5_000)  # noqa: E731
_pois = lambda: make_count_ri(100_000, 2_000)  # noqa: E731
_nb = lambda: make_count_ri(100_000, 2_000, alpha=0.5)  # noqa: E731
_ologit50k = lambda: make_ologit_ri(50_000, 1_000)  # noqa: E731
_weib = lambda: make_weibull_ri(50_000, 1_000)  # noqa: E731
_LOGIT = {"command": "melogit", "family": "binomial"}
NEW_GLMM_CASES: dict[str, dict] = {
    c["name"]: c
    for c in [
        _me_case("logit_nested100k/agq7", "logit_nested100k",
                 "3-level logit, 100,000 obs, 1,000 schools, 10,000 classes; 7 points/level",
                 _nested100k, "y x || school: || class:", "y ~ x + (1 | school/class)",
                 ["school", "class"], 7, 1, peers_note=NESTED_NOTE, **_LOGIT),
        _me_case("logit_nested100k/laplace", "logit_nested100k",
                 "3-level logit, 100,000 obs; Laplace", _nested100k,
                 "y x || school: || class:, intmethod(laplace)", "y ~ x + (1 | school/class)",
                 ["school", "class"], 1, 1, **_LOGIT),
        _me_case("logit_slope0_200k/laplace", "logit_slope0_200k",
                 "logit, 200,000 obs in 5,000 groups, random slope with variance ~1e-4; "
                 "Laplace", _slope0, "y x || g: x, covariance(unstructured) intmethod(laplace)",
                 "y ~ x + (1 + x | g)", ["g"], 1, 1, **_LOGIT),
        _me_case("logit_slope0_200k/agq7", "logit_slope0_200k",
                 "same data, 7 x 7 points", _slope0,
                 "y x || g: x, covariance(unstructured)", "y ~ x + (1 + x | g)", ["g"], 7, 7,
                 peers_note="glmm: 7 x 7 mode-centred AGH (lme4 would need a scalar effect)",
                 **_LOGIT),
        _me_case("logit_ri200k/laplace", "logit_ri200k",
                 "random-intercept logit, 200,000 obs in 5,000 groups, Laplace", _ri200k,
                 "y x || g:, intmethod(laplace)", "y ~ x + (1 | g)", ["g"], 1, 1, **_LOGIT),
        _me_case("logit_ri200k/agq7", "logit_ri200k",
                 "random-intercept logit, 200,000 obs in 5,000 groups, 7 points", _ri200k,
                 "y x || g:", "y ~ x + (1 | g)", ["g"], 7, 7, **_LOGIT),
        _me_case("logit_nested_slope50k/laplace", "logit_nested_slope50k",
                 "3-level logit with a random slope at the top level, 50,000 obs, 500 schools, "
                 "5,000 classes; Laplace", _nslope,
                 "y x || school: x, covariance(unstructured) || class:, intmethod(laplace)",
                 "y ~ x + (1 + x | school) + (1 | school:class)", ["school", "class"], 1, 1,
                 **_LOGIT),
        _me_case("poisson100k/agq7", "poisson100k",
                 "random-intercept Poisson, 100,000 obs in 2,000 groups, 7 points", _pois,
                 "y x || g:", "y ~ x + (1 | g)", ["g"], 7, 7, command="mepoisson",
                 family="poisson"),
        _me_case("poisson100k/laplace", "poisson100k", "same data, Laplace", _pois,
                 "y x || g:, intmethod(laplace)", "y ~ x + (1 | g)", ["g"], 1, 1,
                 command="mepoisson", family="poisson"),
        _me_case("nbreg100k/agq7", "nbreg100k",
                 "random-intercept negative binomial (mean dispersion), 100,000 obs in 2,000 "
                 "groups, 7 points", _nb, "y x || g:", "y ~ x + (1 | g)", ["g"], 7, 7,
                 command="menbreg", family="negativebinomial"),
        _me_case("ologit50k/agq7", "ologit50k",
                 "random-intercept ordered logit, 4 categories, 50,000 obs in 1,000 groups, "
                 "7 points", _ologit50k, "y x || g:", None, ["g"], 7, 7, command="meologit",
                 family="ordinal",
                 unsupported={"ordinal": "clmm: add with bench/peer_r.py's ordinal rows"}),
        _me_case("weibull50k/agq7", "weibull50k",
                 "mestreg Weibull (PH), 50,000 obs in 1,000 groups, 7 points", _weib,
                 "x || g:, distribution(weibull)", None, ["g"], 7, 7, command="mestreg",
                 family="weibull", stset={"time": "t", "failure": "d"}),
        _me_case("hdp_meqr_slope", "hdp3",
                 "manual: hdp, meqrlogit ... || hid: || did: lengthofstay (7 points, "
                 "mode-curvature)", _hdp, f"remission {HDP_X} || hid: || did: lengthofstay",
                 f"remission ~ {HDP_R} + (1 | hid) + (1 | hid:did) + (0 + lengthofstay | hid:did)",
                 ["hid", "did"], 7, 1, command="meqrlogit", family="binomial",
                 method="mcagh7", categorical=["familyhx", "cancerstage"],
                 peers_note="peers: Laplace, independent slope and intercept",
                 unsupported={"glmm": "glmm 0.6: a random slope needs a correlated random "
                                      "intercept ('0 +' in a random term is refused)"}),
    ]
}
CASES.update(NEW_GLMM_CASES)
GLMM_CASES.update(NEW_GLMM_CASES)
GROUPS["glmm"] = list(GLMM_CASES)
GROUPS["glmm_new"] = list(NEW_GLMM_CASES)
for _name in NEW_GLMM_CASES:
    if "/" in _name:
        GROUPS.setdefault(_name.split("/")[0], []).append(_name)
