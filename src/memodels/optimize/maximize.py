"""Stata's maximization options and stopping rules ([R] maximize), shared by the Newton
loops of ``mixed`` (:mod:`memodels.lmm.fit`) and the me commands
(:mod:`memodels.glmm.fit`).

Stopping rules ([R] maximize, Options):

* ``tolerance(#)`` (default 1e-6): the coefficient vector changed by a relative amount
  ``mreldif(b_k, b_{k-1}) = max_i |b_ki - b_(k-1)i| / (|b_(k-1)i| + 1)`` of at most ``#``;
* ``ltolerance(#)`` (default 1e-7): the log likelihood changed by a relative amount
  ``|L_k - L_{k-1}| / (|L_{k-1}| + 1)`` of at most ``#``;
* ``nrtolerance(#)`` (default 1e-5): the scaled gradient ``g (-H)^{-1} g'`` is below ``#``;
* ``nonrtolerance``: the scaled-gradient criterion is switched off.

Convergence is declared when the ``nrtolerance()`` criterion holds and either the
``tolerance()`` or the ``ltolerance()`` criterion holds (with ``nonrtolerance``: either
of the last two).  memodels also requires the Hessian to be negative definite at the
declared optimum (a maximum, not a saddle).  ``iterate(#)`` caps the number of
iterations (Stata's default 16000; memodels' engines default to 300) after which
"convergence not achieved" is reported.

The coefficient vector compared by ``tolerance()`` is the optimizer's own (for the me
commands the Cholesky-factor parameters of the random-effects covariances, for mixed
Stata's estimation metric of log standard deviations and atanh correlations).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..errors import OptionError

DEFAULT_ITERATE = 300


def mreldif(new: np.ndarray, old: np.ndarray) -> float:
    """Stata's ``mreldif(new, old)``: max |new - old| / (|old| + 1)."""
    new, old = np.asarray(new, float), np.asarray(old, float)
    if not new.size:
        return 0.0
    return float(np.max(np.abs(new - old) / (np.abs(old) + 1.0)))


def reldif(new: float, old: float) -> float:
    """Stata's ``reldif(new, old)``: |new - old| / (|old| + 1)."""
    return float(abs(new - old) / (abs(old) + 1.0))


@dataclass(frozen=True)
class Maximize:
    """The maximize_options of one fit ([R] maximize).  ``echo`` prints the extra lines of
    ``trace``, ``gradient``, ``hessian``, ``showstep`` and ``showtolerance`` (None: the
    iteration log is off)."""

    iterate: int = DEFAULT_ITERATE
    tolerance: float = 1e-6
    ltolerance: float = 1e-7
    nrtolerance: float = 1e-5
    nonrtolerance: bool = False
    difficult: bool = False
    dnumerical: bool = False
    trace: bool = False
    gradient: bool = False
    hessian: bool = False
    showstep: bool = False
    showtolerance: bool = False
    echo: Callable[[str], None] | None = None
    # internal strictness of the scaled-gradient criterion: converged when g'(-H)^{-1}g <
    # nrtolerance * nrscale (mixed: 1e-4, see memodels.commands.mixed._maximize)
    nrscale: float = 1.0
    # technique(): ((algorithm, iterations), ...) cycled; one entry runs throughout
    techniques: tuple[tuple[str, int], ...] = (("nr", 0),)

    def technique_at(self, iteration: int) -> str:
        """The algorithm of iteration ``iteration`` ([R] maximize, technique(): the
        algorithms take turns, each for its number of iterations, default 5)."""
        if len(self.techniques) == 1:
            return self.techniques[0][0]
        pos = iteration % sum(n for _, n in self.techniques)
        for name, n in self.techniques:
            if pos < n:
                return name
            pos -= n
        return self.techniques[-1][0]

    def with_echo(self, echo: Callable[[str], None] | None) -> Maximize:
        return replace(self, echo=echo)

    # ------------------------------------------------------------ stopping rule
    def criteria(self, params, prev_params, ll: float, ll_prev: float, nr: float
                 ) -> tuple[float, float, float]:
        """(mreldif of the coefficients, reldif of the log likelihood, scaled gradient);
        the first two are inf when there is nothing to compare (the first iteration)."""
        tol = np.inf if prev_params is None else mreldif(params, prev_params)
        ltol = reldif(ll, ll_prev) if np.isfinite(ll_prev) and np.isfinite(ll) else np.inf
        return tol, ltol, nr

    def converged(self, params, prev_params, ll: float, ll_prev: float, nr: float,
                  concave: bool, moved: float | None = None) -> bool:
        """Stata's rule: nrtolerance met (unless ``nonrtolerance``) and tolerance or
        ltolerance met; memodels also requires a concave (negative definite) Hessian.

        ``moved`` (the me commands' adaptive quadrature): the last change of the
        coefficients in the metric of the current Hessian, (b_k - b_(k-1))' (-H_k)
        (b_k - b_(k-1)), must also be below ``nrtolerance()``.  The adaptive parameters
        are updated between iterations, which moves the maximum being approached; the
        scaled gradient measures only the distance to the current one, so without this
        the estimates can stop up to ~1e-3 standard errors short of the fixed point the
        manual prints.  ``nonrtolerance`` drops it with the scaled gradient."""
        if not concave:
            return False
        tol, ltol, nr = self.criteria(params, prev_params, ll, ll_prev, nr)
        if not self.nonrtolerance:
            if not nr < self.nrtolerance * self.nrscale:
                return False
            if moved is not None and not moved < self.nrtolerance * self.nrscale:
                return False
        return tol <= self.tolerance or ltol <= self.ltolerance

    # ----------------------------------------------------------------- display
    @property
    def shows(self) -> bool:
        return self.echo is not None and (self.trace or self.gradient or self.hessian
                                          or self.showstep or self.showtolerance)

    def show_iteration(self, params, grad, hess, prev_params, ll, ll_prev, nr,
                       moved: float | None = None) -> None:
        """The extra iteration-log lines of trace/gradient/hessian/showtolerance, printed
        after the ``Iteration #:`` line (vectors in the optimizer's metric)."""
        if self.echo is None:
            return
        if self.trace:
            self.echo("Parameter vector:")
            self.echo(_row(params))
        if self.gradient:
            self.echo(f"Gradient vector (length = {float(np.linalg.norm(grad)):.6g}):")
            self.echo(_row(grad))
        if self.hessian:
            self.echo("Negative Hessian:")
            for row in np.atleast_2d(-np.asarray(hess)):
                self.echo(_row(row))
        if self.showtolerance:
            tol, ltol, nr = self.criteria(params, prev_params, ll, ll_prev, nr)
            tail = "" if moved is None else f", scaled step = {_g(moved)}"
            if self.nrscale != 1.0:
                tail += f"; criterion {_g(self.nrtolerance * self.nrscale)}"
            self.echo(f"  (tolerance = {_g(tol)}, ltolerance = {_g(ltol)}, "
                      f"nrtolerance = {_g(nr)}{tail})")

    def show_step(self, lam: float, ll: float) -> None:
        """``showstep``: one line per trial step length."""
        if self.echo is not None and self.showstep:
            self.echo(f"  step = {lam:.6g}:   log likelihood = {ll:.8g}")


