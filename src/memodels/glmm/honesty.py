"""When a GLMM fit may be called converged ([R] maximize: convergence is declared at a
maximum): besides the stopping rule, the Hessian at the estimates must be negative
definite (unless a variance component is at its boundary, which the results flag), and
for outcomes with probabilities (discrete families) a log likelihood of 0 means the
outcome is predicted perfectly -- the maximum is not attained (separation, or an
outcome that does not vary) and the estimates are where the iterations stopped.
"""

from __future__ import annotations

import warnings

from ..errors import ConvergenceWarning

DISCRETE = {"bernoulli", "binomial", "poisson", "nbinomial", "ordinal"}
PERFECT_LL = -1e-5  # a log likelihood above this: every outcome predicted perfectly

NOT_CONCAVE = ("Hessian is not negative definite at the estimates: they are not a "
               "maximum (convergence not achieved)")
PERFECT = ("log likelihood is 0: the outcome is predicted perfectly (separation or no "
           "variation); the maximum likelihood estimates do not exist")


def verdict(converged: bool, hessian_ok: bool, boundary: list[bool], llf: float,
            family, unbounded: tuple[str, ...] | list[str] = ()) -> tuple[bool, list[str]]:
    """(converged, messages to show under the table); warns ConvergenceWarning for each
    reason a converged-looking fit is not one.  ``unbounded``: messages of directions along
    which the log likelihood keeps increasing (:mod:`memodels.glmm.divergence`)."""
    notes: list[str] = list(unbounded)
    if notes:
        converged = False
    if converged and not hessian_ok and not any(boundary):
        converged = False
        notes.append(NOT_CONCAVE)
    if getattr(family, "name", "") in DISCRETE and llf > PERFECT_LL:
        converged = False
        notes.append(PERFECT)
    for text in notes:
        warnings.warn(text, ConvergenceWarning, stacklevel=5)
    return converged, notes
