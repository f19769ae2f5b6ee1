"""Links of [ME] meglm: identity, log, logit, probit, cloglog.

Inverse links as in [ME] meglm postestimation, Methods and formulas (manual L4213-4218):
identity eta; logit 1/{1+exp(-eta)}; probit Phi(eta); log exp(eta); cloglog
1-exp{-exp(eta)}.  Every inverse and its first two derivatives is computed in a form that
is finite and accurate for large |eta| (logit via expit, probit via ndtr and the normal
density, cloglog via -expm1(-exp(eta))).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from ..errors import OptionError
from .base import Link

_LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)


def exp_clipped(eta) -> np.ndarray:
    """exp(eta) with eta capped at 700 (exp(700) ~ 1e304): finite where only exp(-exp(eta))
    or ratios of it matter."""
    return np.exp(np.minimum(np.asarray(eta, dtype=float), 700.0))


def norm_pdf(x: np.ndarray) -> np.ndarray:
    return np.exp(-0.5 * np.square(x) - _LOG_SQRT_2PI)


@dataclass(frozen=True)
class IdentityLink(Link):
    name: str = "identity"

    def inverse(self, eta):
        return np.asarray(eta, dtype=float) * 1.0

    def inverse_d1(self, eta):
        return np.ones_like(np.asarray(eta, dtype=float))

    def inverse_d2(self, eta):
        return np.zeros_like(np.asarray(eta, dtype=float))

    def link(self, mu):
        return np.asarray(mu, dtype=float) * 1.0


@dataclass(frozen=True)
class LogLink(Link):
    name: str = "log"

    def inverse(self, eta):
        return np.exp(eta)

    inverse_d1 = inverse
    inverse_d2 = inverse

    def link(self, mu):
        return np.log(mu)


@dataclass(frozen=True)
class LogitLink(Link):
    name: str = "logit"

    def inverse(self, eta):
        return special.expit(eta)

    def inverse_d1(self, eta):
        return special.expit(eta) * special.expit(-np.asarray(eta, dtype=float))

    def inverse_d2(self, eta):
        eta = np.asarray(eta, dtype=float)
        p, q = special.expit(eta), special.expit(-eta)
        return p * q * (q - p)

    def link(self, mu):
        return special.logit(mu)


@dataclass(frozen=True)
class ProbitLink(Link):
    name: str = "probit"

    def inverse(self, eta):
        return special.ndtr(eta)

    def inverse_d1(self, eta):
        return norm_pdf(np.asarray(eta, dtype=float))

    def inverse_d2(self, eta):
        eta = np.asarray(eta, dtype=float)
        return -eta * norm_pdf(eta)

    def link(self, mu):
        return special.ndtri(mu)


@dataclass(frozen=True)
class CloglogLink(Link):
    name: str = "cloglog"

    def inverse(self, eta):
        return -np.expm1(-exp_clipped(eta))

    def inverse_d1(self, eta):
        eta = np.asarray(eta, dtype=float)
        # exp(eta) exp(-exp(eta)) = exp(eta - exp(eta)), no overflow
        return np.exp(eta - exp_clipped(eta))

    def inverse_d2(self, eta):
        eta = np.asarray(eta, dtype=float)
        m = exp_clipped(eta)
        return np.exp(eta - m) * (1.0 - m)

    def link(self, mu):
        return np.log(-np.log1p(-np.asarray(mu, dtype=float)))


LINKS = {
    "identity": IdentityLink(),
    "log": LogLink(),
    "logit": LogitLink(),
    "probit": ProbitLink(),
    "cloglog": CloglogLink(),
}

# minimum abbreviations, as memodels.syntax.options (Stata: iden, log, logi, p, c)
_LINK_ABBREV = {"identity": 2, "log": 3, "logit": 4, "probit": 1, "cloglog": 1}


def resolve_link_name(name: str) -> str:
    v = str(name).strip().lower()
    if v in _LINK_ABBREV:
        return v
    found = [c for c, k in _LINK_ABBREV.items() if c.startswith(v) and v and len(v) >= k]
    if len(found) == 1:
        return found[0]
    raise OptionError(
        f"link({name}) invalid: link must be one of identity, log, logit, probit, cloglog"
    )


def link(name: str) -> Link:
    """The link called ``name`` (Stata's names and abbreviations)."""
    return LINKS[resolve_link_name(name)]


__all__ = [
    "IdentityLink", "LogLink", "LogitLink", "ProbitLink", "CloglogLink", "LINKS", "link",
    "resolve_link_name", "norm_pdf", "exp_clipped",
]
