"""The exact gradient of meqr's re-solved-modes quadrature likelihood over nested levels
([ME] meqrlogit, Methods and formulas; Pinheiro and Chao 2006).

meqr's log likelihood is L(b) = Q(b, a(b)): the mode-curvature adaptive quadrature Q of
:class:`memodels.glmm.nested.NestedQuadrature` with its adaptive parameters a = (mu, B, C)
re-solved at every b (:func:`memodels.glmm.nested_mode_curvature.adapt_mode`).  Its total
derivative in a direction t is

    dL/dt = dQ/dt|_a + dQ/da . da/dt,

and both parts are computed here exactly (implicit differentiation, no differencing):

* the modes: grad_v F(v(b), b) = 0 for each top cluster's log posterior F, so
  dv/dt = A^{-1} d(grad_v F)/dt|_v with A = -d2F/dv2, solved on the tree of blocks by
  the same leaves-first elimination as the mode's Newton step;
* the curvature: A = I + sum_i (-h_i) z~_i z~_i' (z~_i = z_i Lambda), so that
  dA/dt = -sum_i [h3_i (d eta_i/dt) z~_i z~_i' + h_i (dz~_i z~_i' + z~_i dz~_i')] with h3
  the third eta-derivative of log f and d eta_i/dt the total one (the modes move);
  it is carried through the elimination (d inv(A_oo) = -S dA_oo S, dT = dS A_oa + S dA_oa,
  the Schur complements' derivatives) and through the factors (C = L^{-T}, L the lower
  Cholesky factor of the eliminated precision: dL = L Phi(L^{-1} dP L^{-T}),
  dC = -C dL' C; B = -T L_anc: dB = -dT L_anc - T dL_anc);
* with every level's nodes v = mu + B a_outer + C a_k = G a~ (a~ = [1, standardized nodes
  of the path]), eta_i(k) is linear in a~, so the observation part of dQ is
  sum_i c_i(t) . m_i with m_i = sum_k W_i(k) s_i(k) a~(k) (one product of the posterior-
  weighted scores with the node grid) and the prior part, from the log weights
  log det C - |v|^2/2, is sum_c [d log det C_c - tr(G_c' dG_c M2_c)] with M2_c the
  path-weighted second moments of a~ (W the posterior path weights of
  :meth:`NestedQuadrature.node_pass`).

Used for the logit and Poisson families (h3 = h (1 - 2p) and h) without weights; other
cases keep the differenced gradient.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit


def supported(model) -> bool:
    """The nested engine (not seen through constraints), unweighted, no ancillary
    parameter, logit or Poisson-log."""
    fam = getattr(model, "family", None)
    if hasattr(model, "unwrap"):  # constraints: the parameters are the free ones
        return False
    if not hasattr(model, "node_pass") or model.n_aux or fam is None:
        return False
    if model.w_obs is not None or model.w_lev is not None:
        return False
    return _third_kind(fam) is not None


def _third_kind(family) -> str | None:
    link = getattr(getattr(family, "link", None), "name", None)
    if family.name in ("bernoulli", "binomial") and link == "logit":
        return "logit"
    if family.name == "poisson" and link == "log":
        return "log"
    return None


def _terms3(family, y, eta):
    lf, s, h = family.derivatives(y, eta, None)
    if _third_kind(family) == "logit":
        h3 = h * (1.0 - 2.0 * expit(eta))
    else:
        h3 = h
    return lf, s, h, h3


def _grid(model) -> list[np.ndarray]:
    """Per level l, the standardized nodes a~ = [1, a_1, ..., a_l] of every node path
    k_<=l, (prod K_<=l, 1 + Q_<=l), paths ordered as the engine's (outer * K_l + k)."""
    out, prev = [], np.ones((1, 1))
    for lev in range(model.depth):
        a = model.rules[lev][0]
        prev = np.concatenate([np.repeat(prev, a.shape[0], axis=0),
                               np.tile(a, (prev.shape[0], 1))], axis=1)
        out.append(prev)
    return out


