"""me commands without a random-effects equation fit the plain model (reliability.md
finding 4: IndexError at glmm/fit.py:94 before).  Each fit is checked against a
maximum-likelihood fit computed here with scipy or closed-form least squares."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, special, stats

from memodels.commands.me_binary import melogit, meprobit
from memodels.commands.me_count import menbreg, mepoisson
from memodels.commands.me_ordinal import meologit, meoprobit
from memodels.commands.meglm import meglm
from memodels.commands.meqr import meqrlogit
from memodels.errors import OptionError, StataSyntaxError

N = 300


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    rng = np.random.default_rng(42)
    x = rng.normal(size=N)
    z = rng.uniform(-1, 1, size=N)
    eta = -0.2 + 0.7 * x - 0.5 * z
    b = (rng.uniform(size=N) < special.expit(eta)).astype(int)
    expo = rng.uniform(0.5, 2.0, size=N)
    c = rng.poisson(np.exp(0.3 + 0.4 * x - 0.3 * z) * expo)
    nb = rng.negative_binomial(2.0, 2.0 / (2.0 + np.exp(0.5 + 0.4 * x)))
    o = np.digitize(eta + rng.logistic(size=N), [-1.0, 0.0, 1.0]) + 1
    yg = 1.0 + 0.5 * x - z + rng.normal(scale=0.8, size=N)
    return pd.DataFrame({"x": x, "z": z, "b": b, "c": c, "nb": nb, "o": o, "yg": yg,
                         "expo": expo, "g": np.repeat(np.arange(30), N // 30)})


def _mle(negll, k: int, start=None) -> tuple[np.ndarray, float]:
    x0 = np.zeros(k) if start is None else np.asarray(start, float)
    res = optimize.minimize(negll, x0, method="BFGS",
                            options={"gtol": 1e-9, "maxiter": 2000})
    return res.x, -res.fun


def _X(df: pd.DataFrame) -> np.ndarray:
    return np.column_stack([df.x, df.z, np.ones(len(df))])


def test_melogit_is_logistic_regression(df):
    X, y = _X(df), df.b.to_numpy(float)
    beta = np.zeros(3)
    for _ in range(50):  # IRLS
        p = special.expit(X @ beta)
        w = p * (1 - p)
        info = X.T @ (X * w[:, None])
        beta = beta + np.linalg.solve(info, X.T @ (y - p))
    p = special.expit(X @ beta)
    ll = float(np.sum(y * np.log(p) + (1 - y) * np.log1p(-p)))
    se = np.sqrt(np.diag(np.linalg.inv(X.T @ (X * (p * (1 - p))[:, None]))))
    res = melogit("b x z", df, nolog=True)
    np.testing.assert_allclose(res.params[["x", "z", "_cons"]], beta, rtol=1e-6)
    np.testing.assert_allclose(res.bse[["x", "z", "_cons"]], se, rtol=1e-5)
    assert res.llf == pytest.approx(ll, rel=1e-9)
    assert res.converged
    assert res.lr_test is None
    text = res.summary()
    assert text.startswith("Logistic regression")
    assert "Integration" not in text and "var(" not in text


def test_meprobit_is_probit(df):
    X, y = _X(df), df.b.to_numpy(float)

    def negll(b):
        e = X @ b
        return -float(np.sum(y * stats.norm.logcdf(e) + (1 - y) * stats.norm.logcdf(-e)))

    beta, ll = _mle(negll, 3)
    res = meprobit("b x z", df, nolog=True)
    np.testing.assert_allclose(res.params[["x", "z", "_cons"]], beta, rtol=1e-5)
    assert res.llf == pytest.approx(ll, rel=1e-8)
    assert res.title == "Probit regression"


def test_mepoisson_exposure_is_poisson(df):
    X, y, off = _X(df), df.c.to_numpy(float), np.log(df.expo.to_numpy())

    def negll(b):
        mu = np.exp(X @ b + off)
        return -float(np.sum(y * np.log(mu) - mu - special.gammaln(y + 1)))

    beta, ll = _mle(negll, 3)
    res = mepoisson("c x z, exposure(expo)", df, nolog=True)
    np.testing.assert_allclose(res.params[["x", "z", "_cons"]], beta, rtol=1e-5)
    assert res.llf == pytest.approx(ll, rel=1e-8)
    assert res.title == "Poisson regression"


def test_menbreg_is_nbreg(df):
    X, y = np.column_stack([df.x, np.ones(N)]), df.nb.to_numpy(float)

    def negll(par):
        mu, a = np.exp(X @ par[:2]), np.exp(par[2])
        m = 1 / a
        return -float(np.sum(special.gammaln(y + m) - special.gammaln(m)
                             - special.gammaln(y + 1) + m * np.log(m / (m + mu))
                             + y * np.log(mu / (m + mu))))

    par, ll = _mle(negll, 3)
    res = menbreg("nb x", df, nolog=True)
    np.testing.assert_allclose(res.params[["x", "_cons", "/lnalpha"]], par, rtol=1e-4)
    assert res.llf == pytest.approx(ll, rel=1e-8)
    assert res.title == "Negative binomial regression"


@pytest.mark.parametrize("command,cdf", [(meologit, special.expit),
                                         (meoprobit, stats.norm.cdf)])
def test_ordinal_is_ologit_oprobit(df, command, cdf):
    X, y = np.column_stack([df.x, df.z]), df.o.to_numpy() - 1

    def negll(par):
        beta, cuts = par[:2], np.cumsum(np.r_[par[2], np.exp(par[3:])])
        e = X @ beta
        edges = np.column_stack([np.full(N, -np.inf), cuts[None, :] - e[:, None],
                                 np.full(N, np.inf)])
        p = cdf(edges[np.arange(N), y + 1]) - cdf(edges[np.arange(N), y])
        with np.errstate(divide="ignore"):
            return -float(np.sum(np.log(p)))

    par, ll = _mle(negll, 5, [0.0, 0.0, -1.0, 0.0, 0.0])
    cuts = np.cumsum(np.r_[par[2], np.exp(par[3:])])
    res = command("o x z", df, nolog=True)
    np.testing.assert_allclose(res.params[["x", "z"]], par[:2], rtol=1e-5)
    np.testing.assert_allclose(res.params[["/cut1", "/cut2", "/cut3"]], cuts, rtol=1e-5)
    assert res.llf == pytest.approx(ll, rel=1e-8)
    assert res.title.startswith("Ordered")


def test_meglm_gaussian_is_ml_regression(df):
    X, y = _X(df), df.yg.to_numpy()
    beta = np.linalg.lstsq(X, y, rcond=None)[0]
    s2 = float(np.sum((y - X @ beta) ** 2) / N)  # ML variance
    ll = -0.5 * N * (np.log(2 * np.pi * s2) + 1)
    res = meglm("yg x z", df, nolog=True)
    np.testing.assert_allclose(res.params[["x", "z", "_cons"]], beta, rtol=1e-7)
    assert res.params["var(e.yg)"] == pytest.approx(s2, rel=1e-6)
    assert res.llf == pytest.approx(ll, rel=1e-9)
    assert res.title == "Generalized linear model"


def test_postestimation_without_random_effects(df):
    res = melogit("b x z", df, nolog=True)
    X = _X(df)
    p = special.expit(X @ res.params[["x", "z", "_cons"]].to_numpy())
    for kw in ({}, {"marginal": True}, {"conditional": "fixedonly"}):
        np.testing.assert_allclose(res.predict("mu", data=df, **kw), p, rtol=1e-12)
    scores = res.predict("scores", data=df)
    np.testing.assert_allclose(scores["x"], (df.b - p) * df.x, rtol=1e-10, atol=1e-12)
    with pytest.raises(OptionError, match="the model has no random effects"):
        res.predict("reffects", data=df)
    with pytest.raises(OptionError, match="estat sd: the model has no random effects"):
        res.estat("sd")
    m = res.margins(df)
    assert float(m["margin"].iloc[0]) == pytest.approx(float(p.mean()), rel=1e-10)
    # the random-intercept model nests it: its LR comparison value is this fit's llf
    full = melogit("b x z || g:", df, nolog=True)
    assert full.ll_fixed == pytest.approx(res.llf, rel=1e-9)


def test_refused_options_without_random_effects(df):
    with pytest.raises(OptionError, match="constraints\\(\\) with a model without random"):
        melogit("b x z, constraints(1)", df, nolog=True, constraints={1: "_b[x] = 0.5"})
    with pytest.raises(StataSyntaxError, match="meqrlogit requires at least one random"):
        meqrlogit("b x z", df, nolog=True)


def test_mestreg_without_random_effects_is_streg():
    from memodels import stset
    from memodels.commands.mestreg import mestreg

    rng = np.random.default_rng(3)
    n = 240
    x = rng.normal(size=n)
    t = rng.weibull(1.5, size=n) * np.exp(-0.5 * x / 1.5)
    cens = rng.uniform(0, 2, size=n)
    d, tt = (t <= cens).astype(float), np.minimum(t, cens)
    st = stset(pd.DataFrame({"x": x, "t": tt, "d": d, "g": np.repeat(np.arange(24), 10)}),
               "t", failure="d")

    def negll(p):  # Weibull PH: h(t) = lam p t^(p-1), lam = exp(b0 + b1 x)
        lam, pp = np.exp(p[0] + p[1] * x), np.exp(p[2])
        return -float(np.sum(d * (np.log(lam) + p[2] + (pp - 1) * np.log(tt)) - lam * tt**pp))

    par, _ = _mle(negll, 3)
    res = mestreg("x", st, distribution="weibull", nolog=True)
    np.testing.assert_allclose(res.params[["_cons", "x", "/ln_p"]], par, rtol=1e-5)
    assert res.title == "Weibull PH regression"
    surv = res.predict("surv", data=st)
    lam = np.exp(par[0] + par[1] * x)
    np.testing.assert_allclose(surv, np.exp(-lam * tt ** np.exp(par[2])), rtol=1e-5)
    full = mestreg("x || g:", st, distribution="weibull", nolog=True)
    assert full.ll_fixed == pytest.approx(res.llf, rel=1e-9)


@pytest.mark.parametrize("how", ["robust", "cluster", "pweight"])
def test_robust_vce_without_random_effects(df, how):
    """The sandwich H^-1 {M/(M-1) sum s_c s_c'} H^-1 of the logit, computed here."""
    X, y = _X(df), df.b.to_numpy(float)
    w = 0.5 + (np.arange(N) % 3) if how == "pweight" else np.ones(N)
    spec = {"robust": "b x z, vce(robust)", "cluster": "b x z, vce(cluster g)",
            "pweight": "b x z [pw=w]"}[how]
    res = melogit(spec, df.assign(w=w), nolog=True)
    beta = res.params[["x", "z", "_cons"]].to_numpy()
    p = special.expit(X @ beta)
    bread = np.linalg.inv(X.T @ (X * (w * p * (1 - p))[:, None]))
    s = X * (w * (y - p))[:, None]
    if how == "cluster":
        s = pd.DataFrame(s).groupby(df.g.to_numpy()).sum().to_numpy()
    m = s.shape[0]
    v = bread @ (m / (m - 1) * s.T @ s) @ bread
    np.testing.assert_allclose(res.bse[["x", "z", "_cons"]], np.sqrt(np.diag(v)), rtol=1e-6)
    text = res.summary()
    assert "Robust" in text and "Log pseudolikelihood" in text
    assert ("adjusted for 30 clusters in g" in text) == (how == "cluster")
