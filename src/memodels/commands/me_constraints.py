"""``constraints()``, ``covariance(fixed(matname))`` and ``covariance(pattern(matname))`` for
the me commands: from the user's constraints and matrices to linear constraints on
Stata's estimation metric ([ME] meglm, Options; [ME] me, Remarks, "Mixed-effects models",
items 13-16, and example 6).

Python API (Stata's ``constraint define`` and ``matrix`` live outside the command)::

    meglm("or || trial: std, nocons constraints(1)", df,
          constraints={1: "_b[var(std[trial]):_cons] = 1"})
    meglm("or || _all: tr1-tr9, nocons cov(fixed(f))", df, matrices={"f": np.diag(v)})

``constraints=`` is a mapping number -> constraint (``constraints(numlist)`` in the
command picks from it; without it all apply), a list of constraints or one constraint.

Constraints are written in the reported parameters (e(b) names: ``urban``,
``var(_cons[id])``, ``cov(x,_cons[id])``, ``/lnalpha``, ``var(e.y)``) and, as in Stata,
applied in the estimation metric: a linear constraint on coefficients and ancillary
parameters as written; a variance fixed at v becomes ln sd = ln(v)/2, var(a) = k var(b)
becomes ln sd(a) - ln sd(b) = ln(k)/2; a covariance fixed at 0 or equal to another
covariance constrains the atanh correlations (equal covariances as equal correlations).
Other constraints on variance components are not linear in that metric and are refused.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..covariance.matrices import MatrixRestrictions, matrix_structure
from ..design.types import Design
from ..errors import OptionError
from ..glmm.constraints import EstimationConstraints
from ..lmm.terms import engine_terms
from ..results.glmm import variance_parameters
from ..syntax.constraints import NameResolver, parse_constraint, select_constraints

Row = tuple[dict[int, float], float]  # {estimation-metric index: coefficient}, rhs


def apply_matrices(design: Design, matrices: Mapping[str, Any] | None
                   ) -> tuple[Design, dict[int, MatrixRestrictions]]:
    """Replace ``fixed()``/``pattern()`` equations by their base structure; return the
    restrictions by design-term index."""
    found: dict[int, MatrixRestrictions] = {}
    terms = list(design.terms)
    for i, t in enumerate(terms):
        if t.covariance not in ("fixed", "pattern"):
            continue
        if not t.covariance_matrix:
            raise OptionError(f"covariance({t.covariance}()) requires a matrix name")
        q = t.Z.shape[1] if t.Z is not None else 0
        res = matrix_structure(t.covariance, t.covariance_matrix, matrices, q)
        found[i] = res
        terms[i] = dataclasses.replace(t, covariance=res.base if q > 1 else "identity")
    if not found:
        return design, found
    return dataclasses.replace(design, terms=terms), found


class ParameterMap:
    """e(b) names of a model before it is fitted, with their kind (``coef``: linear in the
    estimation metric; ``var``: ln sd; ``cov``: atanh corr) and estimation-metric index."""

    def __init__(self, design: Design, aux_names: tuple[str, ...], gaussian: bool) -> None:
        self.kind: dict[str, tuple[str, int]] = {}
        names = design.kept_names
        for k, nm in enumerate(names):
            self.kind[nm] = ("coef", k)
        nb = len(names)
        for k, nm in enumerate(aux_names):
            if gaussian and k == 0:
                self.kind[f"var(e.{design.depvar})"] = ("var", nb + k)
            else:
                self.kind[nm if nm.startswith("/") else f"/{nm}"] = ("coef", nb + k)
        self.n_before = nb + len(aux_names)
        eterms = engine_terms(design.terms)
        self.structures = [t.structure for t in eterms]
        self.sources = [t.source for t in eterms]
        self.offsets: dict[int, int] = {}
        pos = self.n_before
        for t in eterms:
            self.offsets[t.source] = pos
            pos += t.structure.n_theta
        self.size = pos
        for nm, part, idx in variance_parameters(design, self.structures, self.sources,
                                                 self.n_before):
            self.kind.setdefault(nm, (part, idx))
        self.depvar = design.depvar

    def display(self, name: str) -> str:
        """Stata's spelling in a constraint report: [depvar]x, [var(x[id])]_cons."""
        kind = self.kind[name][0]
        if kind == "coef" and not name.startswith("/"):
            return f"[{self.depvar}]{name}"
        if name.startswith("/"):
            return f"[{name[1:]}]_cons"
        return f"[{_stata_equation(name)}]_cons"


def _stata_equation(name: str) -> str:
    """``cov(a,b[id])`` -> ``cov(a[id],b[id])`` (Stata's equation name)."""
    if name.startswith("cov(") and "[" in name:
        pair, path = name[4:-2].split("[", 1)
        a, b = pair.split(",", 1)
        return f"cov({a}[{path}],{b}[{path}])"
    return name


def _num(x: float) -> str:
    text = f"{x:.8g}"
    return text.replace("0.", ".", 1) if text.startswith(("0.", "-0.")) else text


def constraint_text(coef: dict[str, float], rhs: float, pmap: ParameterMap) -> str:
    parts = []
    for k, (nm, c) in enumerate(coef.items()):
        sign = "-" if c < 0 else "+"
        body = pmap.display(nm) if abs(c) == 1 else f"{_num(abs(c))}*{pmap.display(nm)}"
        parts.append(("- " if sign == "-" else "") + body if k == 0 else f"{sign} {body}")
    return f"{' '.join(parts)} = {_num(rhs)}"


