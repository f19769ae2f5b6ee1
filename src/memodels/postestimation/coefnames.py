"""Stata's names of the estimated coefficients, for ``test``, ``testnl``, ``lincom`` and
``nlcom`` ([R] test, [U] 13.5 Accessing coefficients and standard errors).

A coefficient is written ``_b[name]``, ``_b[eq:name]``, ``[eq]name``, ``_b[/eq]``
(``= _b[eq:_cons]``) or, for a fixed effect, its bare name.  The equations are those of
Stata's e(b):

* ``mixed`` (and ``meqrlogit``/``meqrpoisson``) estimate in the metric of [ME] mixed,
  Methods and formulas: log standard deviations ``lns1_1_1``, atanh correlations
  ``atr1_1_1_2`` and ``lnsig_e``; ``lns{l}_{e}_{k}`` is the k-th effect of the e-th
  random-effects equation at the l-th level (levels counted from the top), and
  ``atr{l}_{e}_{i}_{j}`` the correlation of its effects i and j.  Those parameters are
  the results' ``estmetric`` vector (``lnsd(_cons[id])``, ``atanh(week,_cons[id])``).
* the me commands store variances and covariances and the ancillary parameters in e(b):
  ``_b[var(_cons[id]):_cons]`` (Stata 14), ``_b[/var(_cons[id])]`` (later releases),
  ``_b[cov(week[id],_cons[id]):_cons]``, ``_b[/cut1]``, ``[lnalpha]_cons``,
  ``_b[var(e.weight):_cons]`` -- the results' ``params`` names.

The reported names of ``params`` (``var(_cons[id])``, ``var(e)``) are accepted after
every command.  An expression is evaluated in one parameter space: the reported one, or
-- when it names an estimation-metric equation such as ``lns1_1_1`` -- the estimation
one; combining both kinds of name is refused.  An unknown name or equation is refused
with an error naming it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..errors import OptionError
from ..syntax.constraints import closing_bracket, split_ref

_BASE = re.compile(r"(\d+)[bno]+\.")
_WORD = re.compile(r"[A-Za-z0-9_.#]+")
_PLACEHOLDER = "__b"


@dataclass
class Space:
    """One parameter vector with its covariance matrix."""

    kind: str  # "reported" or "estimation"
    names: list[str]
    b: np.ndarray
    V: np.ndarray

    def index(self, key: str) -> int:
        return self.names.index(key)


def _norm(text: str) -> str:
    return _BASE.sub(r"\1.", text.replace(" ", ""))


def _estimation_blocks(res) -> list[tuple[str, object, tuple[str, ...]]] | None:
    """(path, covariance structure, effect names) of every random-effects equation in
    the order of the estimation-metric vector, for mixed and meqr fits."""
    fit = getattr(res, "fit", None)
    design = getattr(res, "design", None)
    if fit is None or design is None:
        return None
    if res.command == "mixed" and hasattr(fit, "terms"):
        pairs = [(et.source, et.structure) for et in fit.terms]
    elif str(res.command).startswith("meqr") and hasattr(fit, "structures"):
        pairs = list(zip(fit.term_sources, fit.structures, strict=True))
    else:
        return None
    out = []
    for src, st in pairs:
        dt = design.terms[src]
        out.append((str(dt.path), st, tuple(dt.names)))
    return out


def _stata_estimation_names(res) -> dict[str, str]:
    """Stata's e(b) equation (``lns1_1_1``, ``atr1_1_1_2``, ``lnsig_e``) -> the name of
    that element in ``res.estmetric``."""
    est = getattr(res, "estmetric", None)
    blocks = _estimation_blocks(res)
    if est is None or blocks is None:
        return {}
    names = list(est.index)
    nb = sum(1 for r in res.rows if r.section == "fixed" and r.status == "ok")
    out: dict[str, str] = {}
    levels: dict[str, int] = {}
    eqs: dict[str, int] = {}
    pos = nb
    for path, st, _ in blocks:
        lev = levels.setdefault(path, len(levels) + 1)
        eqs[path] = eqs.get(path, 0) + 1
        for kind, i, j in st.phi_names():
            if pos >= len(names):
                return {}
            if kind == "lnsd":
                out[f"lns{lev}_{eqs[path]}_{i + 1}"] = names[pos]
            elif st.kind == "unstructured":  # exchangeable's name is not documented
                a, b = min(i, j), max(i, j)
                out[f"atr{lev}_{eqs[path]}_{a + 1}_{b + 1}"] = names[pos]
            pos += 1
    resid = getattr(res.fit, "resid", None)
    plain_sigma = resid is None or (getattr(resid, "by", None) is None and getattr(
        resid, "kind", "") in ("ar", "ma", "exchangeable", "exponential"))
    if "lnsig_e" in names and plain_sigma:  # residuals(): Stata's r_* names are not known
        out["lnsig_e"] = "lnsig_e"
    return out


class Coefficients:
    """Resolves Stata's spellings of the coefficients of one set of estimates."""

    def __init__(self, res) -> None:
        self.res = res
        self.depvar = str(res.depvar)
        params = res.params
        names = list(params.index)
        self.reported = Space("reported", names, params.to_numpy(float),
                              res.vcov.loc[names, names].to_numpy(float))
        self.fixed = [r.name for r in res.rows if r.section == "fixed" and r.status == "ok"]
        self.plain: dict[str, str] = {}  # bare spelling -> key
        self.equations: dict[str, dict[str, str]] = {}  # eq -> {column: key}
        self.display: dict[str, str] = {}  # key -> [eq]column
        self.stata_equations: list[str] = []  # e(b)'s estimation-metric equations
        self.unavailable: dict[str, str] = {}  # equations without a VCE (after bootstrap)
        for nm in self.fixed:
            self.plain[nm] = nm
            self.plain.setdefault(_norm(nm), nm)
            self.display[nm] = f"[{self.depvar}]{nm}"
        for nm in names:
            if nm in self.fixed:
                continue
            eq = nm[1:] if nm.startswith("/") else nm
            self._add_equation(eq, nm)
            self.plain[nm] = nm
            m = re.fullmatch(r"cov\(([^,\[]+),([^\[]+)\[(.+)\]\)", nm)
            if m:  # Stata's equation: cov(a[path],b[path])
                a, b, path = m.groups()
                self._add_equation(f"cov({a}[{path}],{b}[{path}])", nm)
        self.estimation: Space | None = None
        stata = _stata_estimation_names(res)
        self.bootstrapped = (getattr(res, "extra", None) or {}).get("vce") == "bootstrap"
        if stata and self.bootstrapped:
            self.unavailable = {eq: key for eq, key in stata.items()}
            stata = {}
        if stata:
            est = res.estmetric
            enames = list(est.index)
            V = res.estmetric_vcov.loc[enames, enames].to_numpy(float).copy()
            fixed_pos = [enames.index(f) for f in self.fixed if f in enames]
            if len(fixed_pos) == len(self.fixed):  # the posted VCE of the fixed effects
                rep = [names.index(f) for f in self.fixed]
                V[np.ix_(fixed_pos, fixed_pos)] = self.reported.V[np.ix_(rep, rep)]
                self.estimation = Space("estimation", enames, est.to_numpy(float), V)
                for eq, key in stata.items():
                    self._add_equation(eq, key, replace=True)

    def _add_equation(self, eq: str, key: str, replace: bool = False) -> None:
        if replace or eq not in self.equations:
            self.equations[eq] = {"_cons": key}
        self.equations.setdefault(eq.replace(" ", ""), {"_cons": key})
        if replace or key not in self.display:
            self.display[key] = f"[{eq}]_cons"
        if replace:
            self.stata_equations.append(eq)

    # ------------------------------------------------------------------ resolve
    def stata_names(self) -> list[str]:
        """The coefficient names as ``[eq]name`` (for error messages)."""
        out = [f"[{self.depvar}]{f}" for f in self.fixed]
        out += [f"[{eq}]_cons" for eq in self._equation_names()]
        return out

    def _equation_names(self) -> list[str]:
        """Stata's e(b) equations first, then the reported names (with their spaces)."""
        shown = {eq for key, eq in self.display.items() if key not in self.fixed}
        rest = [eq for eq in self.equations if f"[{eq}]_cons" in shown
                and eq not in self.stata_equations]
        return self.stata_equations + rest

    def _unknown(self, text: str) -> OptionError:
        shown = self.stata_names()
        more = ", ..." if len(shown) > 12 else ""
        return OptionError(f"{text} not found in the estimates; the coefficients are "
                           f"{', '.join(shown[:12])}{more}")

    def resolve(self, equation: str | None, column: str) -> str:
        """The key of the coefficient ``[equation]column`` (equation None: unqualified)."""
        col = column.strip()
        eq = None if equation is None else equation.strip()
        if eq is None and col.startswith("/"):
            eq, col = col[1:].strip(), "_cons"
        if eq is None:
            key = self.plain.get(col) or self.plain.get(_norm(col))
            if key is None:
                raise self._unknown(f"[{col}]")
            return key
        if eq == self.depvar or eq == "#1" and self.fixed:
            key = self.plain.get(col) or self.plain.get(_norm(col))
            if key is None or key not in self.fixed:
                raise self._unknown(f"[{eq}]{col}")
            return key
        if eq.startswith("/"):
            eq = eq[1:]
        table = self.equations.get(eq) or self.equations.get(eq.replace(" ", ""))
        if table is None and eq in self.unavailable:
            raise OptionError(f"[{eq}]{col}: the bootstrap VCE is of the reported "
                              "parameters; write the variance components by their "
                              f"reported names ({', '.join(self._equation_names())})")
        if table is None:
            raise self._no_equation(eq)
        key = table.get(col.replace(" ", ""))
        if key is None:
            raise self._unknown(f"[{eq}]{col}")
        return key

    def _no_equation(self, eq: str) -> OptionError:
        """Stata's r(303), "equation not found", naming the equations there are."""
        err = OptionError(f"equation [{eq}] not found; the equations are "
                          f"{', '.join([self.depvar, *self._equation_names()])}")
        err.rc = 303  # type: ignore[attr-defined]
        return err

    def equation(self, equation: str) -> list[str]:
        """Every coefficient of equation ``equation`` (``test [eq]``: all of them 0)."""
        eq = equation.strip()
        if eq == self.depvar:
            return list(self.fixed)
        table = self.equations.get(eq) or self.equations.get(eq.replace(" ", ""))
        if table is None:
            raise self._no_equation(eq)
        return list(table.values())

    def space(self, keys) -> Space:
        """The parameter space holding every key."""
        keys = list(dict.fromkeys(keys))
        if all(k in self.reported.names for k in keys):
            return self.reported
        if self.estimation is not None and all(k in self.estimation.names for k in keys):
            return self.estimation
        est_only = [k for k in keys if k not in self.reported.names]
        rep_only = [k for k in keys if self.estimation is None
                    or k not in self.estimation.names]
        a = self.display.get(est_only[0], est_only[0]) if est_only else "?"
        b = self.display.get(rep_only[0], rep_only[0]) if rep_only else "?"
        raise OptionError(f"{a} (Stata's e(b), estimation metric) and {b} (reported "
                          "metric) cannot be combined in one expression; write both in "
                          "one metric, e.g. exp(2*[lns1_1_1]_cons) for a variance")

    # ---------------------------------------------------------------- substitute
    def substitute(self, text: str) -> tuple[str, list[str]]:
        """Replace every coefficient reference in ``text`` by a placeholder ``__b0``,
        ``__b1``...; returns the new text and the keys in placeholder order."""
        keys: list[str] = []
        out: list[str] = []

        def put(key: str) -> None:
            if key not in keys:
                keys.append(key)
            out.append(f" {_PLACEHOLDER}{keys.index(key)} ")

        known = sorted(self.plain, key=len, reverse=True)
        i, n = 0, len(text)
        while i < n:
            ch = text[i]
            if text.startswith(("_b[", "_coef["), i) and (i == 0 or not _ident(text[i - 1])):
                start = text.index("[", i)
                end = closing_bracket(text, start)
                eq, col = split_ref(text[start + 1:end])
                put(self.resolve(eq, col))
                i = end + 1
                continue
            if ch == "[":
                end = closing_bracket(text, i)
                m = _WORD.match(text, end + 1)
                if not m:
                    raise OptionError(f"expected a coefficient name after "
                                      f"[{text[i + 1:end]}] in {text!r}")
                put(self.resolve(text[i + 1:end], m.group(0)))
                i = m.end()
                continue
            if ch == '"':
                raise OptionError(f"strings are not allowed in {text!r}")
            if i == 0 or not _ident(text[i - 1]):
                last = next((c for piece in reversed(out) for c in reversed(piece)
                             if not c.isspace()), "")
                after_op = last == "" or last in "(+-*/^=,"
                hit = next((k for k in known if text.startswith(k, i)
                            and (after_op or k[0] != "/")
                            and not _continues(text, i + len(k))), None)
                if hit is not None:
                    put(self.plain[hit])
                    i += len(hit)
                    continue
                m = _WORD.match(text, i)
                if m and not re.fullmatch(r"[0-9.eE]+", m.group(0)):
                    word = m.group(0)
                    key = self.plain.get(_norm(word))
                    if key is not None:
                        put(key)
                        i = m.end()
                        continue
                    nxt = text[m.end():].lstrip()[:1]
                    if word == "_pi":
                        out.append(" (3.141592653589793) ")
                        i = m.end()
                        continue
                    if re.match(r"[A-Za-z_]", word) and nxt != "(":
                        raise self._unknown(word)
                    out.append(word)
                    i = m.end()
                    continue
            out.append(ch)
            i += 1
        return "".join(out), keys


