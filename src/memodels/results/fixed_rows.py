"""Fixed-effects rows of the coefficient table, with Stata's base/omitted markers."""

from __future__ import annotations

import numpy as np

from ..design.types import Design
from .rows import ParamRow


def is_factor_column(name: str) -> bool:
    """True for indicator columns (``2.stage``, ``1.sex#c.age``), false for ``c.x#c.x``."""
    return any(part.split(".")[0].replace("b", "").replace("o", "").isdigit()
               for part in name.split("#") if "." in part)


def fixed_rows(design: Design, beta: np.ndarray) -> list[ParamRow]:
    rows: list[ParamRow] = []
    pos = 0
    for col in design.columns:
        factor = is_factor_column(col.name)
        block = col.term if factor else ""
        label = (col.level_labels or col.name) if factor else col.name
        row = ParamRow(name=col.name, section="fixed", label=label, block=block,
                       status=col.status)
        if col.status == "ok":
            row.estimate = float(beta[pos])
            pos += 1
        else:
            row.estimate = 0.0
        rows.append(row)
    return rows
