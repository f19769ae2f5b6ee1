"""Frozen model specification: what the user asked for, before any data is touched.

The syntax layer (:mod:`memodels.syntax`) turns a Stata command line or an lme4-style
formula into a :class:`ModelSpec`; the design layer (:mod:`memodels.design`) turns a
``ModelSpec`` plus a DataFrame into numeric arrays.  Nothing here imports numpy.

Stata's grammar for the multilevel commands ([ME] mixed, Syntax)::

    cmd depvar fe_equation [|| re_equation] [|| re_equation ...] [, options]
    fe_equation: [indepvars] [if] [in] [weight] [, fe_options]
    re_equation: levelvar: [varlist] [, re_options]
                 levelvar: R.varname [, re_options]

Variable names in a ``ModelSpec`` are already *resolved* against the data's columns
(wildcards and ranges expanded), so every name here is a real column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class LevelBase:
    """A factor's base level named by its value or label (an lme4 formula's
    ``C(f, Treatment(reference="b"))``): matched against the level values, then labels."""

    value: str | int | float


# Base-level choice for a factor variable ``i.`` operator (Stata's ``ib#.``, ``ib(first).``,
# ``ib(last).``, ``ib(freq).``, ``ibn.``).  An int means that level value is the base.
Base = int | float | Literal["first", "last", "freq", "none"] | LevelBase


@dataclass(frozen=True)
class Derived:
    """A column computed from the data by a formula transform (``log(x)``, ``I(x**2)``,
    ``scale(x)``, ``np.log(x)``, ``offset(...)``'s expression, ``cbind``'s trials).

    ``expression`` is the transform as the formula library reads it; ``columns`` the
    names of the columns it gives (usually one).  The design layer evaluates it on the
    data (never modifying it) and keeps the transform's state (``scale``'s mean and
    standard deviation) so that predictions on other data use the estimation values.
    """

    expression: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class FactorVar:
    """One variable inside a fixed-effects term, with its factor-variable operator.

    ``kind`` is ``"i"`` for a categorical (indicator) variable and ``"c"`` for a
    continuous one.  ``explicit`` records whether the user wrote ``c.`` (it changes
    Stata's display names only for interactions: ``c.age#c.age``).
    ``levels`` restricts the indicators to the listed level values (``i(2 3).x``).
    """

    name: str
    kind: Literal["i", "c"] = "c"
    base: Base = "first"
    levels: tuple[float, ...] | None = None
    explicit: bool = False


@dataclass(frozen=True)
class FixedTerm:
    """A fixed-effects term: one variable, or an interaction ``a#b#...`` of several.

    ``a##b`` is expanded by the parser into the terms ``a``, ``b`` and ``a#b``.
    """

    factors: tuple[FactorVar, ...]

    @property
    def is_interaction(self) -> bool:
        return len(self.factors) > 1


@dataclass(frozen=True)
class Weight:
    """A weight expression: ``[fw=exp]``, ``[pw=exp]``, ``[iw=exp]``, ``[aw=exp]``,
    or a level weight ``fweight(exp)`` / ``pweight(exp)`` inside an re_equation.

    ``kind`` is one of ``"fweight"``, ``"pweight"``, ``"iweight"``, ``"aweight"``.
    ``expression`` is Stata expression text (usually a variable name, maybe ``w1/w2``).
    """

    kind: Literal["fweight", "pweight", "iweight", "aweight"]
    expression: str


@dataclass(frozen=True)
class REEquation:
    """One random-effects equation ``levelvar: [varlist] [, re_options]``.

    ``level`` is the level variable name or ``"_all"``.  ``variables`` are the random
    coefficients' covariates in the order written (a constant is added last unless
    ``noconstant``).  With ``R.varname`` notation, ``rfactor`` holds the variable name,
    ``variables`` is empty and ``noconstant`` is True (as Stata implies).

    ``covariance`` is the normalized structure name (``"independent"``,
    ``"exchangeable"``, ``"identity"``, ``"unstructured"``, or for the me commands
    ``"fixed"``/``"pattern"`` with ``covariance_matrix`` naming the matrix) or None
    when the user gave none (the command's default then applies).

    ``nested`` is True for Stata equations (each level is nested in the levels to its
    left).  lme4 formulas produce ``nested=False`` for grouping factors that are not
    declared nested: their groups are the factor's own values (crossed effects).
    """

    level: str
    variables: tuple[str, ...] = ()
    rfactor: str | None = None
    noconstant: bool = False
    covariance: str | None = None
    covariance_matrix: str | None = None
    collinear: bool = False
    weight: Weight | None = None
    nested: bool = True
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def has_constant(self) -> bool:
        return self.rfactor is None and not self.noconstant


@dataclass(frozen=True)
class InRange:
    """Stata's ``in f/l`` (1-based, inclusive; negative counts from the end; ``f``/``l``
    stand for first/last).  ``last`` None means a single observation ``in #``."""

    first: int
    last: int | None


@dataclass(frozen=True)
class ModelSpec:
    """A parsed and resolved estimation command.

    ``if_expr`` is the parsed ``if`` expression (an AST from
    :mod:`memodels.syntax.expressions`, evaluated by the design layer) and
    ``if_text`` its source text, kept for display.  ``options`` holds the global
    options with canonical (unabbreviated) names: flags map to True, options with
    arguments to their argument text (or parsed values where the command's option
    table says so).
    """

    command: str
    depvar: str
    fixed: tuple[FixedTerm, ...] = ()
    noconstant: bool = False
    equations: tuple[REEquation, ...] = ()
    if_expr: Any = None
    if_text: str | None = None
    in_range: InRange | None = None
    weight: Weight | None = None
    options: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    extra_vars: tuple[str, ...] = ()  # variables named in options (offset, exposure, t(), by()...)
    # lme4 formulas: columns computed from the data (log(x), I(x**2), ...)
    derived: tuple[Derived, ...] = ()

    def with_options(self, **changes: Any) -> ModelSpec:
        """A copy with global options added or replaced."""
        from dataclasses import replace

        merged = dict(self.options)
        merged.update(changes)
        return replace(self, options=merged)
