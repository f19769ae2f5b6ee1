"""``predict, density`` and ``predict, distribution`` after the me commands
([ME] meglm postestimation, Options for predict: "density calculates the density
function ... distribution calculates the distribution function. This prediction is
computed using the current values of the observed variables, including the dependent
variable").

The density is the family's conditional density f(y | eta) of the likelihood (complete:
binomial coefficients, -log y!, lgamma terms), so that its log summed over a cluster's
observations at the cluster's random effects is the cluster's conditional log
likelihood.  The distribution function Pr(Y <= y | eta):

* gaussian Phi{(y - mu)/sigma}; gamma P(k, k y / mu) with shape k = exp(-2 /logs);
* bernoulli 1 - mu at y = 0 and 1 at y = 1; binomial sum_{s<=y} C(r, s) p^s (1-p)^(r-s);
* poisson sum_{s<=y} e^-mu mu^s / s!; nbinomial I_p(m, y + 1) (regularized incomplete
  beta), with m = 1/alpha, p = 1/(1 + alpha mu) (mean dispersion) or m = mu/delta,
  p = 1/(1 + delta) (constant dispersion);
* ordinal Pr(y <= k) = F(kappa_k - eta).

Arguments broadcast: ``y`` (the outcome as the family uses it: 0/1, counts, ordinal
category index 0..K-1) against ``eta``; NaN where y or eta is missing.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from ..families.ordinal import log_cdf


def density(family, y, eta, aux) -> np.ndarray:
    """f(y | eta) of the fitted family (``family`` bound to the rows' binomial trials)."""
    y, eta = np.broadcast_arrays(np.asarray(y, float), np.asarray(eta, float))
    ok = np.isfinite(y) & np.isfinite(eta)
    out = np.full(y.shape, np.nan)
    if ok.any():
        fam = family
        trials = getattr(family, "data", {}).get("trials")
        if trials is not None:
            t = np.broadcast_to(np.asarray(trials, float).reshape(
                (-1,) + (1,) * (y.ndim - 1)), y.shape)
            fam = family.bind(trials=t[ok])
        with np.errstate(all="ignore"):
            out[ok] = np.exp(fam.loglik(y[ok], eta[ok], aux))
    return out


def distribution(family, y, eta, aux, trials=1.0) -> np.ndarray:
    """Pr(Y <= y | eta) of the fitted family."""
    y = np.asarray(y, float)
    eta = np.asarray(eta, float)
    name = family.name
    with np.errstate(all="ignore"):
        if name == "ordinal":
            cuts = np.concatenate([np.atleast_1d(np.asarray(aux, float)), [np.inf]])
            k = np.where(np.isfinite(y), y, 0).astype(np.intp)
            out = np.exp(log_cdf(family.link.name, cuts[k] - eta))
            return np.where(np.isfinite(y), out, np.nan)
        mu = family.link.inverse(eta)
        if name == "gaussian":
            sigma = float(np.exp(np.asarray(aux, float)[0]))
            return special.ndtr((y - mu) / sigma)
        if name == "bernoulli":
            return np.where(np.isnan(y), np.nan, np.where(y == 0, 1 - mu, 1.0))
        if name == "binomial":
            r = np.asarray(trials, float)
            return special.bdtr(np.floor(y), r, mu)
        if name == "poisson":
            return special.pdtr(np.floor(y), mu)
        if name == "nbinomial":
            g = float(np.exp(np.asarray(aux, float)[0]))
            if family.dispersion == "mean":
                m, p = 1.0 / g, 1.0 / (1.0 + g * mu)
            else:
                m, p = mu / g, 1.0 / (1.0 + g)
            return special.betainc(m, np.floor(y) + 1.0, p)
        if name == "gamma":
            k = float(np.exp(-2.0 * np.asarray(aux, float)[0]))
            return special.gammainc(k, k * y / mu)
    raise NotImplementedError(f"predict, distribution is not implemented for family {name}")


__all__ = ["density", "distribution"]