def stata_eb(res):
    """Stata's e(b) and e(V) as a labelled (Series, DataFrame), columns ``eq:name``
    ([P] matrix define; [ME] mixed, Stored results: e(b) is in the estimation metric).

    * ``mixed`` and ``meqrlogit``/``meqrpoisson``: the fixed effects ``depvar:x``, then
      ``lns1_1_1:_cons``, ``atr1_1_1_2:_cons`` ..., ``lnsig_e:_cons`` (res.estmetric; an
      element without a documented Stata name, e.g. the residual-structure parameters,
      keeps its estmetric name);
    * the me commands: the fixed effects, then variances and covariances in the
      reported metric, ``var(_cons[id]):_cons``, and the ancillary parameters
      ``cut1:_cons``, ``lnalpha:_cons`` (Stata 14's stripes).
    After bootstrap the reported (bootstrapped) vector is used."""
    import pandas as pd

    coefs = Coefficients(res)
    space = coefs.estimation if coefs.estimation is not None else coefs.reported
    cols = []
    for key in space.names:
        shown = coefs.display.get(key)
        if shown is None or not shown.startswith("["):
            cols.append(key)
            continue
        eq, _, col = shown[1:].rpartition("]")
        cols.append(f"{eq}:{col}")
    b = pd.Series(space.b.copy(), index=cols, name="y1")
    V = pd.DataFrame(space.V.copy(), index=cols, columns=cols)
    return b, V


def placeholder(k: int) -> str:
    return f"{_PLACEHOLDER}{k}"


def _ident(ch: str) -> bool:
    return ch.isalnum() or ch in "_."


def _continues(text: str, pos: int) -> bool:
    return pos < len(text) and (text[pos].isalnum() or text[pos] in "_.#")




__all__ = ["Coefficients", "Space", "closing_bracket", "placeholder", "split_ref"]
