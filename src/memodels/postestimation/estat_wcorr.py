"""``estat wcorrelation`` after ``mixed`` ([ME] mixed postestimation, Syntax L16786-16800,
Options, Stored results L17498-17510): the model-implied within-cluster covariance
V = Z G Z' + R of one top-level cluster, shown as standard deviations and correlations
(or the covariance matrix) in ``matlist`` style with ``format()`` (default ``%6.3f``), and
r(sd), r(Corr), r(Cov), r(G), r(Z), r(R)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.linalg import block_diag

from ..errors import OptionError
from .residual_cov import has_structure, residual_covariance
from .tables import TextDict as _TextDict


def estat_wcorrelation(res, at: dict | None = None, data: pd.DataFrame | None = None,
                       covariance: bool = False, format: str | None = None,  # noqa: A002
                       all: bool = False, nosort: bool = False,  # noqa: A002
                       **options: Any):
    """Model-implied marginal covariance of one top-level cluster (mixed).

    ``at={"id": 258}`` picks the cluster (nested: ``{"school": 33, "classroom": 4}``)
    and needs ``data`` holding the estimation sample's rows; by default the cluster of
    the first observation in the estimation sample.  ``all=True``: the whole estimation
    sample (block diagonal across clusters).  ``format="%4.2g"`` is the display format
    of the standard deviations and the matrix (default ``%6.3f``).  ``list=True`` adds
    the data of those observations (level variables, dependent variable, random-effects
    design variables, residual t() and by() variables; needs ``data``).  The
    observations are sorted by the level variables (top level first), the by() and the
    t() variables unless ``nosort=True`` (then they keep the data's order).  Returns a
    dict with ``sd`` (Series), ``corr`` and ``cov`` (DataFrames indexed by the
    observations' index); ``.r`` holds Stata's r(sd), r(Corr), r(Cov), r(G), r(Z), r(R)
    ([ME] mixed postestimation, Options for estat wcorrelation and Stored results).
    """
    from ..results.mixed import MixedResults
    from ..syntax.options import check_wcorr_format

    show_list = bool(options.pop("list", False) or options.pop("list_", False))
    if options:
        raise OptionError(f"estat wcorrelation: option(s) {', '.join(options)} not allowed "
                          "(the options are at(), all, covariance, list, nosort, format())")
    if not isinstance(res, MixedResults):
        raise NotImplementedError("estat wcorrelation is available after mixed only")
    if all and at:
        raise OptionError("estat wcorrelation: options all and at() may not be combined")
    fmt_text = check_wcorr_format("%6.3f" if format is None else format)
    design, fit = res.design, res.fit
    if fit.terms:
        top = design.terms[fit.terms[0].source]
    elif has_structure(fit) and design.terms:  # || id:, noconstant residuals(...)
        top = design.terms[0]
    else:
        raise OptionError("estat wcorrelation: the model has no random effects")
    idx = design.index
    if show_list and data is None:
        raise OptionError("estat wcorrelation, list: pass data= (the estimation data)")
    if all:
        members = np.arange(idx.size)
    elif at:
        if data is None:
            raise OptionError("estat wcorrelation, at(): pass data= (the estimation data) to "
                              "identify the cluster by its identifiers")
        sub = data.loc[idx]
        mask = np.ones(idx.size, bool)
        for var, val in at.items():
            if var not in sub.columns:
                raise OptionError(f"at({var}=...): variable {var} not found")
            mask &= (sub[var].to_numpy() == val)
        if not mask.any():
            raise OptionError(f"at({at}): no observations in the estimation sample")
        members = np.flatnonzero(mask)
    else:
        first = 0
        members = np.flatnonzero(top.groups == top.groups[first])
    if not nosort:
        members = _sorted(members, design, fit, data)
    R = residual_covariance(fit, members)  # sigma_e^2 R_j of residuals(), by(), ...
    z_blocks, g_blocks = [], []
    for et, sig in zip(fit.terms, fit.sigmas, strict=True):
        g = et.groups[members]
        z = et.Z[members]
        for u in np.unique(g):  # one block of Z and G per group of this level
            z_blocks.append(z * (g == u)[:, None])
            g_blocks.append(np.asarray(sig, float))
    # no random effects (|| id:, noconstant residuals(...)): V is the residual part alone
    Z = np.hstack(z_blocks) if z_blocks else np.zeros((members.size, 0))
    G = block_diag(*g_blocks) if g_blocks else np.zeros((0, 0))
    V = Z @ G @ Z.T + R
    sd = np.sqrt(np.diag(V))
    corr = V / np.outer(sd, sd)
    labels = idx[members]
    obs = [str(i + 1) for i in range(members.size)]
    r = {"sd": pd.DataFrame([sd], columns=obs, index=["sd"]),
         "Corr": pd.DataFrame(corr, index=obs, columns=obs),
         "Cov": pd.DataFrame(V, index=obs, columns=obs),
         "G": pd.DataFrame(G), "Z": pd.DataFrame(Z), "R": pd.DataFrame(R)}
    out = {
        "sd": pd.Series(sd, index=labels, name="sd"),
        "corr": pd.DataFrame(corr, index=labels, columns=labels),
        "cov": pd.DataFrame(V, index=labels, columns=labels),
        "observations": labels,
    }
    cluster = "all the data" if all else _cluster_name(top, members, labels, at, data,
                                                       design)
    if covariance:
        text = [f"Covariances for {cluster}:", ""] + _matlist(V, obs, fmt_text, lower=True)
    else:
        text = [f"Standard deviations and correlations for {cluster}:", "",
                "Standard deviations:"]
        text += _matlist(sd[None, :], obs, fmt_text, rows=["sd"])
        text += ["", "Correlations:"] + _matlist(corr, obs, fmt_text, lower=True)
    if show_list:
        listed = data.loc[labels, _list_variables(res, data)]
        out["data"] = listed
        text += ["", "Data:", ""] + _list_lines(listed)
    return _TextDict(out, "\n".join(text), r)


def _level_variables(design) -> list[str]:
    out: list[str] = []
    for t in design.terms:
        for name in str(t.level).split(">"):
            name = name.strip()
            if name and name != "_all" and name not in out:
                out.append(name)
    return out


def _resid_variables(res) -> list[str]:
    """The t() and by() variables of residuals()."""
    import re

    text = str((res.options or {}).get("residuals") or "")
    return [m.group(2) for m in re.finditer(r"\b(t|by)\(\s*([A-Za-z_]\w*)\s*\)", text)]


def _sorted(members: np.ndarray, design, fit, data: pd.DataFrame | None) -> np.ndarray:
    """Stable sort by the level variables (top first), the residual by() groups and the
    t() values ("Normally, estat wcorrelation will first sort the data according to level
    variables, by-group variables, and time variables")."""
    keys: list[np.ndarray] = []
    sub = None if data is None else data.loc[design.index[members]]
    for k, t in enumerate(design.terms):
        if t.level == "_all":
            continue
        col = str(t.level)
        if sub is not None and col in sub.columns and pd.api.types.is_numeric_dtype(sub[col]):
            keys.append(sub[col].to_numpy(float))
        else:
            keys.append(np.asarray(design.terms[k].groups)[members].astype(float))
    resid = getattr(fit, "resid", None)
    if resid is not None:
        if getattr(resid, "by", None) is not None:
            keys.append(np.asarray(resid.by)[members].astype(float))
        if getattr(resid, "t", None) is not None:
            keys.append(np.asarray(resid.t)[members].astype(float))
    if not keys:
        return members
    order = np.lexsort(tuple(reversed(keys)))  # first key most significant; stable
    return members[order]


def _list_variables(res, data: pd.DataFrame) -> list[str]:
    design = res.design
    names = _level_variables(design) + [str(res.depvar)]
    for t in design.terms:
        for nm in t.names:
            if nm != "_cons" and nm in data.columns:
                names.append(nm)
    names += _resid_variables(res)
    return [n for n in dict.fromkeys(names) if n in data.columns]


def _list_lines(frame: pd.DataFrame) -> list[str]:
    """``list``-style lines: observation numbers and the values (%9.0g)."""
    from ..syntax.formats import stata_format

    cells = {c: [v if isinstance(v, str) else stata_format(float(v), "%9.0g").strip()
                 for v in frame[c].tolist()] for c in frame.columns}
    widths = {c: max(len(str(c)), *(len(v) for v in cells[c])) for c in frame.columns}
    lead = len(f"{len(frame)}.") + 2
    lines = [" " * lead + "  " + "  ".join(f"{str(c):>{widths[c]}}" for c in frame.columns)]
    for i in range(len(frame)):
        lines.append(f"{f'{i + 1}.':>{lead}}" + "  " + "  ".join(
            f"{cells[c][i]:>{widths[c]}}" for c in frame.columns))
    return lines


def _cluster_name(top, members, labels, at, data, design) -> str:
    """``id = 1`` (Stata's wording) when the level variable's value is known."""
    if at:
        return " ".join(f"{k} = {v}" for k, v in at.items())
    if data is not None and top.level in data.columns and labels[0] in data.index:
        value = data.loc[labels[0], top.level]
        return f"{top.level} = {value}"
    return f"{top.level} cluster (obs. {labels[0]})"


def _matlist(mat: np.ndarray, names: list[str], fmt_text: str, *, lower: bool = False,
             rows: list[str] | None = None) -> list[str]:
    """``matlist``-style lines: a header of observation numbers, columns the width of the
    format, wrapped in blocks that fit in 79 columns."""
    from ..syntax.formats import parse_numeric_format, stata_format

    width = max(parse_numeric_format(fmt_text)[0], max(len(n) for n in names))
    rows = rows or names
    lead = max(5, max(len(x) for x in rows)) + 1
    per = max(1, (79 - lead - 1) // width)
    out: list[str] = []
    for start in range(0, len(names), per):
        cols = range(start, min(start + per, len(names)))
        if start:
            out.append("")
        out.append(f"{'obs':>{lead - 1}} |" + "".join(f"{names[j]:>{width}}" for j in cols))
        out.append("-" * lead + "+" + "-" * (width * len(cols)))
        for i, rn in enumerate(rows):
            if lower and i < start:
                continue
            cells = "".join(f"{stata_format(float(mat[i, j]), fmt_text):>{width}}"
                            for j in cols if not lower or j <= i)
            out.append(f"{rn:>{lead - 1}} |{cells}")
    return out
