"""``fit``: run a whole Stata command line by dispatching to the command's function."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ..errors import (
    BoundaryWarning,
    ConvergenceWarning,
    DataError,
    EstimationError,
    StataSyntaxError,
)
from ..glmm.honesty import NOT_CONCAVE, PERFECT
from ..output.iterlog import in_stata_context
from ..syntax import split_command
from .me_binary import mecloglog, melogit, meprobit
from .me_count import menbreg, mepoisson
from .me_ordinal import meologit, meoprobit
from .meglm import meglm
from .meqr import meqrlogit, meqrpoisson
from .mestreg import mestreg
from .mixed import mixed

COMMANDS: dict[str, Callable[..., Any]] = {
    "mixed": mixed,
    "meglm": meglm,
    "melogit": melogit,
    "meprobit": meprobit,
    "mecloglog": mecloglog,
    "mepoisson": mepoisson,
    "menbreg": menbreg,
    "meqrlogit": meqrlogit,
    "meqrpoisson": meqrpoisson,
    "meologit": meologit,
    "meoprobit": meoprobit,
    "mestreg": mestreg,
}


def fit(cmdline: str, data: pd.DataFrame, **options: Any):
    """Run a whole Stata estimation command line.

    Parameters
    ----------
    cmdline : str
        The command and its arguments, e.g. ``"mixed weight week || id:, reml"``: any of
        mixed, meglm, melogit, meprobit, mecloglog, meologit, meoprobit, mepoisson,
        menbreg, mestreg, meqrlogit, meqrpoisson (and Stata's abbreviations).
    data : pandas.DataFrame
        The data (never modified).
    **options
        Options as keywords (``nolog=True``, ``reml=True``...), merged over the text.

    From Python the fit is quiet unless the line has ``log`` or ``log=True`` is given
    (the iteration log always goes to the ``logging`` logger ``"memodels"``); see
    :mod:`memodels.output.iterlog`.

    Returns
    -------
    results
        The command's results object (as :func:`memodels.mixed` and the others return).

    Examples
    --------
    >>> import memodels
    >>> pig = memodels.datasets.load("pig")
    >>> res = memodels.fit("mixed weight week || id:", pig, nolog=True)
    >>> res.command, round(res.llf, 4)
    ('mixed', -1014.9268)
    """
    if not isinstance(cmdline, str):
        raise StataSyntaxError(f"the command line must be a string (got "
                               f"{type(cmdline).__name__})")
    check_data(data)
    command, rest = split_command(cmdline)
    func = COMMANDS.get(command)
    if func is None:
        known = ", ".join(sorted(COMMANDS))
        raise StataSyntaxError(f"command '{command}' is not available yet (available: {known})")
    try:
        res = func(rest, data, **options)
    except NUMERICAL_FAILURES as exc:
        raise numerical_failure(command, exc) from exc
    announce(res)
    return res


def check_data(data: Any) -> None:
    """The data must be a data frame (an object with columns): ``fit(cmd, None)``, a
    dict or a NumPy array is a clear error, not an AttributeError from deep inside."""
    if not hasattr(data, "columns"):
        raise DataError(f"data must be a pandas DataFrame (got {type(data).__name__}); "
                        "e.g. pandas.DataFrame(...) or memodels.datasets.load(name)")


# what the estimation engines raise when a model cannot be computed on these data (a
# singular information matrix, a variance or residual variance at exactly zero, an
# overflow): reported as an EstimationError naming the command, never as numpy's error
NUMERICAL_FAILURES: tuple[type[BaseException], ...] = (
    np.linalg.LinAlgError, ZeroDivisionError, FloatingPointError, OverflowError)


def guarded(command: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """``func`` (an estimation command's function, e.g. :func:`memodels.mixed`) with the
    numerical failures of its engine reported as :func:`numerical_failure` errors."""

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        if len(args) > 1 or "data" in kwargs:
            check_data(args[1] if len(args) > 1 else kwargs["data"])
        try:
            res = func(*args, **kwargs)
        except NUMERICAL_FAILURES as exc:
            raise numerical_failure(command, exc) from exc
        announce(res)
        return res

    return run


# messages of ``res.warnings`` the engines already raise as ConvergenceWarning when they
# arise (memodels.lmm.fit, memodels.glmm.fit, memodels.glmm.honesty)
_RAISED_BY_ENGINE = ("convergence not achieved", NOT_CONCAVE, PERFECT)


def announce(res: Any) -> None:
    """Raise the results' problems (``res.warnings``: a variance component at the
    boundary, a Hessian that is not negative semidefinite, ...) as
    :class:`memodels.errors.ConvergenceWarning` (:class:`memodels.errors.BoundaryWarning`
    for a variance at 0), for a Python caller; those the engine
    raised already are not repeated.  Inside a session (Stata syntax) the notes under
    the table are the report, as in Stata."""
    if in_stata_context():
        return
    for text in getattr(res, "warnings", None) or []:
        if text in _RAISED_BY_ENGINE or "is below the fixed-effects model's" in text:
            continue
        category = BoundaryWarning if "at the boundary" in text else ConvergenceWarning
        warnings.warn(f"{getattr(res, 'command', 'estimation')}: {text}", category,
                      stacklevel=3)


def numerical_failure(command: str, exc: BaseException) -> EstimationError:
    """The error for a fit that failed numerically (Stata's r(430) family of messages)."""
    err = EstimationError(
        f"{command}: the model could not be computed on these data ({type(exc).__name__}: "
        f"{exc}); it may not be identified -- too few observations for its parameters, "
        "perfect prediction of the outcome, or a variance component at zero")
    err.rc = 430  # type: ignore[attr-defined]
    return err
