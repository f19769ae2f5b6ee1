"""Family-link combinations and random draws shared by the family tests."""

from __future__ import annotations

import numpy as np

from memodels.families import make_family

# (family string, link, options) for every combination the manual's table allows
COMBOS = [
    ("gaussian", "identity", {}),
    ("gaussian", "log", {}),
    ("bernoulli", "logit", {}),
    ("bernoulli", "probit", {}),
    ("bernoulli", "cloglog", {}),
    ("binomial", "logit", {"trials": 7}),
    ("binomial", "probit", {"trials": 7}),
    ("binomial", "cloglog", {"trials": 7}),
    ("gamma", "log", {}),
    ("nbinomial mean", "log", {}),
    ("nbinomial constant", "log", {}),
    ("poisson", "log", {}),
]
COMBO_IDS = [f"{f}-{lk}" for f, lk, _ in COMBOS]


def family_of(combo):
    f, lk, opts = combo
    return make_family(f, lk, **opts)


def eta_range(fam) -> float:
    if fam.name in ("bernoulli", "binomial"):
        return 12.0
    if fam.name == "gaussian" and fam.link.name == "identity":
        return 10.0
    return 3.0


def draw(fam, rng: np.random.Generator, n: int = 40):
    """eta, aux and y drawn from the family's own distribution."""
    eta = rng.uniform(-eta_range(fam), eta_range(fam), n)
    aux = rng.uniform(-1.5, 1.0, len(fam.aux_names)) if fam.aux_names else None
    mu = fam.mean(eta)
    if fam.name == "bernoulli":
        y = (rng.uniform(size=n) < mu).astype(float)
    elif fam.name == "binomial":
        y = rng.binomial(7, np.clip(mu / 7.0, 0, 1)).astype(float)
    elif fam.name == "poisson":
        y = rng.poisson(mu).astype(float)
    elif fam.name == "nbinomial":
        g = np.exp(aux[0])
        if fam.dispersion == "mean":
            r, p = 1.0 / g, 1.0 / (1.0 + g * mu)
        else:
            r, p = mu / g, 1.0 / (1.0 + g)
        y = rng.negative_binomial(r, p).astype(float)
    elif fam.name == "gaussian":
        y = mu + np.exp(aux[0]) * rng.standard_normal(n)
    elif fam.name == "gamma":
        k = np.exp(-2.0 * aux[0])
        y = rng.gamma(k, mu / k)
        y = np.maximum(y, 1e-300)
    else:  # pragma: no cover
        raise AssertionError(fam.name)
    return eta, aux, y
