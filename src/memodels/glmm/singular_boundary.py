"""A random-effects covariance heading to singularity (a correlation of +-1, e.g. a random
slope whose variance is near 0 and whose effects follow the intercept's) in the me
commands' Newton iterations.

The engine optimizes the Cholesky factor L of each unstructured Sigma.  The log likelihood
depends on L only through Sigma = L L', so it is even in each diagonal element l_kk
(k >= 1) with the rest of row k fixed: its derivative in l_kk vanishes at l_kk = 0, the
singular covariance.  When the maximum is there and the likelihood is flat in Sigma's
remaining direction (its second derivative in l_kk, 2 dL/dSigma_kk, about 0), Newton
approaches l_kk = 0 linearly (a quartic: each step removes a third of l_kk), with its
steps often shortened: dozens of iterations on a flat log likelihood
(reliability.md finding 8).

The remedy, as for a variance at 0: when the iterations crawl (the log likelihood changed
by less than :data:`CRAWL` relative, after a few iterations) with Sigma nearly singular
(eigenvalue ratio below :data:`EIG`) or row k of L nearly dependent on the previous rows
(|l_kk| below :data:`NEAR` of the row's norm), Sigma is moved to the nearest singular
matrix (its smallest eigenvalue removed; l_kk = 0 in its Cholesky factor) if the log
likelihood does not drop by more than :data:`JUMP` there, and Newton continues on the
other parameters with l_kk held at 0.  At convergence the curvature in l_kk decides: not
positive (a maximum along l_kk, the likelihood being even in it) and the fit is a boundary
solution (the covariance matrix is singular, reported with a warning); positive (a saddle:
the likelihood rises off the boundary), or a log likelihood below the one before the move,
and l_kk is released once and Newton goes on.
"""

from __future__ import annotations

import numpy as np

from .constraints import ConstrainedModel

CRAWL = 1e-4   # relative change of the log likelihood per iteration
NEAR = 0.5     # |l_kk| / ||row k of L|| below which the jump is tried
EIG = 0.05     # smallest / largest eigenvalue of Sigma: nearly singular
JUMP = 1e-3    # log likelihood units that the jump to l_kk = 0 may lose (checked after)
MIN_ITER = 3


def unstructured_terms(model) -> list[tuple[int, int, np.ndarray]]:
    """(first parameter position, q, row index of each theta element) of each
    unstructured covariance with q > 1 (theta: L's lower triangle, row by row); none for
    a constrained model (its parameters are not the factors')."""
    if type(model) is ConstrainedModel:  # its __class__ reports the engine's
        return []
    if hasattr(model, "structure"):
        structures = [model.structure]
    else:
        structures = list(getattr(model, "structures", []) or [])
    if not structures or not hasattr(model, "p"):
        return []
    pos = model.p + model.n_aux
    out = []
    for st in structures:
        if st.kind == "unstructured" and st.q > 1:
            out.append((pos, st.q, np.tril_indices(st.q)[0]))
        pos += st.n_theta
    return out


def diagonal_slots(model) -> list[tuple[int, np.ndarray]]:
    """(position of l_kk in the parameter vector, positions of row k of L) for each row
    k >= 1 of each unstructured covariance's Cholesky factor."""
    out = []
    for start, q, rows in unstructured_terms(model):
        cols = np.tril_indices(q)[1]
        for k in range(1, q):
            diag = start + int(np.flatnonzero((rows == k) & (cols == k))[0])
            out.append((diag, start + np.flatnonzero(rows == k)))
    return out


def _psd_cholesky(sigma: np.ndarray) -> np.ndarray:
    """Lower-triangular L with L L' = sigma for a positive semidefinite sigma (a zero
    pivot gives a zero column below it)."""
    q = sigma.shape[0]
    lam = np.zeros((q, q))
    for j in range(q):
        d = sigma[j, j] - lam[j, :j] @ lam[j, :j]
        lam[j, j] = np.sqrt(max(d, 0.0))
        for i in range(j + 1, q):
            if lam[j, j] > 1e-12 * np.sqrt(max(sigma[j, j], 1e-300)):
                lam[i, j] = (sigma[i, j] - lam[i, :j] @ lam[j, :j]) / lam[j, j]
    return lam


