"""Mode-curvature adaptive quadrature for any number of nested levels ([ME] meglm, Methods
and formulas, mode-curvature adaptive Gauss-Hermite quadrature, intmethod(mcaghermite);
the meqrlogit/meqrpoisson engine of Pinheiro and Chao 2006).

The identities checked: each level's adaptive parameters (mu, B, C) are the joint posterior
mode and the last block row of the path's node factor (posterior covariance (-H)^{-1} at
the mode; each level's own block R^{-1}, R'R its conditional precision, Pinheiro and Chao's
QR factor) (against a dense computation over all effects at once); one point
per level is the Laplace approximation; many points converge to the same integral as
mean-variance adaptive quadrature; integer weights at every level reproduce the
replicated data; and 3- and 4-level models fit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import memodels
from memodels.design import build_design
from memodels.families.registry import make_family
from memodels.glmm.laplace_sparse import SparseLaplace
from memodels.glmm.nested import NestedQuadrature
from memodels.lmm.terms import engine_terms
from memodels.syntax import parse_model


def _simulate(sizes, nobs, sds, *, seed=1, family="bernoulli", slope_sd=0.0):
    """Nested groups g0 > g1 > ... (sizes[l] children per cluster), nobs observations per
    innermost cluster, random intercepts with standard deviations sds, and a random slope
    on x at level g1."""
    rng = np.random.default_rng(seed)
    paths = [[i] for i in range(sizes[0])]
    for s in sizes[1:]:
        paths = [p + [j] for p in paths for j in range(s)]
    arr = np.repeat(np.array(paths), nobs, axis=0)
    df = pd.DataFrame({f"g{lev}": arr[:, lev] for lev in range(arr.shape[1])})
    x = rng.normal(size=len(df))
    eta = 0.3 + 0.5 * x
    for lev, sd in enumerate(sds):
        codes = pd.factorize(pd.MultiIndex.from_arrays(arr[:, : lev + 1].T))[0]
        eta += sd * rng.normal(size=codes.max() + 1)[codes]
        if lev == 1 and slope_sd:
            eta += slope_sd * rng.normal(size=codes.max() + 1)[codes] * x
    df["x"] = x
    if family == "bernoulli":
        df["y"] = (rng.random(len(df)) < 1 / (1 + np.exp(-eta))).astype(float)
    else:
        df["y"] = rng.poisson(np.exp(eta)).astype(float)
    return df


def _engine(df, spec, family, *, method="mcaghermite", points=7, **kw):
    design = build_design(parse_model(spec, "meglm", list(df.columns)), df)
    terms = engine_terms(design.terms)
    fam = make_family(family, None)
    model = NestedQuadrature(design.y, design.X, terms, fam, method=method, points=points,
                             **kw)
    return model, design, terms, fam


SLOPE3 = "y x || g0: || g1: x, cov(unstructured) || g2:"
# beta, then the relative Cholesky factors: sd(g0), the g1 factor's lower triangle, sd(g2)
PAR_SLOPE3 = np.array([0.3, 0.5, 0.5, 0.5, 0.1, 0.3, 0.4])
INTER4 = "y x || g0: || g1: || g2: || g3:"
PAR_INTER4 = np.array([0.3, 0.5, 0.8, 0.6, 0.5, 0.7])


# ------------------------------------------------- adaptive parameters = dense posterior
def _dense_reference(model, params):
    """Joint posterior mode of every effect of every cluster at once (dense Newton), the
    covariance (-H)^{-1} there, and for each level the (mu, B, C) of the path factor."""
    beta, aux, thetas = model.split(params)
    n, depth = model.y.size, model.depth
    zs = [model.Z[lev] @ model.structures[lev].relative_factor(thetas[lev])
          for lev in range(depth)]
    start = np.r_[0, np.cumsum([m * q for m, q in zip(model.m, model.q, strict=True)])]
    zt = np.zeros((n, start[-1]))
    for lev in range(depth):
        q = model.q[lev]
        for j in range(q):
            zt[np.arange(n), start[lev] + model.cl[lev] * q + j] = zs[lev][:, j]
    xb = model.X @ beta + model.offset

    def objective(v):
        lf, s, h = model.family.derivatives(model.y, xb + zt @ v, None)
        return lf.sum() - 0.5 * v @ v, zt.T @ s - v, np.eye(v.size) - (zt.T * h) @ zt

    v = np.zeros(start[-1])
    val, g, k = objective(v)
    for _ in range(100):
        d = np.linalg.solve(k, g)
        lam = 1.0
        while objective(v + lam * d)[0] < val - 1e-12:
            lam /= 2
        v = v + lam * d
        val, g, k = objective(v)
        if np.abs(d).max() < 1e-12:
            break
    cov = np.linalg.inv(k)
    out = []
    for lev in range(depth):
        q = model.q[lev]
        mus, bs, cs = [], [], []
        for c in range(model.m[lev]):
            anc, idx = c, []
            for up in range(lev, -1, -1):
                qq = model.q[up]
                idx = list(range(start[up] + anc * qq, start[up] + (anc + 1) * qq)) + idx
                if up:
                    anc = model.parent[up][anc]
            fac = _path_factor(cov[np.ix_(idx, idx)], model.q[: lev + 1])
            mus.append(v[idx[-q:]])
            bs.append(fac[-q:, :-q])
            cs.append(fac[-q:, -q:])
        out.append((np.array(mus), np.array(bs), np.array(cs)))
    return out


def _path_factor(cov, qs):
    """The nodes' factor F of a path's posterior covariance (F F' = cov), built top-down:
    a level's rows are [slope F_anc, C], slope the conditional mean's regression on the
    ancestors' effects and C = R^{-1} with R'R the conditional precision, R upper
    triangular (Pinheiro and Chao's QR factor, not the lower Cholesky factor of the
    conditional covariance)."""
    fac = np.zeros((0, 0))
    pos = 0
    for q in qs:
        a, o = slice(0, pos), slice(pos, pos + q)
        caa, coa, coo = cov[a, a], cov[o, a], cov[o, o]
        slope = coa @ np.linalg.inv(caa) if pos else np.zeros((q, 0))
        cond = coo - slope @ coa.T if pos else coo
        r_up = np.linalg.cholesky(np.linalg.inv(cond)).T
        new = np.zeros((pos + q, pos + q))
        new[:pos, :pos] = fac
        new[o, :pos] = slope @ fac
        new[o, o] = np.linalg.inv(r_up)
        fac, pos = new, pos + q
    np.testing.assert_allclose(fac @ fac.T, cov, atol=1e-10)
    return fac


@pytest.mark.parametrize("spec,par,sizes", [
    (SLOPE3, PAR_SLOPE3, [3, 3, 3]),
    (INTER4, PAR_INTER4, [2, 3, 2, 2]),
])
def test_adaptive_parameters_are_the_joint_posterior_mode_and_path_factor(spec, par, sizes):
    df = _simulate(sizes, 3, [0.8, 0.6, 0.5, 0.7][: len(sizes)], seed=4, slope_sd=0.5)
    model, *_ = _engine(df, spec, "bernoulli")
    ads = model.adapt(par, None)
    ref = _dense_reference(model, par)
    for ad, (mu, b, c) in zip(ads, ref, strict=True):
        np.testing.assert_allclose(ad.mu, mu, atol=1e-8)
        np.testing.assert_allclose(ad.b, b, atol=1e-8)
        np.testing.assert_allclose(ad.chol, c, atol=1e-8)


# ------------------------------------------------------------- one point = Laplace
@pytest.mark.parametrize("spec,par,family,sizes", [
    (SLOPE3, PAR_SLOPE3, "poisson", [5, 4, 3]),
    (INTER4, PAR_INTER4, "bernoulli", [4, 3, 3, 2]),
])
def test_one_point_per_level_is_the_sparse_laplace_approximation(spec, par, family, sizes):
    df = _simulate(sizes, 3, [0.6, 0.5, 0.4, 0.5][: len(sizes)], seed=2, family=family,
                   slope_sd=0.3)
    model, design, terms, fam = _engine(df, spec, family, points=1)
    lap = SparseLaplace(design.y, design.X, terms, fam).loglik(par)
    assert model.loglik(par, model.adapt(par, None)) == pytest.approx(lap, abs=1e-6)
    # meqr's intpoints(1) runs the same engine with method laplace
    model, *_ = _engine(df, spec, family, method="laplace")
    assert model.loglik(par, model.adapt(par, None)) == pytest.approx(lap, abs=1e-6)


def test_melanoma_three_levels_laplace_and_many_points():
    """meqrpoisson's melanoma model with a county level (one observation per county, an
    overdispersion effect): one point is the Laplace value; with more points the
    mode-curvature and mean-variance rules converge to the same integral."""
    from support import load_dataset

    df = load_dataset("melanoma")
    spec = "deaths uv || nation: || region: || county:"
    design = build_design(parse_model(spec, "meglm", list(df.columns)), df)
    terms = engine_terms(design.terms)
    off = np.log(df["expected"].to_numpy(float)[design.sample])
    fam = make_family("poisson", None)
    par = np.array([-0.05, -0.1, 0.35, 0.2, 0.15])

    def ll(method, points):
        m = NestedQuadrature(design.y, design.X, terms, fam, offset=off, method=method,
                             points=points)
        return m.loglik(par, m.adapt(par, None))

    lap = SparseLaplace(design.y, design.X, terms, fam, offset=off).loglik(par)
    assert ll("mcaghermite", 1) == pytest.approx(lap, abs=1e-6)
    assert ll("laplace", 1) == pytest.approx(lap, abs=1e-6)
    assert lap == pytest.approx(-1088.669186, abs=1e-5)
    mc11 = ll("mcaghermite", 11)
    assert mc11 == pytest.approx(ll("mvaghermite", 11), abs=1e-6)
    assert mc11 == pytest.approx(-1088.591143, abs=1e-5)
    assert ll("mcaghermite", 7) == pytest.approx(mc11, abs=1e-6)


def test_many_points_agree_with_mean_variance_quadrature_random_slope():
    df = _simulate([6, 3, 3], 3, [0.6, 0.5, 0.4], seed=8, family="poisson", slope_sd=0.3)
    mc, *_ = _engine(df, SLOPE3, "poisson", points=11)
    mv, *_ = _engine(df, SLOPE3, "poisson", method="mvaghermite", points=11)
    l_mc = mc.loglik(PAR_SLOPE3, mc.adapt(PAR_SLOPE3, None))
    l_mv = mv.loglik(PAR_SLOPE3, mv.adapt(PAR_SLOPE3, None))
    assert l_mc == pytest.approx(l_mv, abs=1e-4)


# ------------------------------------------------------------ weights = replication
def _replicate(df, weights):
    """Copies of clusters (each copy a new cluster, its subtree with it) and of
    observations as the integer weights say; weights[l] names level l's weight column,
    weights[-1] the observation weight."""
    levels = [c for c in df.columns if c.startswith("g")]
    rows = [df]
    for lev, col in enumerate(levels):
        out = []
        for part in rows:
            for c in range(int(part[weights[lev]].max())):
                sub = part[part[weights[lev]] > c].copy()
                sub[col] = sub[col] + 1000 * c
                out.append(sub)
        rows = out
    big = pd.concat(rows, ignore_index=True)
    big = big.loc[big.index.repeat(big[weights[-1]].astype(int))].reset_index(drop=True)
    for lev in range(len(levels)):  # nested ids as integer codes
        big[levels[lev]] = pd.factorize(pd.MultiIndex.from_frame(big[levels[: lev + 1]]))[0]
    return big


@pytest.mark.parametrize("spec,par,sizes", [
    (SLOPE3, PAR_SLOPE3, [3, 3, 2]),
    (INTER4, PAR_INTER4, [2, 2, 2, 2]),
])
def test_weights_at_every_level_equal_replicated_clusters(spec, par, sizes):
    df = _simulate(sizes, 2, [0.6, 0.5, 0.4, 0.5][: len(sizes)], seed=6, family="poisson",
                   slope_sd=0.3)
    rng = np.random.default_rng(3)
    levels = [c for c in df.columns if c.startswith("g")]
    cols = []
    for lev in range(len(levels)):
        codes = pd.factorize(pd.MultiIndex.from_frame(df[levels[: lev + 1]]))[0]
        df[f"w{lev}"] = rng.integers(1, 3, codes.max() + 1)[codes].astype(float)
        cols.append(f"w{lev}")
    df["wi"] = rng.integers(1, 3, len(df)).astype(float)
    cols.append("wi")
    big = _replicate(df, cols)
    for points in (1, 4):
        w, *_ = _engine(df, spec, "poisson", points=points, weights=df.wi.to_numpy(),
                        level_weights=[df[c].to_numpy() for c in cols[:-1]])
        u, *_ = _engine(big, spec, "poisson", points=points)
        assert w.loglik(par, w.adapt(par, None)) == pytest.approx(
            u.loglik(par, u.adapt(par, None)), abs=1e-8)


# ------------------------------------------------------------------------ fits
@pytest.fixture(scope="module")
def four_level() -> pd.DataFrame:
    return _simulate([10, 5, 4, 3], 5, [0.8, 0.6, 0.5, 0.7], seed=3)


def test_meglm_mcaghermite_three_and_four_levels_fit(four_level):
    r3 = memodels.meglm("y x || g0: || g1: || g2:, family(bernoulli) intmethod(mcaghermite) "
                        "intpoints(5)", four_level, nolog=True)
    assert r3.fit.converged and r3.fit.hessian_ok
    mv3 = memodels.meglm("y x || g0: || g1: || g2:, family(bernoulli) intpoints(5)",
                         four_level, nolog=True)
    assert r3.llf == pytest.approx(mv3.llf, abs=0.05)
    r4 = memodels.meglm("y x || g0: || g1: || g2: || g3:, family(bernoulli) "
                        "intmethod(mcaghermite) intpoints(3)", four_level, nolog=True)
    assert r4.fit.converged and r4.fit.hessian_ok
    assert len(four_level) == 3000
    assert r4.llf == pytest.approx(-1847.5847, abs=1e-3)


def test_meqrpoisson_melanoma_three_levels():
    """meqrpoisson with nation > region > county (meqr's re-solved modes)."""
    from support import load_dataset

    df = load_dataset("melanoma")
    res = memodels.meqrpoisson("deaths uv, exposure(expected) || nation: || region: || "
                               "county:", df, nolog=True)
    assert res.fit.converged
    assert res.llf == pytest.approx(-1086.6754, abs=1e-3)


def test_meqrlogit_four_levels(four_level):
    res = memodels.meqrlogit("y x || g0: || g1: || g2: || g3:, intpoints(3)", four_level,
                             nolog=True)
    assert res.fit.converged
    assert res.llf == pytest.approx(-1847.5689, abs=1e-3)