def _g(x: float) -> str:
    return "." if not np.isfinite(x) else f"{x:.6g}"


def _row(vec) -> str:
    return "  " + "  ".join(f"{v:11.7g}" for v in np.atleast_1d(np.asarray(vec, float)))


# -------------------------------------------------------------- from options
_FLAGS = ("nonrtolerance", "difficult", "dnumerical", "trace", "gradient", "hessian",
          "showstep", "showtolerance")
TECHNIQUES = {"nr", "bhhh", "dfp", "bfgs"}


def _positive(opts: Mapping[str, Any], key: str, default: float) -> float:
    value = opts.get(key)
    if value is None or value is True:
        return default
    out = float(value)
    if not out >= 0:
        raise OptionError(f"{key}({value}) invalid; it must be a nonnegative number")
    return out


def parse_technique(text: Any, command: str, allowed: tuple[str, ...] = ("nr",)
                    ) -> tuple[tuple[str, int], ...]:
    """``technique(algorithm_spec)``: ``nr``, ``bhhh``, ``dfp``, ``bfgs``, each optionally
    followed by its number of iterations (default 5) when several take turns.  ``bhhh``
    is not allowed with ``mixed`` ([ME] mixed, Options); algorithms the engine does not
    implement (not in ``allowed``) are refused."""
    if text in (None, True, "", False):
        return (("nr", 0),)
    words = str(text).lower().split()
    out: list[tuple[str, int]] = []
    for w in words:
        if w.isdigit():
            if not out or out[-1][1] != -1:
                raise OptionError(f"technique({text}) invalid; a number must follow an "
                                  "algorithm name")
            if int(w) < 1:
                raise OptionError(f"technique({text}) invalid; iteration counts must be "
                                  "positive")
            out[-1] = (out[-1][0], int(w))
            continue
        if w not in TECHNIQUES:
            raise OptionError(f"technique({text}) invalid; {w} is not an algorithm "
                              "(nr, bhhh, dfp or bfgs)")
        if w == "bhhh" and command == "mixed":
            raise OptionError("technique(bhhh) not allowed with mixed; the bhhh algorithm "
                              "may not be specified ([ME] mixed, Options)")
        out.append((w, -1))
    others = sorted({n for n, _ in out if n not in allowed})
    if others:
        shown = ", ".join(f"technique({a})" for a in allowed)
        raise OptionError(f"technique({text}): only {shown} is implemented for this "
                          f"model in memodels; {', '.join(others)} is not available")
    if len(out) == 1:
        return ((out[0][0], 0),)
    return tuple((n, 5 if k == -1 else k) for n, k in out)


def check_technique(text: Any, command: str) -> None:
    """Refuse any technique but nr (kept for the engines without quasi-Newton steps)."""
    parse_technique(text, command)


def from_options(opts: Mapping[str, Any], command: str, *, default_iterate: int =
                 DEFAULT_ITERATE, allow: tuple[str, ...] = _FLAGS,
                 techniques: tuple[str, ...] = ("nr",)) -> Maximize:
    """The :class:`Maximize` settings from a command's parsed options; options the
    command's engine cannot honour (not in ``allow``, ``techniques``) are refused with
    OptionError."""
    schedule = parse_technique(opts.get("technique"), command, techniques)
    for key in _FLAGS:
        if opts.get(key) and key not in allow:
            raise OptionError(f"option {key} is not implemented for {command}")
    iterate = opts.get("iterate")
    if iterate is None or iterate is True:
        n_iter = default_iterate
    else:
        n_iter = int(float(iterate))
        if n_iter < 0:
            raise OptionError(f"iterate({iterate}) invalid; it must be a nonnegative integer")
    return Maximize(
        iterate=n_iter,
        tolerance=_positive(opts, "tolerance", 1e-6),
        ltolerance=_positive(opts, "ltolerance", 1e-7),
        nrtolerance=_positive(opts, "nrtolerance", 1e-5),
        techniques=schedule,
        **{k: bool(opts.get(k)) for k in _FLAGS},
    )


__all__ = ["Maximize", "from_options", "check_technique", "parse_technique", "mreldif",
           "reldif"]