def _estimation_rows(coef: dict[str, float], rhs: float, pmap: ParameterMap,
                     text: str) -> list[Row]:
    """A constraint in reported parameters as constraints in the estimation metric."""
    kinds = {pmap.kind[nm][0] for nm in coef}
    merged: dict[int, float] = {}
    for nm, c in coef.items():
        idx = pmap.kind[nm][1]
        merged[idx] = merged.get(idx, 0.0) + c
    merged = {i: c for i, c in merged.items() if abs(c) > 1e-14}
    if kinds == {"coef"}:
        return [(merged, rhs)] if merged else _trivial(rhs, text)
    if len(kinds) > 1:
        raise OptionError(f"constraint {text!r} mixes {' and '.join(sorted(kinds))} "
                          "parameters; constraints on variance components may involve only "
                          "variances, or only covariances")
    kind = kinds.pop()
    if not merged:
        return _trivial(rhs, text)
    items = list(merged.items())
    if kind == "var":
        if len(items) == 1:
            (i, c), = items
            if not rhs / c > 0:
                raise OptionError(f"constraint {text!r}: a variance must be positive")
            return [({i: 1.0}, 0.5 * float(np.log(rhs / c)))]
        if len(items) == 2 and rhs == 0 and items[0][1] * items[1][1] < 0:
            (i, a), (j, b) = items
            return [({i: 1.0, j: -1.0}, 0.5 * float(np.log(-b / a)))]
        raise OptionError(f"constraint {text!r} is not supported: a variance may be fixed at "
                          "a value or made proportional to another variance (constraints "
                          "apply to the log standard deviations)")
    if len(items) == 1 and rhs == 0:
        return [({items[0][0]: 1.0}, 0.0)]
    if len(items) == 2 and rhs == 0 and items[0][1] == -items[1][1]:
        return [({items[0][0]: 1.0, items[1][0]: -1.0}, 0.0)]
    raise OptionError(f"constraint {text!r} is not supported: a covariance may be fixed at 0 "
                      "or made equal to another covariance (constraints apply to the atanh "
                      "correlations)")


def _trivial(rhs: float, text: str) -> list[Row]:
    if abs(rhs) > 1e-12:
        raise OptionError(f"constraint {text!r} cannot hold (it reduces to 0 = {rhs:g})")
    return []


def _matrix_rows(design: Design, pmap: ParameterMap, found: dict[int, MatrixRestrictions]
                 ) -> tuple[list[Row], list[str]]:
    rows: list[Row] = []
    texts: list[str] = []
    lookup = {idx: nm for nm, (kind, idx) in pmap.kind.items() if kind in ("var", "cov")}
    for ti, res in found.items():
        if ti not in pmap.offsets:
            continue
        base = pmap.offsets[ti]
        st = pmap.structures[pmap.sources.index(ti)]
        index: dict[tuple[int, int], int] = {}
        for k, (_kind, i, j) in enumerate(st.phi_names()):
            index[(i, j)] = base + k
        for (i, j), v in res.fixed.items():
            if i == j:
                val = 0.5 * float(np.log(v))
            else:
                val = float(np.arctanh(v / np.sqrt(res.fixed[(i, i)] * res.fixed[(j, j)])))
            if (i, j) not in index:  # identity base of a single effect
                index[(i, j)] = base
            rows.append(({index[(i, j)]: 1.0}, val))
            texts.append(f"{pmap.display(lookup[index[(i, j)]])} = {_num(v)}")
        for group in res.ties:
            first = index[group[0]]
            for other in group[1:]:
                rows.append(({first: 1.0, index[other]: -1.0}, 0.0))
                texts.append(f"{pmap.display(lookup[first])} - "
                             f"{pmap.display(lookup[index[other]])} = 0")
    return rows, texts


def build_constraints(design: Design, found: dict[int, MatrixRestrictions],
                      aux_names: tuple[str, ...], gaussian: bool, definitions: Any,
                      opts: Mapping[str, Any]) -> EstimationConstraints | None:
    """Every constraint of the fit (matrices first, then ``constraints(numlist)`` of
    ``opts``) as R e = r."""
    numbers = opts.get("constraints")
    pmap = ParameterMap(design, aux_names, gaussian)
    rows, texts = _matrix_rows(design, pmap, found)
    if definitions is not None or numbers is not None:
        resolver = NameResolver(pmap.kind, design.depvar)
        for text in select_constraints(definitions, numbers):
            for coef, rhs in parse_constraint(text, resolver):
                rows += _estimation_rows(coef, rhs, pmap, text)
                texts.append(constraint_text(coef, rhs, pmap))
    if not rows:
        return None
    R = np.zeros((len(rows), pmap.size))
    r = np.zeros(len(rows))
    for k, (coef, rhs) in enumerate(rows):
        for idx, c in coef.items():
            R[k, idx] += c
        r[k] = rhs
    return EstimationConstraints(R, r, texts)


def engine_kwargs(cons: EstimationConstraints | None) -> dict[str, Any]:
    """``constraints=`` for :func:`memodels.glmm.fit.fit_glmm` when there are any."""
    return {} if cons is None else {"constraints": cons}


def pop_python_options(options: dict[str, Any]) -> tuple[dict[str, Any], Any, Any]:
    """(remaining options, ``matrices=``, constraint definitions): ``constraints=`` given
    as definitions (a mapping, a list, or a constraint text) is taken out; a numlist
    (``constraints="1 2"``) stays an option, as ``constraints(1 2)`` in the command."""
    out = dict(options)
    matrices = out.pop("matrices", None)
    definitions = None
    value = out.get("constraints")
    if value is not None and not (isinstance(value, (str, int)) and _is_numlist(str(value))):
        definitions = out.pop("constraints")
    return out, matrices, definitions


def _is_numlist(text: str) -> bool:
    import re

    return bool(re.fullmatch(r"\s*\d+(?:[/-]\d+)?(?:[\s,]+\d+(?:[/-]\d+)?)*\s*", text))
