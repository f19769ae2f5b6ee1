"""Mode-curvature adaptive quadrature over nested levels ([ME] meglm, Methods and
formulas, mode-curvature adaptive Gauss-Hermite quadrature, ``intmethod(mcaghermite)``;
the meqrlogit/meqrpoisson engine, Pinheiro and Chao 2006): the joint posterior mode of
every top-level cluster's effects and its curvature, factored along the tree of nested
clusters into each level's node placement (mu, B, C) of
:class:`memodels.glmm.nested.JointAdaptive`.

This module is below :mod:`memodels.glmm.nested` (which calls :func:`adapt_mode`): it
does not import it, and builds the new adaptive parameters with the class of those it
is given.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..lmm import batched


def adapt_mode(model: Any, params, ads: list[Any], tol: float, maxiter: int
               ) -> list[Any]:
    """Mode-curvature adaptation for any number of nested levels ([ME] meglm, Methods
    and formulas, mode-curvature adaptive Gauss-Hermite quadrature, intmethod(mcaghermite);
    the meqrlogit/meqrpoisson engine of Pinheiro and Chao 2006).

    ``model`` is a :class:`memodels.glmm.nested.NestedQuadrature` and ``ads`` its current
    list of :class:`memodels.glmm.nested.JointAdaptive` (one per level); the result is a
    new list of the same class.

    For each top-level cluster, the joint posterior mode of all its effects (in the
    standard-normal metric v, eta = xb + sum_l Z_l Lambda_l v_{c_l}) by Newton's method,
    and the joint covariance (-H)^{-1} at the mode, factored along the paths as the
    nodes need: a level-l cluster's nodes are mu + B a_<l + C a_l, (mu, B, C) the last
    block row of the lower Cholesky factor of the covariance of the path
    (v_top, ..., v_l) (:meth:`NestedQuadrature._level_nodes`).

    The negative Hessian is a tree of blocks: a level-l cluster c has the diagonal block
    I + sum_{i in c} (-h_i) z_il z_il' and couplings sum_{i in c} (-h_i) z_il z_ik' with
    each ancestor (level k < l), and none with other clusters.  It is eliminated leaves
    first, vectorised over the clusters of a level: each cluster's block over
    [ancestor path, own] gets its children's Schur complements, and eliminating its
    own effects leaves the Schur complement on its ancestor path, which is exactly
    its parent's [ancestors, own] block.  The eliminated own block A_oo(c) is the
    conditional posterior precision of v_c given its ancestors (its descendants
    integrated out), and -A_oo^{-1} A_oa the conditional mean's slope on them, so that
    C = R^{-1} (R'R = A_oo, R upper) and B = -A_oo^{-1} A_oa L_anc, L_anc the factor of the
    parent's path covariance (built top-down: L_path = [[L_anc, 0], [B, C]]).  The
    Newton step is solved by back-substitution top-down, with step halving per top
    cluster (a step is kept when the cluster's objective does not decrease).

    Weights: the objective of a top cluster is the recursion of the likelihood,

        F = -|v_top|^2/2 + sum_{c at level 2} w_2(c) [-|v_c|^2/2 + sum_{c' child of c}
            w_3(c') [ ... + sum_{i in leaf} w_i log f_i]];

    every cluster's blocks are kept in its own scale (divided by the product of the
    cluster weights above it), which is the curvature of the level's integrand in the
    recursion; a child's Schur complement enters its parent's block times the child's
    weight."""
    beta, aux, thetas = model.split(params)
    auxv = aux if model.n_aux else None
    depth = model.depth
    xb = model.X @ beta + model.offset
    zs = [model.Z[lev] @ model.structures[lev].relative_factor(thetas[lev])
          for lev in range(depth)]
    zfull = np.concatenate(zs, axis=1)  # (n, Q): the whole path's design
    offs = np.r_[0, np.cumsum(model.q)]  # level l's effects at offs[l]:offs[l+1]
    vs = [ads[lev].mu.copy() for lev in range(depth)]
    top = [np.arange(model.m[0])]  # cluster -> its top-level cluster
    for lev in range(1, depth):
        top.append(top[-1][model.parent[lev]])
    w_obs, w_lev = model.w_obs, model.w_lev

    def pieces(vs_):
        eta = xb.copy()
        for lev in range(depth):
            eta += (zs[lev] * vs_[lev][model.cl[lev]]).sum(1)
        lf, s, h = model.family.derivatives(model.y, eta, auxv)
        if w_obs is not None:
            lf = lf * w_obs
        val = np.add.reduceat(lf, model.obs_starts)  # per innermost cluster
        for lev in range(depth - 1, -1, -1):
            val = val - 0.5 * (vs_[lev] ** 2).sum(1)
            if lev:
                if w_lev is not None:
                    val = val * w_lev[lev]
                val = np.add.reduceat(val, model.child_starts[lev - 1])
        return val, s, h  # per top cluster

    def eliminate(vs_, s, h):
        """Leaves-first elimination: per level the inverse own block S (the conditional
        covariance), T = S A_oa and the eliminated own gradient."""
        if w_obs is not None:
            s, h = s * w_obs, h * w_obs
        a = -np.add.reduceat(h[:, None, None] * zfull[:, :, None] * zfull[:, None, :],
                             model.obs_starts)  # (M_D, Q, Q)
        r = np.add.reduceat(s[:, None] * zfull, model.obs_starts)  # (M_D, Q)
        ss, ts, ro = [None] * depth, [None] * depth, [None] * depth
        for lev in range(depth - 1, -1, -1):
            pl, ql = offs[lev], model.q[lev]
            own = np.arange(pl, pl + ql)
            a[:, own, own] += 1.0
            r[:, pl:] -= vs_[lev]
            s_l = np.linalg.inv(a[:, pl:, pl:])
            ss[lev], ro[lev] = s_l, r[:, pl:]
            if not lev:
                break
            aoa = a[:, pl:, :pl]
            t = s_l @ aoa  # (M_l, q_l, P_l)
            ts[lev] = t
            upd = a[:, :pl, :pl] - np.swapaxes(aoa, 1, 2) @ t
            rhs = r[:, :pl] - (np.swapaxes(t, 1, 2) @ r[:, pl:, None])[..., 0]
            if w_lev is not None:
                upd = upd * w_lev[lev][:, None, None]
                rhs = rhs * w_lev[lev][:, None]
            a = np.add.reduceat(upd, model.child_starts[lev - 1], axis=0)
            r = np.add.reduceat(rhs, model.child_starts[lev - 1], axis=0)
        return ss, ts, ro

    def step_of(ss, ts, ro):
        """Back-substitution, top-down: d_l = S_l r_l - T_l d_path(parent)."""
        d = [(ss[0] @ ro[0][..., None])[..., 0]]
        dpath = d[0]
        for lev in range(1, depth):
            dp = dpath[model.parent[lev]]
            d.append((ss[lev] @ ro[lev][..., None])[..., 0]
                     - (ts[lev] @ dp[..., None])[..., 0])
            dpath = np.concatenate([dp, d[-1]], axis=1)
        return d

    val, s, h = pieces(vs)
    for _ in range(maxiter):
        d = step_of(*eliminate(vs, s, h))
        step = np.ones(model.m[0])
        for _ in range(30):
            new = [v + step[top[lev]][:, None] * dl
                   for lev, (v, dl) in enumerate(zip(vs, d, strict=True))]
            nval, ns, nh = pieces(new)
            bad = ~(nval >= val - 1e-12)
            if not bad.any():
                break
            step = np.where(bad, step / 2, step)
        vs, val, s, h = new, nval, ns, nh
        if max(np.abs(dl).max() for dl in d) < tol:
            break
    ss, ts, _ = eliminate(vs, s, h)
    # C: the inverse of the upper triangular factor R of the conditional precision
    # (R'R = A_oo), Pinheiro and Chao's QR-decomposition nodes; its lower Cholesky
    # factor of the covariance instead is a rotated product rule that misses meqr's
    # printed log likelihoods with random slopes (hdp analysis: -3553.4790, not -3553.4677)
    low = batched.precision_root(np.linalg.inv(_sym(ss[0])))
    joint_adaptive = type(ads[0])  # memodels.glmm.nested.JointAdaptive
    out = [joint_adaptive(vs[0], np.zeros((model.m[0], model.q[0], 0)), low)]
    lpath = low
    for lev in range(1, depth):
        la = lpath[model.parent[lev]]  # (M_l, P_l, P_l)
        b = -ts[lev] @ la
        chol = batched.precision_root(np.linalg.inv(_sym(ss[lev])))
        out.append(joint_adaptive(vs[lev], b, chol))
        if lev + 1 < depth:
            pl, ql = offs[lev], model.q[lev]
            lpath = np.zeros((model.m[lev], pl + ql, pl + ql))
            lpath[:, :pl, :pl] = la
            lpath[:, pl:, :pl] = b
            lpath[:, pl:, pl:] = chol
    return out


def _sym(a: np.ndarray) -> np.ndarray:
    """The symmetric part of a stack of matrices."""
    return 0.5 * (a + np.swapaxes(a, 1, 2))
