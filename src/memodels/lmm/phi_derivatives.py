"""Exact gradient and Hessian of L* in Stata's estimation metric ([ME] mixed, Methods and
formulas: the log likelihood with only beta profiled out, in phi = {ln sd, atanh corr of
each Sigma_t, ln sigma_e}).

Everything goes through the relative covariances G_t = Sigma_t / sigma^2.  With V_g =
I + Z_g G Z_g' (G the block-diagonal relative covariance of all effects) and the model's
pieces at G -- C_g = Z_g'V_g^{-1}Z_g, s_g = Z_g'V_g^{-1}e_g (e = y - X beta_hat, so
s = Z'r), W_g = Z_g'V_g^{-1}X_g, H = (X'V^{-1}X)^{-1} -- and symmetric directions E:

    d log|V| [E]            =  sum_g <C_g, E>
    d^2 log|V| [E1, E2]     = -sum_g tr(C_g E1 C_g E2)
    d log|X'V^-1 X| [E]     = -sum_g <W_g H W_g', E>                      (REML)
    d^2 log|X'V^-1 X|       = -tr(H A1 H A2) + 2 sum_g tr(H W_g'E1 C_g E2 W_g),
                              A_k = sum_g W_g'E_k W_g
    d r^2 [E]               = -sum_g s_g'E s_g
    d^2 r^2 [E1, E2]        =  2 sum_g s_g'E1 C_g E2 s_g - 2 t1'H t2,  t_k = sum_g W_g'E_k s_g

(r^2 = min_beta e'V^{-1}e; the last term is beta_hat's response to G).  Then with
L* = -1/2 {n' (2 ln sigma + ln 2 pi) + log|V| [+ log|X'V^-1 X|] + r^2 e^{-2 ln sigma}}
and G_t = Sigma_t(phi_t) e^{-2 ln sigma}, the chain rule needs dSigma_t/dphi (exact,
:meth:`CovStructure.sigma_derivatives`) and its derivative (central differences of that
exact first derivative, good to ~1e-10).  One evaluation of the pieces replaces the
2 x dim(phi) gradient evaluations of a Hessian by differences.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .criteria import Evaluation


@dataclass
class CovPieces:
    """The pieces at one G, stacked over ``G`` blocks of size m (groups of a single term,
    or one block holding every effect of a dense model)."""

    ev: Evaluation
    c: np.ndarray  # (G, m, m)
    s: np.ndarray  # (G, m)
    w: np.ndarray  # (G, m, p)
    h: np.ndarray  # (p, p)
    expand: object = None  # term index, q x q matrix -> m x m direction (None: identity)


def _split(vec: np.ndarray, sizes: list[int]) -> list[np.ndarray]:
    out, pos = [], 0
    for s in sizes:
        out.append(vec[pos:pos + s])
        pos += s
    return out


def _second_sigma(struct, phi_t: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """d^2 Sigma / dphi_k dphi_l, shape (k, k, q, q), by central differences of the exact
    first derivatives."""
    k = phi_t.size
    out = np.empty((k, k, struct.q, struct.q))
    for j in range(k):
        e = np.zeros(k)
        e[j] = h
        out[:, j] = (struct.sigma_derivatives(phi_t + e)
                     - struct.sigma_derivatives(phi_t - e)) / (2 * h)
    return 0.5 * (out + np.swapaxes(out, 0, 1))


def _directions(structs, phi: np.ndarray, expand) -> tuple[np.ndarray, np.ndarray]:
    """First (K, m, m) and second (K, K, m, m) derivatives of G (full space) in phi."""
    sizes = [s.n_params for s in structs]
    parts = _split(phi[:-1], sizes)
    s2 = float(np.exp(2 * phi[-1]))
    ex = (lambda _t, mat: mat) if expand is None else expand
    firsts, g_all = [], None
    blocks = []
    for t, (s, pp) in enumerate(zip(structs, parts, strict=True)):
        g_t = ex(t, s.sigma_from_phi(pp) / s2)
        g_all = g_t if g_all is None else g_all + g_t
        d1 = s.sigma_derivatives(pp)
        firsts.extend(ex(t, d) / s2 for d in d1)
        blocks.append((t, s, pp, len(firsts) - len(d1)))
    k = len(firsts) + 1
    e1 = np.stack(firsts + [-2.0 * g_all])
    e2 = np.zeros((k, k) + e1.shape[1:])
    for t, s, pp, start in blocks:
        d2 = _second_sigma(s, pp)
        for i in range(d2.shape[0]):
            for j in range(d2.shape[1]):
                e2[start + i, start + j] = ex(t, d2[i, j]) / s2
    e2[:-1, -1] = -2.0 * e1[:-1]
    e2[-1, :-1] = -2.0 * e1[:-1]
    e2[-1, -1] = 4.0 * g_all
    return e1, e2


def lstar_gradient_hessian(pc: CovPieces, structs, phi: np.ndarray, dof: float,
                           reml: bool) -> tuple[np.ndarray, np.ndarray]:
    """The exact gradient and Hessian of L* at phi from the model's pieces there."""
    e1, e2 = _directions(structs, phi, pc.expand)
    k = e1.shape[0]
    c, s, w, hx = pc.c, pc.s, pc.w, pc.h
    p = hx.shape[0]
    s2 = float(np.exp(2 * phi[-1]))
    r2 = pc.ev.r2
    # linear functionals <F1, E>, <F2, E> on (..., m, m) stacks
    f1 = c.sum(0)
    if reml and p:
        wf = w.reshape(-1, p)
        f1 = f1 - np.einsum("gmp,gnp->mn", (wf @ hx).reshape(w.shape), w, optimize=True)
    f2 = -(s.T @ s)

    def lin(f, e):
        return np.einsum("...mn,mn->...", e, f)

    # contractions over the G blocks as BLAS products on flattened stacks (einsum's
    # multi-operand loops are 10-50x slower with thousands of groups)
    g_n, m = s.shape
    ce = np.matmul(c[:, None], e1[None])  # (G, k, m, m): C_g E_a
    ce_t = np.swapaxes(ce, 2, 3)
    hf = -_gram(ce, ce_t)  # tr(C E_a C E_b)
    es = (s @ e1.reshape(k * m, m).T).reshape(g_n, k, m)  # E_a s_g (E symmetric)
    ces = np.matmul(c, np.swapaxes(es, 1, 2))  # (G, m, k): C_g E_b s_g
    hr = 2.0 * _gram(es, np.swapaxes(ces, 1, 2))
    if p:
        t = np.einsum("gkm,gmp->kp", es, w, optimize=True)  # sum_g W_g'E_a s_g
        hr -= 2.0 * t @ hx @ t.T
        if reml:
            ew = np.matmul(e1[None], w[:, None])  # (G, k, m, p): E_a W_g
            a = np.einsum("gmp,gkmq->kpq", w, ew, optimize=True)
            ha = np.einsum("pq,kqr->kpr", hx, a, optimize=True)
            hf -= np.einsum("apq,bqp->ab", ha, ha, optimize=True)
            cew = np.matmul(c[:, None], ew)  # (G, k, m, p): C_g E_b W_g
            ewh = np.matmul(ew, hx)  # E_a W_g H
            # sum_g tr(H W'E_a C E_b W) = sum_g <E_a W H, C E_b W>
            hf += 2.0 * _gram(ewh, cew)
    hess = hf + lin(f1, e2) + (hr + lin(f2, e2)) / s2
    l2 = lin(f2, e1)
    hess[:, -1] -= 2.0 * l2 / s2
    hess[-1, :] -= 2.0 * l2 / s2
    hess[-1, -1] += 4.0 * r2 / s2
    hess = -0.5 * (hess + hess.T) / 2.0
    grad = -0.5 * (lin(f1, e1) + l2 / s2)
    grad[-1] += -dof + r2 / s2
    return grad, hess


def _gram(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """sum over the group axis 0 and the trailing axes of a[g, i, ...] b[g, j, ...]:
    the k x k matrix of inner products, one BLAS product."""
    k = a.shape[1]
    fa = np.swapaxes(a, 0, 1).reshape(k, -1)
    fb = np.swapaxes(b, 0, 1).reshape(k, -1)
    return fa @ fb.T
