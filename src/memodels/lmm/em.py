"""EM iterations of a two-level model with one or two random effects, in closed form
([ME] mixed, Methods and formulas, EM iterations).

The same iteration as :meth:`memodels.lmm.profiled.ProfiledLMM.em_iterations` (u_j as
missing data, beta and sigma^2 profiled): with A_g = Lambda'D_g Lambda + I,

    u_g = A_g^{-1} Lambda'(Z_g'y - Z_g'X beta),  b_g = Lambda u_g,
    Sigma = (1/M) sum_g {b_g b_g' + sigma^2 Lambda A_g^{-1} Lambda'},

but with the 1 x 1 and 2 x 2 blocks written out element by element, so that an
iteration is a few dozen operations on vectors of length M (the number of groups)
rather than a hundred small batched solves -- the twenty default EM iterations were the
largest part of fitting the manual's examples and the benchmark's random-slope models.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla


def _blocks(model, lam: np.ndarray):
    """A_g's elements, its determinant, Lambda'Z_g'y and Lambda'Z_g'X per group."""
    d, zy, zx = model.d1, model.z1y, model.z1x
    if lam.shape[0] == 1:
        a = lam[0, 0]
        a11 = 1.0 + a * a * d[:, 0, 0]
        return (a11,), a11, (a * zy[:, 0],), (a * zx[:, 0, :],)
    a, b, c = lam[0, 0], lam[1, 0], lam[1, 1]
    d11, d12, d22 = d[:, 0, 0], d[:, 0, 1], d[:, 1, 1]
    a11 = 1.0 + a * a * d11 + 2.0 * a * b * d12 + b * b * d22
    a12 = c * (a * d12 + b * d22)
    a22 = 1.0 + c * c * d22
    det = a11 * a22 - a12 * a12
    v = (a * zy[:, 0] + b * zy[:, 1], c * zy[:, 1])
    vx = (a * zx[:, 0, :] + b * zx[:, 1, :], c * zx[:, 1, :])
    return (a11, a12, a22), det, v, vx


def _solve(elems, det, v):
    """A_g^{-1} v_g for vectors (G,) or matrices (G, p) per element."""
    if len(elems) == 1:
        inv = 1.0 / elems[0]
        return (v[0] * (inv if v[0].ndim == 1 else inv[:, None]),)
    a11, a12, a22 = elems
    r = 1.0 / det
    if v[0].ndim == 2:
        r = r[:, None]
        a11, a12, a22 = a11[:, None], a12[:, None], a22[:, None]
    return ((a22 * v[0] - a12 * v[1]) * r, (a11 * v[1] - a12 * v[0]) * r)


def em_closed_form(model, theta: np.ndarray, reml: bool, iterations: int,
                   tolerance: float, log=None) -> np.ndarray:
    """``iterations`` EM steps from ``theta`` (stopping early when the deviance changes
    by a relative amount below ``tolerance``, as Stata's emtolerance()); q <= 2.
    ``log(iteration, ll)`` is called with the (restricted) log likelihood at each iterate
    (emlog, emdots)."""
    structure = model.first.structure
    n_dof = model.dof(reml)
    p = model.p
    previous = np.inf
    for k in range(iterations):
        lam = structure.relative_factor(theta)
        elems, det, v, vx = _blocks(model, lam)
        if not np.all(det > 0):
            raise np.linalg.LinAlgError("EM: A_g not positive definite")
        w, wx = _solve(elems, det, v), _solve(elems, det, vx)
        cc = float(sum(vi @ wi for vi, wi in zip(v, w, strict=True)))
        cxc = sum(vxi.T @ wi for vxi, wi in zip(vx, w, strict=True))
        cxcx = sum(vxi.T @ wxi for vxi, wxi in zip(vx, wx, strict=True))
        rhs = model.xty - cxc
        if p:
            low = sla.cholesky(model.xtx - cxcx, lower=True, check_finite=False)
            beta = sla.cho_solve((low, True), rhs, check_finite=False)
            logdet_x = 2.0 * float(np.log(np.diag(low)).sum())
        else:
            beta, logdet_x = np.zeros(0), 0.0
        r2 = max(model.yty - cc - float(beta @ rhs), 1e-300)
        dev = float(np.log(det).sum()) + n_dof * (1.0 + np.log(2.0 * np.pi * r2 / n_dof))
        dev += logdet_x if reml else 0.0
        if log is not None:
            log(k, -0.5 * dev)
        if abs(previous - dev) <= tolerance * abs(dev):
            break
        previous = dev
        s2 = r2 / n_dof
        u = [wi - wxi @ beta for wi, wxi in zip(w, wx, strict=True)]
        if len(u) == 1:
            b = lam[0, 0] * u[0]
            bb = np.array([[b @ b]])
            ainv_sum = np.array([[float((1.0 / elems[0]).sum())]])
        else:
            b1 = lam[0, 0] * u[0]
            b2 = lam[1, 0] * u[0] + lam[1, 1] * u[1]
            bb = np.array([[b1 @ b1, b1 @ b2], [b1 @ b2, b2 @ b2]])
            a11, a12, a22 = elems
            r = 1.0 / det
            s12 = -float((a12 * r).sum())
            ainv_sum = np.array([[float((a22 * r).sum()), s12], [s12, float((a11 * r).sum())]])
        sigma = (bb + s2 * lam @ ainv_sum @ lam.T) / det.size
        theta = structure.theta_from_sigma(sigma / s2)
    return theta
