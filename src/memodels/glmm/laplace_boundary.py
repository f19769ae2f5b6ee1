"""Zero random-effects standard deviations in the Laplace fit: a saddle, not a maximum.

The sparse Laplace engine (:mod:`memodels.glmm.laplace_sparse`) is maximized over the
elements of the relative Cholesky factor Lambda of each term ([ME] meglm, Methods and
formulas, Laplacian approximation: the likelihood depends on Sigma = Lambda Lambda' only),
so it is an even function of each diagonal element (a standard deviation).  Its gradient in
that element is therefore zero at 0 and of order sd near 0, whatever the data say: an
optimizer that steps to (or starts at) a standard deviation near 0 sees a flat direction
and stops there, with the variance at about 0, a zero standard error, and a log likelihood
below the maximum even when the likelihood increases away from 0 (ll(sd) ~ ll(0) + c sd^2
with c > 0).  A boundary estimate is right only when it is a maximum (c <= 0).

:func:`lift_start` moves diagonal elements that are numerically 0 in the starting values
off 0, and :func:`saddle_restart` probes each small diagonal element of an optimum at a
few positive values: where the likelihood is higher there, the fit is restarted from the
best probe (the caller keeps the better of the two optima).
"""

from __future__ import annotations

import numpy as np

# a diagonal element this small at the optimum is checked by probing
SMALL_SD = 0.05
# the probes (relative standard deviations) and the start for a zero starting value
PROBES = (0.1, 0.3, 1.0)
LIFT_TO = 0.1


def diagonal_positions(model, params: np.ndarray) -> list[int]:
    """Indices in ``params`` of the diagonal elements of every term's relative factor
    (standard deviations), for the structures linear in theta (the exchangeable one's
    log-sd parameter cannot reach 0)."""
    out: list[int] = []
    pos = model.p + model.n_aux
    for term in model.terms:
        st = term.structure
        n = st.n_theta
        if st.kind == "independent":
            out += [pos + i for i in range(n)]
        elif st.kind == "identity" or (st.kind == "exchangeable" and st.q == 1):
            out.append(pos)
        elif st.kind == "unstructured":
            # theta fills Lambda's lower triangle: find its diagonal through the factor
            probe = np.arange(1, n + 1, dtype=float)
            lam = st.relative_factor(probe)
            diag = set(np.diag(lam).astype(int) - 1)
            out += [pos + i for i in range(n) if i in diag]
        pos += n
    return out


def lift_start(model, params: np.ndarray, tiny: float = 1e-6) -> np.ndarray:
    """Starting values with every numerically-zero standard deviation moved to
    ``LIFT_TO`` (at exactly 0 the likelihood's gradient in it vanishes, so no gradient
    method leaves 0)."""
    out = np.asarray(params, float).copy()
    for i in diagonal_positions(model, out):
        if abs(out[i]) < tiny:
            out[i] = LIFT_TO
    return out


def saddle_restart(model, params: np.ndarray, llf: float, gain: float = 1e-6
                   ) -> np.ndarray | None:
    """A restart point when some small standard deviation of the optimum ``params`` is
    not at a maximum: the likelihood with that element set to a probe value (the other
    parameters unchanged) exceeds ``llf`` by more than ``gain``.  ``None`` when every
    small element is at a maximum along its direction (a true boundary estimate)."""
    best, best_ll = None, llf + gain
    for i in diagonal_positions(model, params):
        if abs(params[i]) >= SMALL_SD:
            continue
        for value in PROBES:
            trial = params.copy()
            trial[i] = value
            val = model.loglik(trial)
            if np.isfinite(val) and val > best_ll:
                best, best_ll = trial, val
    if best is not None:  # lift the other small elements too: each is a restart candidate
        for i in diagonal_positions(model, best):
            if abs(best[i]) < SMALL_SD:
                trial = best.copy()
                trial[i] = LIFT_TO
                val = model.loglik(trial)
                if np.isfinite(val) and val > best_ll:
                    best, best_ll = trial, val
    model.loglik(params)  # leave the engine's modes at the optimum
    return best


__all__ = ["diagonal_positions", "lift_start", "saddle_restart"]
