"""The me commands' starting-value options, from the command line to the engine's
:class:`~memodels.glmm.start.StartSpec` ([ME] meglm, Options: ``startvalues()``,
``startgrid()``, ``noestimate``, ``from()``; Remarks: Obtaining better starting values).

``from()`` takes what Stata's does, by name: a list ``from(urban=.5 _cons=-1.7
lnsd(_cons[district])=-.6)``, a labeled vector (a pandas Series, a mapping, or a fitted
result, whose :attr:`estmetric` is its e(b) in the estimation metric), or the name of a
matrix passed with ``matrices=`` (or stored in a :class:`~memodels.session.Session` with
``matrix b = e(b)``).  Names are those of ``res.estmetric`` (coefficients, ``/lnalpha``,
``/cut1``, ``lnsd(x[level])``, ``atanh(x,y[level])``) or of ``res.params`` (reported
metric: ``var(x[level])``, ``cov(x,y[level])``, ``var(e.y)``), with or without an
equation prefix (``c_use:urban``).  A covariance is turned into a correlation with the
variances given in the same ``from()`` (1 when they are not).  A name that is not a
parameter of the model is an error unless ``skip`` is given (``from(b, skip)``), as in
[R] maximize.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from ..errors import OptionError
from ..glmm.start import DEFAULT_GRID, SV_METHODS, GridSearch, GridTarget, StartSpec
from ..results.fixed_rows import fixed_rows
from ..results.glmm import _blocks, estmetric_names, variance_parameters

_SV_ABBREV = {"zero": 1, "constantonly": 5, "fixedonly": 5, "iv": 2}


def start_method(text: Any) -> str:
    """``startvalues(zero|constantonly|fixedonly|iv)`` with Stata's abbreviations."""
    word = str(text or "fixedonly").strip().lower()
    for name in SV_METHODS:
        if len(word) >= _SV_ABBREV[name] and name.startswith(word):
            return name
    raise OptionError(f"startvalues({word}) invalid; svmethod is zero, constantonly, "
                      "fixedonly or iv")


def parameter_names(design, terms, family) -> tuple[list[str], dict[str, tuple[str, int]]]:
    """The estimation-metric names of the model to be fitted, and the reported-metric
    names mapped to ("var" | "cov" | "resid", estimation-metric position)."""
    kept = [r.name for r in fixed_rows(design, np.zeros(design.X.shape[1]))
            if r.status == "ok"]
    aux = [n if n.startswith("/") else f"/{n}" for n in family.aux_names]
    structures = [t.structure for t in terms]
    sources = [t.source for t in terms]
    blocks = _blocks(design, SimpleNamespace(structures=structures, term_sources=sources))
    est = kept + aux + estmetric_names(blocks)
    n_before = len(kept) + len(aux)
    reported = {name: (kind, idx) for name, kind, idx in
                variance_parameters(design, structures, sources, n_before)}
    if getattr(family, "name", "") == "gaussian":
        reported[f"var(e.{design.depvar})"] = ("resid", len(kept))
    return est, reported


def _split_skip(text: str) -> tuple[str, bool]:
    """``b, skip`` -> ("b", True): the last comma outside parentheses starts suboptions."""
    depth, cut = 0, None
    for k, ch in enumerate(text):
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            cut = k
    if cut is None:
        return text.strip(), False
    subs = text[cut + 1 :].strip().lower()
    if subs not in ("skip", "copy", ""):
        raise OptionError(f"from(): suboption {subs} not allowed (skip is)")
    return text[:cut].strip(), subs == "skip"


def _labelled(value: Any, matrices: Mapping[str, Any] | None) -> tuple[dict[str, float], bool]:
    """``from()`` as {name: value} and the skip flag."""
    skip = False
    if isinstance(value, tuple) and len(value) == 2 and value[1] in ("skip", True):
        value, skip = value[0], True
    if hasattr(value, "estmetric"):
        value = value.estmetric
    if isinstance(value, pd.Series):
        return {str(k): float(v) for k, v in value.items()}, skip
    if isinstance(value, Mapping):
        return {str(k): float(v) for k, v in value.items()}, skip
    if isinstance(value, str):
        text, skip = _split_skip(value)
        if "=" not in text:
            name = text.strip()
            if matrices is None or name not in matrices:
                raise OptionError(f"from({name}): matrix {name} not found (pass it with "
                                  "matrices=, or give name=value pairs)")
            inner, _ = _labelled(matrices[name], None)
            return inner, skip
        out: dict[str, float] = {}
        for token in re.split(r"\s+", text.strip()):
            if "=" not in token:
                raise OptionError(f"from(): '{token}' is not name=value")
            name, _, num = token.rpartition("=")
            try:
                out[name] = float(num)
            except ValueError:
                raise OptionError(f"from(): '{num}' is not a number (in {token})") from None
        return out, skip
    raise OptionError("from() takes name=value pairs, a labeled vector (pandas Series or "
                      "mapping) or a fitted result; a list of values alone is not allowed")


