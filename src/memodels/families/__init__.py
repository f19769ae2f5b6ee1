"""Response families and links of [ME] meglm (see :mod:`.base` for the interface)."""

from .base import Family, Link
from .bernoulli import Bernoulli
from .binomial import Binomial
from .gamma import Gamma
from .gaussian import Gaussian
from .links import LINKS, link
from .nbinomial import NegativeBinomial
from .poisson import Poisson
from .registry import ALLOWED_LINKS, DEFAULT_LINK, make_family

__all__ = [
    "Family", "Link", "Bernoulli", "Binomial", "Gamma", "Gaussian", "NegativeBinomial",
    "Poisson", "LINKS", "link", "make_family", "ALLOWED_LINKS", "DEFAULT_LINK",
]
