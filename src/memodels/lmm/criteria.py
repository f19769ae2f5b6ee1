"""The (restricted) log-likelihood criteria shared by the LMM evaluators.

An evaluator supplies ``evaluate(thetas)`` -> :class:`Evaluation` (log|A|, log|R_X'R_X|,
the penalized residual sum of squares r^2, beta) and, where it can, ``grad_pieces``:
the exact derivatives of log|A| (ML) or log|M| (REML) and of r^2 with respect to the
concatenated theta.  From these, [ME] mixed, Methods and formulas, eqs. (11)-(13):

* the profiled deviance  -2 L = log|A| [+ log|R_X'R_X|] + n'(1 + log(2 pi r^2 / n'))
  with n' = n (ML) or n - p (REML), sigma^2 = r^2 / n';
* L*, the log likelihood with only beta profiled out, as a function of theta and
  sigma^2: -1/2{n' log(2 pi sigma^2) + log|A| [+ log|R_X'R_X|] + r^2 / sigma^2}.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla


@dataclass
class Evaluation:
    """Pieces of one likelihood evaluation at a relative covariance (theta)."""

    logdet: float  # log det(Lambda'Z'Z Lambda + I)
    logdet_x: float  # log det(R_X'R_X) = log det(X'V^{-1}X) sigma^{2p}
    r2: float  # penalized residual sum of squares
    beta: np.ndarray
    rxtrx: np.ndarray  # X'V^{-1}X * sigma^2
    lam1: np.ndarray | None = None
    low1: np.ndarray | None = None
    c1: np.ndarray | None = None
    c1x: np.ndarray | None = None
    rest: dict | None = None


def center_on_ols(y: np.ndarray, X: np.ndarray, w: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(y - X b0, b0) with b0 the (weighted) OLS fit.

    y - X b0 has the same penalized residual sum of squares (beta is free) but a far
    smaller y'y, so r^2 = y'y - ... keeps its digits and the numerical Hessian is not
    swamped by cancellation error.  Any b0 near the OLS fit serves, so b0 comes from the
    normal equations (p x p, one pass over the data; lstsq's SVD of the n x p matrix was
    the largest single cost of a fit with a million rows) with one refinement step, and
    from lstsq only where X'X is numerically singular."""
    p = X.shape[1]
    if not p:
        return y, np.zeros(0)
    xw = X if w is None else X * w[:, None]
    xtx = xw.T @ X
    try:
        low = sla.cho_factor(xtx, lower=True, check_finite=True)
        b0 = sla.cho_solve(low, xw.T @ y)
        resid = y - X @ b0
        b0 = b0 + sla.cho_solve(low, xw.T @ resid)
        if np.all(np.isfinite(b0)):
            return y - X @ b0, b0
    except (np.linalg.LinAlgError, ValueError):
        pass
    sw = np.ones_like(y) if w is None else np.sqrt(w)
    b0 = np.linalg.lstsq(X * sw[:, None], y * sw, rcond=None)[0]
    return y - X @ b0, b0


def linear_evaluation(xtx: np.ndarray, xty: np.ndarray, yty: float,
                      beta0: np.ndarray) -> Evaluation:
    """The evaluation of the model without random effects (linear regression) from the
    fixed-effects sufficient statistics: r^2 = y'y - b'X'y, log|X'X|."""
    if xtx.shape[0]:
        low = sla.cholesky(xtx, lower=True, check_finite=False)
        beta = sla.cho_solve((low, True), xty, check_finite=False)
        logdet_x = 2.0 * float(np.log(np.diag(low)).sum())
    else:
        beta, logdet_x = np.zeros(0), 0.0
    r2 = yty - float(beta @ xty)
    return Evaluation(0.0, logdet_x, max(r2, 1e-300), beta + beta0, xtx)


class Criteria:
    """Mixin: likelihood criteria from ``evaluate`` and ``grad_pieces``."""

    n: float
    p: int

    has_gradient = False

    def evaluate(self, thetas: list[np.ndarray], keep: bool = False) -> Evaluation:
        raise NotImplementedError

    def grad_pieces(
        self, thetas: list[np.ndarray], reml: bool
    ) -> tuple[Evaluation, np.ndarray, np.ndarray]:
        """Evaluation, d log|A or M| / d theta, d r^2 / d theta."""
        raise NotImplementedError

    def dof(self, reml: bool) -> float:
        return self.n - self.p if reml else self.n

    def deviance_from(self, ev: Evaluation, reml: bool) -> float:
        n = self.dof(reml)
        dev = ev.logdet + n * (1.0 + np.log(2.0 * np.pi * ev.r2 / n))
        return float(dev + (ev.logdet_x if reml else 0.0))

    def deviance(self, thetas: list[np.ndarray], reml: bool) -> float:
        """-2 x profiled log (restricted) likelihood; +inf where not computable."""
        try:
            return self.deviance_from(self.evaluate(thetas), reml)
        except (np.linalg.LinAlgError, ValueError):
            return np.inf

    def sigma2(self, ev: Evaluation, reml: bool) -> float:
        return ev.r2 / self.dof(reml)

    def _lstar(self, ev: Evaluation, sigma2: float, reml: bool) -> float:
        n = self.dof(reml)
        ll = -0.5 * (n * np.log(2.0 * np.pi * sigma2) + ev.logdet + ev.r2 / sigma2)
        return float(ll - (0.5 * ev.logdet_x if reml else 0.0))

    def loglik_at(self, thetas: list[np.ndarray], sigma2: float, reml: bool) -> float:
        """L*: the log likelihood with only beta profiled out."""
        return self._lstar(self.evaluate(thetas), sigma2, reml)

    def deviance_and_gradient(
        self, thetas: list[np.ndarray], reml: bool
    ) -> tuple[float, np.ndarray]:
        """Profiled deviance and its exact gradient in the concatenated theta."""
        try:
            ev, g_det, g_r2 = self.grad_pieces(thetas, reml)
        except (np.linalg.LinAlgError, ValueError):
            return np.inf, np.zeros(sum(t.size for t in thetas))
        n = self.dof(reml)
        return self.deviance_from(ev, reml), g_det + (n / ev.r2) * g_r2

    def lstar_and_gradient(
        self, thetas: list[np.ndarray], sigma2: float, reml: bool
    ) -> tuple[float, np.ndarray, float]:
        """L*, dL*/d theta (sigma fixed) and dL*/d ln sigma (theta fixed)."""
        ev, g_det, g_r2 = self.grad_pieces(thetas, reml)
        val = self._lstar(ev, sigma2, reml)
        g_theta = -0.5 * (g_det + g_r2 / sigma2)
        g_lnsigma = -self.dof(reml) + ev.r2 / sigma2
        return val, g_theta, float(g_lnsigma)