def from_values(value: Any, matrices, design, terms, family) -> dict[int, float]:
    """Estimation-metric position -> value for ``from()``."""
    given, skip = _labelled(value, matrices)
    est, reported = parameter_names(design, terms, family)
    index = {n: k for k, n in enumerate(est)}
    given = {_canonical(k, index, reported): v for k, v in given.items()}
    out: dict[int, float] = {}
    covs: list[tuple[str, int, float]] = []
    unknown = []
    for raw, val in given.items():
        name = raw if (raw in index or raw in reported) else raw.split(":", 1)[-1]
        if name in index:
            out[index[name]] = val
        elif name in reported:
            kind, pos = reported[name]
            if kind in ("var", "resid"):
                if not val > 0:
                    raise OptionError(f"from(): {raw} = {val} is not a positive variance")
                out[pos] = 0.5 * math.log(val)
            else:
                covs.append((name, pos, val))
        else:
            unknown.append(raw)
    for name, pos, val in covs:
        sds = _pair_sds(name, given)
        corr = val / (sds[0] * sds[1])
        if not -1 < corr < 1:
            raise OptionError(f"from(): {name} = {val} implies a correlation of {corr:.3g}")
        out[pos] = math.atanh(corr)
    if unknown and not skip:
        raise OptionError("from(): " + ", ".join(unknown) + (" is not a parameter" if len(
            unknown) == 1 else " are not parameters") + " of the model (add skip to ignore)")
    return out


def _canonical(raw: str, index: Mapping[str, int], reported: Mapping[str, Any]) -> str:
    """A ``from()`` name as the model names it: Stata's e(b) stripes
    ``var(_cons[id]):_cons`` and ``cut1:_cons`` (``matrix b = e(b)``) are the parameters
    ``var(_cons[id])`` and ``/cut1``; ``depvar:x`` is ``x``."""
    if raw in index or raw in reported:
        return raw
    eq, sep, col = raw.partition(":")
    if sep and col == "_cons":
        for cand in (eq, "/" + eq):
            if cand in index or cand in reported:
                return cand
    return raw


def _pair_sds(cov_name: str, given: Mapping[str, float]) -> tuple[float, float]:
    """Standard deviations of ``cov(a,b[level])``'s two effects from the same ``from()``
    (1 when their variances are not given)."""
    inner = cov_name[4:-1]  # a,b[level]
    pair, _, level = inner.partition("[")
    a, b = pair.split(",", 1)
    out = []
    for eff in (a, b):
        var = given.get(f"var({eff}[{level})")
        out.append(math.sqrt(var) if var and var > 0 else 1.0)
    return out[0], out[1]


def grid_searches(value: Any, design, terms, family) -> tuple[GridSearch, ...]:
    """``startgrid`` / ``startgrid(numlist covspec)`` (one or several, as a list)."""
    if value in (None, False, ""):
        return ()
    specs = value if isinstance(value, (list, tuple)) else [value]
    return tuple(_one_grid(s, design, terms, family) for s in specs)


def _one_grid(text: Any, design, terms, family) -> GridSearch:
    if text is True or str(text).strip() == "":
        return GridSearch()
    values: list[float] = []
    names: list[str] = []
    for tok in str(text).split():
        try:
            values.append(float(tok))
        except ValueError:
            names.append(tok)
    targets = tuple(_target(n, design, terms, family) for n in names)
    return GridSearch(tuple(values) or DEFAULT_GRID, targets)


def _target(name: str, design, terms, family) -> GridTarget:
    """``_cons[id]`` (a variance), ``_cons[id]*week[id]`` (a covariance) or ``e.depvar``
    (the Gaussian residual variance)."""
    if name.startswith("e."):
        if getattr(family, "name", "") != "gaussian" or name[2:] != design.depvar:
            raise OptionError(f"startgrid(): {name} is not the residual variance of this "
                              "model")
        return GridTarget("resid", -1)
    structures = [t.structure for t in terms]
    blocks = _blocks(design, SimpleNamespace(structures=structures,
                                             term_sources=[t.source for t in terms]))

    def locate(part: str) -> tuple[int, int, str]:
        m = re.fullmatch(r"(.+)\[(.+)\]", part)
        if m:
            for n, blk in enumerate(blocks):
                if blk.path == m.group(2) or blk.path.split(">")[-1] == m.group(2):
                    if m.group(1) in blk.names:
                        return n, blk.names.index(m.group(1)), blk.path
        raise OptionError(f"startgrid(): {part} is not a random effect of the model "
                          "(write name[level], e.g. _cons[id])")

    parts = name.split("*")
    if len(parts) == 1:
        n, i, _ = locate(parts[0])
        return GridTarget("var", n, i, i)
    if len(parts) != 2:
        raise OptionError(f"startgrid(): {name} is not a variance or a covariance")
    (n1, i, p1), (n2, j, _) = locate(parts[0]), locate(parts[1])
    if n1 != n2:
        raise OptionError(f"startgrid(): {name}: the two effects are not in one covariance "
                          f"block (level {p1})")
    return GridTarget("cov", n1, i, j)


def start_spec(opts: dict[str, Any], from_value: Any, matrices, design, terms, family
               ) -> StartSpec:
    """The :class:`StartSpec` of a command's options."""
    method = start_method(opts.get("startvalues"))
    source = from_value if from_value is not None else opts.get("from")
    empty = source is None or (isinstance(source, str) and not source.strip())
    values = {} if empty else from_values(source, matrices, design, terms, family)
    grids = grid_searches(opts.get("startgrid"), design, terms, family)
    return StartSpec(method=method, values=values, grids=grids)
