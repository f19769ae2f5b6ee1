"""Small builders for hand-written ModelSpec objects (no parser needed)."""

from __future__ import annotations

from memodels.spec import FactorVar, FixedTerm, ModelSpec, REEquation
from support import REFERENCE  # noqa: F401  (re-exported for the design tests)


def c(name: str, explicit: bool = False) -> FactorVar:
    return FactorVar(name, "c", explicit=explicit)


def i(name: str, base="first", levels=None) -> FactorVar:
    return FactorVar(name, "i", base=base, levels=levels)


def t(*factors) -> FixedTerm:
    return FixedTerm(tuple(factors))


def plain(*names: str) -> tuple[FixedTerm, ...]:
    return tuple(t(c(n)) for n in names)


def factorial(a: FactorVar, b: FactorVar) -> tuple[FixedTerm, ...]:
    """``a##b`` as the parser expands it."""
    return (t(a), t(b), t(a, b))


def spec(depvar: str, fixed=(), equations=(), **kw) -> ModelSpec:
    eqs = tuple(REEquation(e) if isinstance(e, str) else e for e in equations)
    return ModelSpec("mixed", depvar, fixed=tuple(fixed), equations=eqs, **kw)


def names(design, status: str | None = None) -> list[str]:
    return [col.name for col in design.columns if status is None or col.status == status]


def statuses(design) -> dict[str, str]:
    return {col.name: col.status for col in design.columns}
