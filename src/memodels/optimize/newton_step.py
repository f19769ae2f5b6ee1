"""One Newton-Raphson direction for maximizing a log likelihood ([R] maximize: the
Newton-Raphson technique, and ``difficult``), shared by ``mixed``'s Newton stage and
the me commands' iterations."""

from __future__ import annotations

import numpy as np

from ..errors import EstimationError


def newton_step(grad: np.ndarray, hess: np.ndarray, difficult: bool = False
                ) -> tuple[np.ndarray, bool]:
    """The Newton direction and whether the Hessian is negative definite.

    Not concave: the default reflects the Hessian's nonnegative eigenvalues (a modified
    Newton step); ``difficult`` takes Newton steps in the directions of negative
    curvature and steepest-ascent steps, scaled by the largest curvature, in the others
    ([R] maximize, difficult: a different stepping algorithm in nonconcave regions)."""
    if not (np.all(np.isfinite(grad)) and np.all(np.isfinite(hess))):
        raise EstimationError("the derivatives of the log likelihood are not finite at the "
                              "current estimates; try other starting values "
                              "(startvalues(iv), startgrid(), from())")
    # in the metric with unit curvature per parameter (H scaled by its diagonal): the step
    # is the same when H is negative definite, and a badly scaled parameter (a covariate
    # of size 1e6) no longer makes the eigenvalue floor swallow the other directions
    d = np.sqrt(np.abs(np.diag(hess)))
    d = np.where(d > 0, d, 1.0)
    w, vec = np.linalg.eigh(hess / np.outer(d, d))
    concave = bool(w.max() < 0)
    scale = max(np.abs(w).max(), 1.0)
    g = grad / d
    if difficult and not concave:
        w_mod = np.where(w < -1e-8 * scale, w, -scale)
    else:
        w_mod = -np.maximum(np.abs(w), 1e-8 * scale)
    return -(vec @ ((vec.T @ g) / w_mod)) / d, concave
