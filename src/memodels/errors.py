"""Exceptions raised for bad input; each message names the offending token, variable or option."""


class MemodelsError(ValueError):
    """Base class for user-facing errors (bad syntax, bad data, bad options)."""


class StataSyntaxError(MemodelsError):
    """A command line or formula that cannot be parsed; the message quotes the token."""


class VariableNotFoundError(StataSyntaxError):
    """A variable name (or abbreviation / wildcard) that matches no column."""


class OptionError(StataSyntaxError):
    """An unknown, ambiguous, misplaced or malformed option."""


class DataError(MemodelsError):
    """Data that cannot be used as asked: string outcome, empty sample, bad weights..."""


class EstimationError(MemodelsError):
    """The fit cannot start: e.g. "initial values not feasible" (Stata's r(1400))."""


class MemodelsWarning(UserWarning):
    """Base class of the warnings memodels raises (``warnings.simplefilter("error",
    memodels.MemodelsWarning)`` turns them all into errors)."""


class ConvergenceWarning(MemodelsWarning):
    """The optimizer stopped without meeting its convergence criteria, the Hessian at the
    estimates is not negative definite, or a variance component is at the boundary of
    its parameter space; the same messages are kept in the results' ``warnings`` list."""


class BoundaryWarning(ConvergenceWarning):
    """A variance component estimated at the boundary of its parameter space (0): the
    estimates may be a maximum, but the usual standard errors and tests do not apply
    there ([ME] me, Remarks: "a variance component is at the boundary")."""
