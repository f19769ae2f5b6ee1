"""``svyset`` and ``svy:`` for the me commands ([SVY] svy, [ME] meglm example 6): the
linearized variance against the cluster sandwich where the design reduces to clusters,
against the stratified formula computed here from the PSUs' scores, the finite
population correction and subpopulations."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest

import memodels
from memodels.errors import MemodelsError
from memodels.glmm.robust import cluster_scores, optimizer_metric
from memodels.session import Session, SessionError


@functools.cache
def _data() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    n_schools, n_per = 40, 12
    school = np.repeat(np.arange(n_schools), n_per)
    u = rng.normal(scale=0.8, size=n_schools)[school]
    x = rng.normal(size=school.size)
    y = (0.3 + 0.7 * x + u + rng.logistic(size=school.size) > 0).astype(int)
    return pd.DataFrame({"school": school, "stratum": (np.arange(n_schools) % 4)[school],
                         "x": x, "y": y, "w1": rng.uniform(1, 2, school.size),
                         "w2": rng.uniform(1, 3, n_schools)[school], "f": 0.2,
                         "sub": (school >= 10).astype(int)})


MODEL = "melogit y x [pw=w1] || school:, pweight(w2)"


@functools.cache
def _cluster():
    return memodels.fit(MODEL, _data(), nolog=True)


def _svy(design: str, command: str = "svy: melogit y x || school:, nolog") -> Session:
    s = Session(_data())
    s.run(f"svyset {design}")
    s.run(command)
    return s


def test_one_stage_design_is_the_cluster_sandwich():
    s = _svy("school, weight(w2) || _n, weight(w1)")
    ref = _cluster()
    np.testing.assert_allclose(s.e.params.to_numpy(), ref.params.to_numpy(), rtol=1e-10)
    np.testing.assert_allclose(s.e.vcov.to_numpy(), ref.vcov.to_numpy(), rtol=1e-8)
    assert (s.e.extra["N_psu"], s.e.extra["N_strata"], s.e.extra["df_r"]) == (40, 1, 39)
    d = _data()
    assert s.e.extra["population_size"] == pytest.approx(float((d.w1 * d.w2).sum()))
    text = s.run("melogit")
    assert "Linearized" in text and "Number of PSUs     =         40" in text


def test_strata_and_fpc_against_the_stratified_formula():
    s = _svy("school, weight(w2) strata(stratum) fpc(f) || _n, weight(w1)")
    fit = _cluster().fit
    scores = cluster_scores(fit)
    to_opt, jac = optimizer_metric(fit)
    if to_opt is not None:
        scores = scores @ to_opt
    d = _data()
    stratum_of_school = d.groupby("school")["stratum"].first().to_numpy()
    meat = np.zeros((scores.shape[1],) * 2)
    for h in range(4):
        sh = scores[stratum_of_school == h]
        dev = sh - sh.mean(axis=0)
        n_h = sh.shape[0]
        meat += (1 - 0.2) * n_h / (n_h - 1) * dev.T @ dev
    bread = np.linalg.inv(-fit.extra["hessian"])
    v = jac @ bread @ meat @ bread @ jac.T
    np.testing.assert_allclose(s.e.fit.vcov, v, rtol=1e-6)
    assert (s.e.extra["N_strata"], s.e.extra["df_r"]) == (4, 36)


def test_fpc_scales_the_variance_and_subpop_keeps_the_design():
    s = _svy("school, weight(w2) fpc(f) || _n, weight(w1)")
    np.testing.assert_allclose(s.e.vcov.to_numpy(), 0.8 * _cluster().vcov.to_numpy(),
                               rtol=1e-8)
    s = _svy("school, weight(w2) || _n, weight(w1)",
             "svy, subpop(sub): melogit y x || school:, nolog")
    sub = _data()[_data()["sub"] == 1]
    ref = memodels.fit(MODEL, sub, nolog=True)  # 30 clusters
    assert s.e.nobs == len(sub) and s.e.extra["N_psu"] == 40
    np.testing.assert_allclose(s.e.vcov.to_numpy(),
                               ref.vcov.to_numpy() * (40 / 39) / (30 / 29), rtol=1e-7)


def test_svy_refusals():
    s = Session(_data())
    with pytest.raises(SessionError, match="svyset"):
        s.run("svy: melogit y x || school:")
    s.run("svyset school, strata(school)")
    with pytest.raises(MemodelsError, match="single sampling unit"):
        s.run("svy: melogit y x || school:, nolog")
    s.run("svyset school [pw=w1]")
    with pytest.raises(SessionError, match="not allowed"):
        s.run("svy: mixed y x || school:")
    with pytest.raises(SessionError, match="weights not allowed"):
        s.run("svy: melogit y x [pw=w1] || school:")
