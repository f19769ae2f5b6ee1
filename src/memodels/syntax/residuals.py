"""The ``residuals(rspec)`` option of ``mixed`` ([ME] mixed, Options, manual lines
14487-14515)::

    residuals(restype [, by(varname) t(varname)])

``restype`` is ``independent``, ``exchangeable``, ``ar #`` (default 1), ``ma #``
(default 1), ``unstructured``, ``banded #`` (default p-1), ``toeplitz #`` (default:
maximum lag) or ``exponential``.  ``t()`` is required for every type except
``independent`` and ``exchangeable``.

:func:`parse_residuals` returns a :class:`ResidualSpec` with variable names resolved;
:meth:`ResidualSpec.to_text` gives the canonical option text stored in
``ModelSpec.options["residuals"]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from memodels.errors import OptionError
from memodels.syntax.options import OptionTable, abbrev_choice, iter_option_items, option_arg
from memodels.syntax.varlist import resolve_single

RESIDUAL_TYPES = {
    "independent": 3,
    "exchangeable": 3,
    "ar": 2,
    "ma": 2,
    "unstructured": 2,
    "banded": 3,
    "toeplitz": 3,
    "exponential": 3,
}
_ORDERED = ("ar", "ma", "banded", "toeplitz")
_NEEDS_T = ("ar", "ma", "unstructured", "banded", "toeplitz", "exponential")

RESIDUAL_SUBOPTIONS = OptionTable([option_arg("by"), option_arg("t")], "residual_options")


@dataclass(frozen=True)
class ResidualSpec:
    """A parsed ``residuals()`` option.  ``order`` is the ``#`` of ``ar``/``ma``/
    ``banded``/``toeplitz`` (``ar``/``ma`` default to 1; ``banded``/``toeplitz``
    default to None, meaning "determined from the data")."""

    type: str = "independent"
    order: int | None = None
    t: str | None = None
    by: str | None = None

    def to_text(self) -> str:
        head = self.type if self.order is None else f"{self.type} {self.order}"
        subs = []
        if self.by:
            subs.append(f"by({self.by})")
        if self.t:
            subs.append(f"t({self.t})")
        return head + (", " + " ".join(subs) if subs else "")

    @property
    def variables(self) -> tuple[str, ...]:
        return tuple(v for v in (self.t, self.by) if v)


def parse_residuals(text: str, columns: Sequence[str] | None = None) -> ResidualSpec:
    """Parse ``restype [#] [, by(varname) t(varname)]``.

    >>> parse_residuals("ar 2, t(time)", ["time"])
    ResidualSpec(type='ar', order=2, t='time', by=None)
    """
    head, _, tail = text.partition(",")
    parts = head.split()
    if not parts:
        raise OptionError("residuals() requires a residual type")
    rtype = abbrev_choice(parts[0], RESIDUAL_TYPES, "residual type")
    order: int | None = None
    if len(parts) > 2:
        raise OptionError(f"residuals({text.strip()}) invalid")
    if len(parts) == 2:
        if rtype not in _ORDERED:
            raise OptionError(f"residual type {rtype} takes no order ({parts[1]!r})")
        try:
            order = int(parts[1])
        except ValueError as exc:
            raise OptionError(f"invalid residual order {parts[1]!r}") from exc
    elif rtype in ("ar", "ma"):
        order = 1
    t = by = None
    for name, arg in iter_option_items(tail):
        d = RESIDUAL_SUBOPTIONS.lookup(name)
        if not arg:
            raise OptionError(f"residuals() suboption {name}() requires a variable")
        var = resolve_single(arg, columns) if columns is not None else arg
        if d.name == "t":
            t = var
        else:
            by = var
    if rtype in _NEEDS_T and t is None:
        raise OptionError(f"residuals({rtype}) requires t(varname)")
    return ResidualSpec(rtype, order, t, by)