def total_gradient(model, params: np.ndarray, ads, fixed_hessian: bool = False):
    """(L, dL/db) at ``params`` with ``ads`` the adaptive parameters re-solved there
    (modes converged tightly: the implicit derivatives assume grad_v F = 0); with
    ``fixed_hessian`` also the Hessian of Q at fixed adaptive parameters (the me
    commands' exact fixed-a Hessian, :meth:`NestedQuadrature.derivatives`, here from the
    node-linear form, :func:`_fixed_hessian`) as a third element."""
    params = np.asarray(params, float)
    beta, _, thetas = model.split(params)
    depth, p, ptot = model.depth, model.p, model.n_params
    n = model.y.size
    q = model.q
    offs = np.r_[0, np.cumsum(q)].astype(int)
    qtot = int(offs[-1])
    lams = [model.structures[lev].relative_factor(thetas[lev]) for lev in range(depth)]
    zs = [model.Z[lev] @ lams[lev] for lev in range(depth)]
    zfull = np.concatenate(zs, axis=1)
    vs = [ads[lev].mu for lev in range(depth)]

    # ------------------------------------------------- at the modes: eta, h, h3
    eta = model.X @ beta + model.offset
    for lev in range(depth):
        eta = eta + (zs[lev] * vs[lev][model.cl[lev]]).sum(1)
    _, s, h, h3 = _terms3(model.family, model.y, eta)
    # d eta / dt and d z~ / dt at fixed v (directions = parameters)
    deta = np.zeros((n, ptot))
    deta[:, :p] = model.X
    dz = np.zeros((n, qtot, ptot))
    dzs = []
    pos = p + model.n_aux
    for lev in range(depth):
        dl = model.structures[lev].factor_derivatives(thetas[lev])  # (m, q, q)
        dzl = np.einsum("iq,mqr->irm", model.Z[lev], dl)  # (n, q_l, m_l)
        k = dzl.shape[2]
        dz[:, offs[lev]:offs[lev + 1], pos:pos + k] = dzl
        deta[:, pos:pos + k] = np.einsum("irm,ir->im", dzl, vs[lev][model.cl[lev]])
        dzs.append((pos, dzl))
        pos += k
    rhs = _leaf_sum(model, h[:, None, None] * zfull[:, :, None] * deta[:, None, :]
                    + s[:, None, None] * dz)  # (M_D, Q, P)
    a = -_leaf_sum(model, h[:, None, None] * zfull[:, :, None] * zfull[:, None, :])

    # ------------------------------------- elimination (values) and the modes' slopes
    ss, ts, ros, aoos, aoas = [None] * depth, [None] * depth, [None] * depth, \
        [None] * depth, [None] * depth
    r = rhs
    for lev in range(depth - 1, -1, -1):
        pl, ql = offs[lev], q[lev]
        idx = np.arange(pl, pl + ql)
        a[:, idx, idx] += 1.0
        aoo = a[:, pl:, pl:]
        s_l = np.linalg.inv(aoo)
        ss[lev], ros[lev], aoos[lev] = s_l, r[:, pl:, :], aoo
        if not lev:
            break
        aoa = a[:, pl:, :pl]
        t = s_l @ aoa
        ts[lev], aoas[lev] = t, aoa
        upd = a[:, :pl, :pl] - np.swapaxes(aoa, 1, 2) @ t
        rr = r[:, :pl, :] - np.swapaxes(t, 1, 2) @ r[:, pl:, :]
        a = np.add.reduceat(upd, model.child_starts[lev - 1], axis=0)
        r = np.add.reduceat(rr, model.child_starts[lev - 1], axis=0)
    dv = [ss[0] @ ros[0]]  # (M_0, q_0, P)
    dpath = dv[0]
    for lev in range(1, depth):
        dp = dpath[model.parent[lev]]
        dv.append(ss[lev] @ ros[lev] - ts[lev] @ dp)
        dpath = np.concatenate([dp, dv[-1]], axis=1)

    # total d eta / dt (the modes move)
    dtot = deta.copy()
    for lev in range(depth):
        dtot += np.einsum("iq,iqp->ip", zs[lev], dv[lev][model.cl[lev]])
    # d A_leaf / dt, (M_D, P, Q, Q): the h3 term for every direction, the dz~ term for
    # the covariance parameters' directions only (dz~ = 0 for beta)
    zz = (zfull[:, :, None] * zfull[:, None, :]).reshape(n, qtot * qtot)
    da = -_leaf_sum(model, (h3[:, None] * dtot)[:, :, None] * zz[:, None, :]).reshape(
        -1, ptot, qtot, qtot)
    th = slice(p + model.n_aux, ptot)
    dzz = _leaf_sum(model, np.einsum("iqp,ir->ipqr", dz[:, :, th], h[:, None] * zfull))
    da[:, th] -= dzz + np.swapaxes(dzz, 2, 3)
    dps, dts = [None] * depth, [None] * depth
    for lev in range(depth - 1, -1, -1):
        pl = offs[lev]
        s_l = ss[lev][:, None]
        dps[lev] = da[:, :, pl:, pl:]
        if not lev:
            break
        aoa = aoas[lev][:, None]
        ds = -s_l @ da[:, :, pl:, pl:] @ s_l
        dt = ds @ aoa + s_l @ da[:, :, pl:, :pl]
        dts[lev] = dt
        dupd = (da[:, :, :pl, :pl] - np.swapaxes(da[:, :, pl:, :pl], 2, 3) @ ts[lev][:, None]
                - np.swapaxes(aoa, 2, 3) @ dt)
        da = np.add.reduceat(dupd, model.child_starts[lev - 1], axis=0)

    # ------------------------------------------- the factors' derivatives, top-down
    gs, dgs, dlogdet = [], [], []
    lpath = dlpath = None
    for lev in range(depth):
        c = ads[lev].chol  # upper: C = L^{-T}
        low = np.swapaxes(np.linalg.inv(c), 1, 2)  # L
        linv = np.swapaxes(c, 1, 2)  # L^{-1}
        x = linv[:, None] @ _sym4(dps[lev]) @ c[:, None]  # L^{-1} dP L^{-T}
        phi = np.tril(x)
        di = np.arange(q[lev])
        phi[..., di, di] *= 0.5
        dlow = low[:, None] @ phi
        dc = -c[:, None] @ np.swapaxes(dlow, 2, 3) @ c[:, None]  # (M, P, q, q)
        dlogdet.append((np.diagonal(dc, axis1=2, axis2=3)
                        / np.diagonal(c, axis1=1, axis2=2)[:, None, :]).sum(-1))  # (M, P)
        mu, dmu = vs[lev], np.moveaxis(dv[lev], 2, 1)  # (M, q), (M, P, q)
        if lev:
            la, dla = lpath[model.parent[lev]], dlpath[model.parent[lev]]
            b = ads[lev].b
            db = -dts[lev] @ la[:, None] - ts[lev][:, None] @ dla
        else:
            b = np.zeros((mu.shape[0], q[0], 0))
            db = np.zeros((mu.shape[0], ptot, q[0], 0))
        gs.append(np.concatenate([mu[:, :, None], b, c], axis=2))  # (M, q, 1 + Q_<=l)
        dgs.append(np.concatenate([dmu[..., None], db, dc], axis=3))  # (M, P, q, 1+Q<=l)
        if lev + 1 < depth:
            m_l, pl = mu.shape[0], offs[lev]
            new = np.zeros((m_l, pl + q[lev], pl + q[lev]))
            dnew = np.zeros((m_l, ptot, pl + q[lev], pl + q[lev]))
            if lev:
                new[:, :pl, :pl], dnew[:, :, :pl, :pl] = la, dla
                new[:, pl:, :pl], dnew[:, :, pl:, :pl] = b, db
            new[:, pl:, pl:], dnew[:, :, pl:, pl:] = c, dc
            lpath, dlpath = new, dnew

    # ------------------------------------------------------ the quadrature pass
    llf, s_nodes, h_nodes, ps, ws = model.node_pass(params, ads, curvature=fixed_hessian)
    grids = _grid(model)  # the last is model.path_grid()
    w_obs = ws[-1][model.cl[-1]]
    mom = (w_obs * s_nodes) @ grids[-1]  # (n, 1 + Q)
    grad = np.zeros(ptot)
    # observation part: sum_i c_i(t) . m_i, c_i(t) = d eta_i(k)/dt's coefficients on a~
    grad[:p] += np.einsum("ip,i->p", model.X, mom[:, 0])
    for lev in range(depth):
        cols = 1 + offs[lev + 1]
        cl = model.cl[lev]
        pos, dzl = dzs[lev]
        g_c = gs[lev][cl]  # (n, q, cols)
        grad[pos:pos + dzl.shape[2]] += np.einsum("irm,irc,ic->m", dzl, g_c, mom[:, :cols])
        # z~_i dG: summed per cluster first
        zm = _cluster_sum(zs[lev][:, :, None] * mom[:, None, :cols], cl, model.m[lev])
        grad += np.einsum("jprc,jrc->p", dgs[lev], zm)
        # prior part: d log det C - tr(G' dG M2)
        wl = ws[lev]  # (M_l, paths)
        m2 = np.einsum("jk,kc,kd->jcd", wl, grids[lev], grids[lev])
        grad += dlogdet[lev].sum(0)
        grad -= np.einsum("jrc,jprd,jcd->p", gs[lev], dgs[lev], m2)
    if not fixed_hessian:
        return llf, grad
    return llf, grad, _fixed_hessian(model, gs, dzs, grids[-1], s_nodes, h_nodes, w_obs,
                                     ps, ws)


