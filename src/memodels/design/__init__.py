"""Design layer: a :class:`~memodels.spec.ModelSpec` plus data -> numeric arrays.

:func:`build_design` returns a :class:`Design` holding the estimation sample's outcome,
fixed-effects matrix (with Stata's coefficient names, base/omitted/empty statuses),
random-effects terms, group table, weights and option variables.
"""

from .build import build_design
from .types import Design, FixedColumn, LevelInfo, RandomTerm

__all__ = ["Design", "FixedColumn", "LevelInfo", "RandomTerm", "build_design"]
