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
        # Stata prints interaction cells as "2 4" (levels separated by spaces)
        label = (col.level_labels or col.name).replace("#", " ") if factor else col.name
        row = ParamRow(name=col.name, section="fixed", label=label, block=block,
                       status=col.status)
        if col.status == "ok":
            row.estimate = float(beta[pos])
            pos += 1
        else:
            row.estimate = 0.0
        rows.append(row)
    _collapse_single_row_terms(rows)
    return rows


def _collapse_single_row_terms(rows: list[ParamRow]) -> None:
    """Stata prints a factor term with one displayed level as ``2.program`` on one line,
    and terms with several levels under a header (``day`` then ``4``, ``6``, ...); a level
    with a value label keeps its header (``familyhx`` then ``yes``)."""
    shown: dict[str, list[ParamRow]] = {}
    for r in rows:
        if r.block and r.status in ("ok", "omitted"):
            shown.setdefault(r.block, []).append(r)
    for members in shown.values():
        if len(members) == 1 and members[0].label == _level_values(members[0].name):
            members[0].block = ""
            members[0].label = members[0].name


def _level_values(name: str) -> str:
    """The level values of an indicator column as a row label: ``2.a#4.b`` -> ``2 4``."""
    return " ".join(part.split(".")[0].rstrip("bon") for part in name.split("#")
                    if "." in part and not part.startswith("c."))
