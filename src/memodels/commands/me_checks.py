"""Outcome checks of the me commands, before anything is fitted.

A model whose outcome carries no information about the parameters has no maximum: an
all-0 or all-1 binary outcome sends the constant to -/+infinity, an all-zero count to
-infinity, a survival sample without failures sends the hazard to 0.  Stata stops such
fits before estimation ([R] logit, Model identification: "outcome does not vary;
remember: 0 = negative outcome, all other nonmissing values = positive outcome", r(2000));
so do the me commands here, with a :class:`memodels.errors.DataError` naming the outcome.

For the Bernoulli family the outcome is 1 where it is nonzero (and nonmissing) and 0
where it is zero ([ME] melogit, Syntax: "depvar ... 0 = failure, nonzero = success"), so a
1/2-coded outcome is all successes and does not vary.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, StataSyntaxError

BINARY_REMINDER = ("remember: 0 = negative outcome, all other nonmissing values = "
                   "positive outcome")


def check_inputs(command: str, spec: Any, data: Any) -> None:
    """The Python-level arguments of an me command: a specification string and a pandas
    DataFrame (anything else is refused with a message, not an AttributeError)."""
    if not isinstance(spec, str):
        raise StataSyntaxError(f"{command}: the model specification must be a string "
                               f"(got {type(spec).__name__})")
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"{command}: data must be a pandas DataFrame (got "
                        f"{type(data).__name__})")
    if data.columns.has_duplicates:
        dup = sorted({str(c) for c in data.columns[data.columns.duplicated()]})
        err = DataError(f"{command}: variable {dup[0]} defined more than once: the data "
                        f"have duplicated column names: {', '.join(dup)}")
        err.rc = 110  # type: ignore[attr-defined]
        raise err


def check_sample_size(n: int) -> None:
    """Stata's r(2000) for no observations, r(2001) for one (nothing can be estimated
    from a single observation: the outcome cannot vary)."""
    if n == 0:
        raise DataError("no observations (r(2000))")
    if n < 2:
        raise DataError(f"insufficient observations: {n} observation in the estimation "
                        "sample (r(2001))")


def check_outcome(fam: str, family, y: np.ndarray, depvar: str) -> None:
    """Refuse an outcome that does not vary in the way ``fam`` needs (``y`` as the family
    validated it: 0/1 for bernoulli, successes for binomial, counts for poisson and
    nbinomial).  Ordinal outcomes are checked by the family (at least two categories)."""
    y = np.asarray(y, dtype=float)
    check_sample_size(int(y.size))
    if fam == "bernoulli":
        if np.all(y == y[0]):
            raise DataError(f"outcome {depvar} does not vary; {BINARY_REMINDER} (r(2000))")
    elif fam == "binomial":
        r = np.asarray(family._r(y.shape), dtype=float)
        if np.all(y == 0):
            raise DataError(f"outcome {depvar} does not vary: 0 successes in every "
                            "observation")
        if np.all(y == r):
            raise DataError(f"outcome {depvar} does not vary: every trial is a success "
                            "in every observation")
    elif fam in ("poisson", "nbinomial"):
        if np.all(y == 0):
            raise DataError(f"outcome {depvar} is zero for all observations: the constant "
                            "of a count model has no finite estimate, so the model cannot "
                            "be estimated")
    elif fam in ("gaussian", "gamma"):
        if np.all(y == y[0]):
            raise DataError(f"outcome {depvar} does not vary: the {fam} scale parameter has "
                            "no finite estimate")


def check_failures(d: np.ndarray) -> None:
    """mestreg: a sample without failures (``_d`` = 0 everywhere) has no finite hazard
    estimate (its likelihood increases without bound as the hazard goes to 0)."""
    d = np.asarray(d, dtype=float)
    check_sample_size(int(d.size))
    if not np.any(d != 0):
        raise DataError("no failures in the estimation sample (_d = 0 in every "
                        "observation): the survival model cannot be estimated")


__all__ = ["check_inputs", "check_outcome", "check_failures", "check_sample_size",
           "BINARY_REMINDER"]