class SingularPins:
    """Which l_kk are held at 0, and the rules above."""

    def __init__(self, model):
        self.slots = diagonal_slots(model)
        self.terms = unstructured_terms(model)
        self._cols = {start: np.tril_indices(q)[1] for start, q, _ in self.terms}
        self.pinned: set[int] = set()
        self.released: set[int] = set()
        self.before: dict[int, float] = {}  # l_kk before its jump
        self.ll_before = -np.inf            # the log likelihood before the first jump

    def projected(self, params: np.ndarray, diags: list[int]) -> np.ndarray:
        """``params`` with each term holding a diagonal in ``diags`` moved to the nearest
        singular covariance (its smallest eigenvalue removed; the Cholesky factor of that,
        in the same order, has l_kk = 0), and those l_kk set to 0 exactly."""
        out = params.copy()
        for start, q, rows in self.terms:
            hit = [d for d in diags if start <= d < start + rows.size]
            if not hit:
                continue
            lam = np.zeros((q, q))
            lam[rows, self._cols[start]] = params[start : start + rows.size]
            w, vec = np.linalg.eigh(lam @ lam.T)
            w[0] = 0.0
            lam2 = _psd_cholesky((vec * w) @ vec.T)
            out[start : start + rows.size] = lam2[rows, self._cols[start]]
            out[hit] = 0.0
        return out

    def pin(self, params: np.ndarray, diags: list[int], ll: float) -> None:
        for d in diags:
            self.before[d] = float(params[d])
        self.pinned.update(diags)
        self.ll_before = max(self.ll_before, ll)

    def free(self, n: int) -> np.ndarray:
        mask = np.ones(n, bool)
        mask[list(self.pinned)] = False
        return mask

    def candidates(self, params: np.ndarray, it: int, rel_change: float) -> list[int]:
        """The diagonals to try at 0: when crawling, in each unstructured term either the
        rows with |l_kk| below :data:`NEAR` of the row's norm or, when Sigma is nearly
        singular (eigenvalue ratio below :data:`EIG`, e.g. a variance heading to 0), the
        row k >= 1 closest to dependence."""
        if it < MIN_ITER or not rel_change < CRAWL:
            return []
        out = []
        for start, q, rows in self.terms:
            mine = [(d, r) for d, r in self.slots if start <= d < start + rows.size
                    and d not in self.pinned and d not in self.released]
            if not mine:
                continue
            ratio = []
            for diag, row in mine:
                norm = float(np.linalg.norm(params[row]))
                ratio.append(abs(params[diag]) / norm if norm > 0 else 1.0)
            lam = np.zeros((q, q))
            lam[rows, self._cols[start]] = params[start : start + rows.size]
            w = np.linalg.eigvalsh(lam @ lam.T)
            if w[-1] > 0 and w[0] < EIG * w[-1]:
                k = int(np.argmin(ratio))
                if params[mine[k][0]] != 0.0:
                    out.append(mine[k][0])
                continue
            out += [d for (d, _), r in zip(mine, ratio, strict=True) if 0 < r < NEAR]
        return out

    def release_if_saddle(self, params: np.ndarray, hess: np.ndarray, ll: float) -> bool:
        """At convergence with pinned elements: release (to their values before the jump)
        those whose curvature is positive, or all when the log likelihood ended below the
        one before the jump (True: the iterations must go on)."""
        scale = max(float(np.abs(np.diag(hess)).max()), 1.0)
        lower = ll < self.ll_before - 1e-9 * (abs(ll) + 1.0)
        out = False
        for diag in sorted(self.pinned):
            if lower or hess[diag, diag] > 1e-8 * scale:
                self.pinned.discard(diag)
                self.released.add(diag)
                params[diag] = self.before[diag]
                out = True
        return out


def singular_message(n: int) -> str:
    return (f"the random-effects covariance matrix is singular ({n} "
            f"{'direction' if n == 1 else 'directions'} with zero variance: a correlation "
            "of +-1 or a variance explained by the other effects); the estimates are on the "
            "boundary of the parameter space and the standard errors of the correlations "
            "are not meaningful")


__all__ = ["SingularPins", "diagonal_slots", "singular_message", "CRAWL", "NEAR", "JUMP"]
