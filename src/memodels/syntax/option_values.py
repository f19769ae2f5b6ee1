"""Variable names inside option values, resolved against the data's columns ([ME] mixed
and [ME] meglm, Syntax: offset(), exposure(), binomial(), family(binomial varname),
residuals(..., t() by()), vce(cluster varname)).  Below both front ends: the Stata-syntax
parser and the lme4 formula parser.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from memodels.syntax.residuals import parse_residuals
from memodels.syntax.varlist import resolve_single


def finish_options(
    options: dict[str, Any], columns: Sequence[str], extra: list[str]
) -> dict[str, Any]:
    """Resolve the variable names inside option values: ``offset()``, ``exposure()``,
    ``binomial()`` (a variable or a number), ``family(binomial varname)``, the
    ``residuals(..., t()/by())`` variables and ``vce(cluster varname)`` ([ME] mixed and
    [ME] meglm, Syntax).  Returns a copy of ``options`` with the names resolved against
    ``columns`` (unique abbreviations allowed) and appends each name used to ``extra``
    (so the estimation sample can require it non-missing).  Shared by the Stata-syntax
    parser (:mod:`memodels.syntax.parse`) and the lme4 formula front end
    (:mod:`memodels.syntax.formula`).
    """
    out = dict(options)
    for key in ("offset", "exposure"):
        if key in out:
            name = resolve_single(str(out[key]).strip(), columns)
            out[key] = name
            extra.append(name)
    if "binomial" in out:
        val = str(out["binomial"]).strip()
        try:
            out["binomial"] = int(val) if float(val).is_integer() else float(val)
        except ValueError:
            name = resolve_single(val, columns)
            out["binomial"] = name
            extra.append(name)
    if "family" in out:
        parts = str(out["family"]).split()
        if parts[0] == "binomial" and len(parts) > 1:
            try:
                float(parts[1])
            except ValueError:
                name = resolve_single(parts[1], columns)
                parts[1] = name
                extra.append(name)
            out["family"] = " ".join(parts)
    if "residuals" in out:
        rs = parse_residuals(str(out["residuals"]), columns)
        out["residuals"] = rs.to_text()
        extra.extend(rs.variables)
    if "vce" in out and str(out["vce"]).startswith("cluster "):
        name = resolve_single(str(out["vce"]).split()[1], columns)
        out["vce"] = f"cluster {name}"
        extra.append(name)
    return out