def _fixed_hessian(model, gs, dzs, grid, s_nodes, h_nodes, w_obs, ps, ws) -> np.ndarray:
    """The Hessian of Q at fixed adaptive parameters (the formula of
    :mod:`memodels.glmm.nested`: sum_{i,k} W h D D' plus the covariance terms), with
    D_i(k) = c_i a~(k) linear in the node grid: c_i (P, 1 + Q) holds x_i in column 0 and
    z_i dLambda G_c for the covariance parameters.  The observation term is then
    sum_i c_i [sum_k W h a~ a~'] c_i' (one product with the grid's outer products), and
    the innermost clusters' gradients G(c, k) = [sum_{i in c} s_i(k) c_i] a~(k)."""
    n, ptot, p = model.y.size, model.n_params, model.p
    cols = grid.shape[1]
    coef = np.zeros((n, ptot, cols))
    coef[:, :p, 0] = model.X
    for lev in range(model.depth):
        pos, dzl = dzs[lev]
        width = gs[lev].shape[2]
        coef[:, pos:pos + dzl.shape[2], :width] = np.einsum(
            "irm,irc->imc", dzl, gs[lev][model.cl[lev]])
    outer = (grid[:, :, None] * grid[:, None, :]).reshape(grid.shape[0], -1)
    m2 = ((w_obs * h_nodes) @ outer).reshape(n, cols, cols)
    hess = np.tensordot(coef @ m2, coef, axes=([0, 2], [0, 2]))
    flat = coef.reshape(n, -1)
    starts = np.r_[model.obs_starts, n]
    nsum = np.empty((len(model.obs_starts), grid.shape[0], flat.shape[1]))
    for c in range(len(model.obs_starts)):
        lo, hi = starts[c], starts[c + 1]
        nsum[c] = s_nodes[lo:hi].T @ flat[lo:hi]
    g = np.einsum("ckpr,kr->ckp", nsum.reshape(nsum.shape[0], grid.shape[0], ptot, cols),
                  grid)
    model.add_covariance_terms(hess, g, ps, ws)
    return 0.5 * (hess + hess.T)


def _leaf_sum(model, x: np.ndarray) -> np.ndarray:
    """Sums of x (n, ...) over each innermost cluster's observations, (M_D, ...)."""
    return model.obs_sum(x.reshape(x.shape[0], -1)).reshape((-1,) + x.shape[1:])


def _cluster_sum(x: np.ndarray, cl: np.ndarray, m: int) -> np.ndarray:
    """Sums of the rows of x per cluster code (codes sorted ascending, as the engine's)."""
    starts = np.flatnonzero(np.r_[True, np.diff(cl) != 0])
    out = np.add.reduceat(x, starts, axis=0)
    if out.shape[0] != m:  # every cluster has observations; guard all the same
        full = np.zeros((m,) + x.shape[1:])
        full[cl[starts]] = out
        return full
    return out


def _sym4(a: np.ndarray) -> np.ndarray:
    return 0.5 * (a + np.swapaxes(a, -1, -2))


__all__ = ["supported", "total_gradient"]
