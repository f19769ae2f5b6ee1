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
                       **options: Any):
    """Model-implied marginal covariance of one top-level cluster (mixed).

    ``at={"id": 258}`` picks the cluster (nested: ``{"school": 33, "classroom": 4}``)
    and needs ``data`` holding the estimation sample's rows; by default the cluster of
    the first observation in the estimation sample.  ``format="%4.2g"`` is the display
    format of the standard deviations and the matrix (default ``%6.3f``).  Returns a
    dict with ``sd`` (Series), ``corr`` and ``cov`` (DataFrames indexed by the
    observations' index); ``.r`` holds Stata's r(sd), r(Corr), r(Cov), r(G), r(Z), r(R)
    ([ME] mixed postestimation, Stored results).
    """
    from ..results.mixed import MixedResults
    from ..syntax.options import check_wcorr_format

    if options:
        raise OptionError(f"estat wcorrelation: option(s) {', '.join(options)} not allowed")
    if not isinstance(res, MixedResults):
        raise NotImplementedError("estat wcorrelation is available after mixed only")
    fmt_text = check_wcorr_format("%6.3f" if format is None else format)
    design, fit = res.design, res.fit
    if fit.terms:
        top = design.terms[fit.terms[0].source]
    elif has_structure(fit) and design.terms:  # || id:, noconstant residuals(...)
        top = design.terms[0]
    else:
        raise OptionError("estat wcorrelation: the model has no random effects")
    idx = design.index
    if at:
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
    cluster = _cluster_name(top, members, labels, at, data, design)
    if covariance:
        text = [f"Covariances for {cluster}:", ""] + _matlist(V, obs, fmt_text, lower=True)
    else:
        text = [f"Standard deviations and correlations for {cluster}:", "",
                "Standard deviations:"]
        text += _matlist(sd[None, :], obs, fmt_text, rows=["sd"])
        text += ["", "Correlations:"] + _matlist(corr, obs, fmt_text, lower=True)
    return _TextDict(out, "\n".join(text), r)


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
