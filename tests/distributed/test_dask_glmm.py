"""The me commands on a Dask DataFrame (issue #15) against the in-memory fit.

One 2-worker LocalCluster (processes) for the module.  The workers evaluate the
in-memory likelihood objects on their partitions and the client runs the in-memory
Newton-Raphson on the sums, with the adaptive quadrature fixed point iterated by all
partitions together: the fits must agree to 1e-8 with the same number of iterations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

import memodels  # noqa: E402
from memodels.errors import MemodelsError  # noqa: E402

RTOL = 1e-8


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
    cl = distributed.Client(cluster)
    yield cl
    cl.close()
    cluster.close()


@pytest.fixture(scope="module")
def frames(client):
    rng = np.random.default_rng(7)
    n_id, m = 60, 6
    gid = np.repeat(np.arange(n_id), m)
    school = gid // 6
    x = rng.normal(size=gid.size)
    eta = -0.3 + 0.6 * x + rng.normal(size=n_id)[gid] + 0.8 * rng.normal(size=10)[school]
    yb = (rng.random(gid.size) < 1 / (1 + np.exp(-eta))).astype(float)
    yc = rng.poisson(np.exp(0.2 + 0.3 * x + 0.6 * rng.normal(size=n_id)[gid]
                            + 0.3 * rng.normal(size=n_id)[gid] * x))
    lat = 0.7 * x + rng.normal(size=n_id)[gid] + rng.logistic(size=gid.size)
    yo = np.digitize(lat, [-1.0, 0.3, 1.5])
    f = rng.integers(1, 3, size=gid.size)
    df = pd.DataFrame({"yb": yb, "yc": yc, "yo": yo, "f": f, "x": x, "school": school,
                       "id": gid})
    df.loc[[5, 77], "x"] = np.nan
    return df, dd.from_pandas(df, npartitions=3)


CASES = [
    ("melogit", "yb x || id:", {}),
    ("melogit", "yb x || school: || id:", {}),
    ("melogit", "yb x || id:", {"intmethod": "ghermite", "intpoints": 5}),
    ("mepoisson", "yc x || id: x, covariance(unstructured)", {}),
    ("meologit", "yo x i.f || id:", {}),
]


@pytest.mark.parametrize(("cmd", "spec", "opts"), CASES)
def test_dask_me_equals_memory(frames, cmd, spec, opts):
    df, ddf = frames
    func = getattr(memodels, cmd)
    a = func(spec, df, nolog=True, **opts)
    b = func(spec, ddf, nolog=True, **opts)
    assert b.nobs == a.nobs and b.n_dropped == a.n_dropped
    assert b.iterations == a.iterations
    np.testing.assert_allclose(b.llf, a.llf, rtol=RTOL)
    np.testing.assert_allclose(b.params, a.params, rtol=RTOL)
    np.testing.assert_allclose(b.bse, a.bse, rtol=RTOL)
    assert [lv.n_groups for lv in b.levels] == [lv.n_groups for lv in a.levels]
    np.testing.assert_allclose(b.lincom("2 * x").estimate, a.lincom("2 * x").estimate,
                               rtol=RTOL)


@pytest.mark.parametrize(("cmd", "spec"), [("melogit", "yb x || school: || id:"),
                                           ("mepoisson", "yc x || id:")])
def test_dask_me_predict(frames, cmd, spec):
    df, ddf = frames
    func = getattr(memodels, cmd)
    a = func(spec, df, nolog=True)
    b = func(spec, ddf, nolog=True)
    for stat in ("xb", "mu", "eta"):  # eta and mu: with the empirical Bayes means
        pb = b.predict(stat)
        assert isinstance(pb, dd.Series)
        pa = a.predict(stat)
        np.testing.assert_allclose(pb.compute().reindex(pa.index), pa, rtol=1e-8)


def test_dask_me_refusals_and_errors(frames):
    df, ddf = frames
    with pytest.raises(MemodelsError, match="laplace"):
        memodels.melogit("yb x || id:", ddf, intmethod="laplace", nolog=True)
    with pytest.raises(MemodelsError, match="in range"):
        memodels.melogit("yb x in 1/50 || id:", ddf, nolog=True)
    # the in-memory outcome check, before the fit
    df0 = df.assign(z=0.0)
    with pytest.raises(MemodelsError) as mem:
        memodels.melogit("z x || id:", df0, nolog=True)
    with pytest.raises(type(mem.value)) as dsk:
        memodels.melogit("z x || id:", dd.from_pandas(df0, npartitions=2), nolog=True)
    assert str(dsk.value) == str(mem.value)
