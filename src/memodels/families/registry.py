"""meglm's family() and link() options ([ME] meglm, Syntax and Options, L2543-2557,
L2629-2644): names, abbreviations, defaults and the allowed combinations.

    family       identity  log  logit  probit  cloglog
    gaussian        D       x
    bernoulli                      D      x       x
    binomial                       D      x       x
    gamma                   D
    nbinomial               D
    ordinal                        D      x       x
    poisson                 D

"the default is the canonical link for the family() specified except for the gamma and
negative binomial families" (log for both).
"""

from __future__ import annotations

import numpy as np

from ..errors import OptionError
from .base import Family
from .bernoulli import Bernoulli
from .binomial import Binomial
from .gamma import Gamma
from .gaussian import Gaussian
from .links import LINKS, resolve_link_name
from .nbinomial import NegativeBinomial
from .ordinal import Ordinal
from .poisson import Poisson

ALLOWED_LINKS: dict[str, tuple[str, ...]] = {
    # first entry is the default link
    "gaussian": ("identity", "log"),
    "bernoulli": ("logit", "probit", "cloglog"),
    "binomial": ("logit", "probit", "cloglog"),
    "gamma": ("log",),
    "nbinomial": ("log",),
    "ordinal": ("logit", "probit", "cloglog"),
    "poisson": ("log",),
}

DEFAULT_LINK = {fam: links[0] for fam, links in ALLOWED_LINKS.items()}

# minimum abbreviations, as memodels.syntax.options.normalize_family
_FAMILY_ABBREV = {
    "gaussian": 1, "bernoulli": 2, "binomial": 2, "gamma": 2, "nbinomial": 2,
    "ordinal": 1, "poisson": 1,
}
_DISPERSION_ABBREV = {"mean": 1, "constant": 1}


def _choose(value: str, table: dict[str, int], what: str, allowed: str) -> str:
    v = value.strip().lower()
    if v in table:
        return v
    found = [c for c, k in table.items() if v and c.startswith(v) and len(v) >= k]
    if len(found) == 1:
        return found[0]
    raise OptionError(f"{what}({value.strip()}) invalid: {what} must be one of {allowed}")


def resolve_family_name(name: str) -> str:
    return _choose(name, _FAMILY_ABBREV, "family",
                   "gaussian, bernoulli, binomial, gamma, nbinomial, ordinal, poisson")


def make_family(family: str = "gaussian", link: str | None = None, **options) -> Family:
    """The :class:`Family` for meglm's ``family(family) link(link)``.

    ``family`` may carry its argument as in Stata: ``"binomial 5"``, ``"binomial n"``
    (a trials variable, bound later with ``.bind(trials=...)``), ``"nbinomial constant"``.
    Options: ``trials`` (a number, or a per-observation array that is bound at once) for
    the binomial; ``dispersion`` (``"mean"``/``"constant"``) for the negative binomial.
    Raises :class:`~memodels.errors.OptionError` for unknown names and for combinations
    the manual's table refuses.
    """
    parts = str(family).split()
    if not parts:
        raise OptionError("family() requires a family name")
    fam = resolve_family_name(parts[0])
    args = parts[1:]
    lname = DEFAULT_LINK[fam] if link is None or not str(link).strip() else resolve_link_name(link)
    if lname not in ALLOWED_LINKS[fam]:
        allowed = ", ".join(ALLOWED_LINKS[fam])
        raise OptionError(
            f"family {fam} with link {lname} is not allowed; family {fam} allows link "
            f"{allowed}"
        )
    lk = LINKS[lname]
    if fam == "ordinal":
        # the cutpoints (ancillary parameters /cut1 ...) are set by Ordinal.validate(y)
        if args:
            raise OptionError(f"family(ordinal {' '.join(args)}) invalid: ordinal takes no "
                              "argument")
        if options:
            raise OptionError("family ordinal takes neither trials nor dispersion options")
        return Ordinal(link=lk)

    unknown = set(options) - {"trials", "dispersion"}
    if unknown:
        raise OptionError(f"make_family: unknown option(s) {', '.join(sorted(unknown))}")

    if fam in ("gaussian", "bernoulli", "gamma", "poisson"):
        if args:
            raise OptionError(f"family({fam} {' '.join(args)}) invalid: {fam} takes no argument")
        if "trials" in options or "dispersion" in options:
            raise OptionError(f"family {fam} takes neither trials nor dispersion options")
        cls = {"gaussian": Gaussian, "bernoulli": Bernoulli, "gamma": Gamma,
               "poisson": Poisson}[fam]
        return cls(link=lk)

    if fam == "binomial":
        if "dispersion" in options:
            raise OptionError("family binomial takes no dispersion option")
        if len(args) > 1:
            raise OptionError(f"family(binomial {' '.join(args)}) invalid: one # or varname")
        trials = options.get("trials")
        if args and trials is not None:
            raise OptionError("binomial trials given both in family() and as trials=")
        if args:
            try:
                trials = float(args[0])
            except ValueError:
                return Binomial(link=lk, trials_var=args[0])
        if trials is None:
            return Binomial(link=lk)
        t = np.asarray(trials, dtype=float)
        if t.ndim == 0:
            if not np.isfinite(t) or t < 1 or t != np.round(t):
                raise OptionError(
                    f"family(binomial {trials}) invalid: the number of trials must be a "
                    "positive integer"
                )
            return Binomial(link=lk, trials=float(t))
        return Binomial(link=lk, trials_var="trials").bind(trials=t)

    # nbinomial
    if "trials" in options:
        raise OptionError("family nbinomial takes no trials option")
    if len(args) > 1:
        raise OptionError(f"family(nbinomial {' '.join(args)}) invalid: mean or constant")
    disp = options.get("dispersion")
    if args and disp is not None:
        raise OptionError("nbinomial dispersion given both in family() and as dispersion=")
    disp = args[0] if args else (disp or "mean")
    disp = _choose(disp, _DISPERSION_ABBREV, "nbinomial dispersion", "mean, constant")
    return NegativeBinomial(link=lk, dispersion=disp)


__all__ = ["make_family", "ALLOWED_LINKS", "DEFAULT_LINK", "resolve_family_name"]
