"""Fits on a Dask DataFrame (issue #15) against the in-memory fit of the same data.

One 2-worker LocalCluster (processes) for the module.  The in-memory fit is the
independent computation.  For ``mixed`` the Dask engine rebuilds the likelihood from
per-group cross-products computed on the workers; for the me commands the workers
evaluate the in-memory likelihood objects on their partitions and the client runs the
in-memory Newton-Raphson on the sums, with the adaptive quadrature fixed point iterated
by all partitions together.  Equality to 1e-8 (and the same iteration count) checks the
statistics, their placement and the sample rules."""

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


def _data(seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n_cls, m = 60, 8
    cls = np.repeat(np.arange(n_cls), m)
    school = cls // 6
    x = rng.normal(size=cls.size)
    f = rng.integers(1, 4, size=cls.size)
    y = (1 + 0.5 * x + 0.3 * (f == 2) + rng.normal(size=n_cls)[cls]
         + 0.7 * rng.normal(size=10)[school] + 0.4 * rng.normal(size=n_cls)[cls] * x
         + rng.normal(size=cls.size))
    df = pd.DataFrame({"y": y, "x": x, "f": f, "school": school, "cls": cls % 6,
                       "id": cls, "t": np.tile(np.arange(m), n_cls)})
    df.loc[[3, 50], "x"] = np.nan  # listwise deletion counted
    return df


@pytest.fixture(scope="module")
def lmm_frames(client):
    df = _data()
    return df, dd.from_pandas(df, npartitions=3)


def _close(a, b, rtol=RTOL):
    np.testing.assert_allclose(np.asarray(b, float), np.asarray(a, float), rtol=rtol, atol=0)


CASES = [
    "y x i.f || id:",
    "y x i.f || id: x, covariance(unstructured)",
    "y x || school: || cls:",
    "y x i.f || school: x || cls:, reml",
    "y x if f > 1 || id: x",
]


@pytest.mark.parametrize("spec", CASES)
def test_dask_mixed_equals_memory(lmm_frames, spec):
    df, ddf = lmm_frames
    a = memodels.mixed(spec, df, nolog=True)
    b = memodels.mixed(spec, ddf, nolog=True)
    assert b.nobs == a.nobs and b.n_dropped == a.n_dropped
    assert b.iterations == a.iterations
    _close(a.llf, b.llf)
    _close(a.params, b.params)
    _close(a.bse, b.bse)
    assert [lv.n_groups for lv in b.levels] == [lv.n_groups for lv in a.levels]
    assert [(lv.min, lv.max) for lv in b.levels] == [(lv.min, lv.max) for lv in a.levels]


@pytest.mark.parametrize("spec", ["y x || school: || id:, residuals(ar 1, t(t))"])
def test_dask_mixed_residual_structure(lmm_frames, spec):
    """residuals(): one pass per value of the residual parameters.  The in-memory fit
    differentiates its criterion numerically (L-BFGS-B 2-point, Newton on a finite-
    difference Hessian), so two fits whose sums are added in different orders agree to
    the optimizer's tolerance, not to rounding: rtol 1e-5."""
    df, ddf = lmm_frames
    a = memodels.mixed(spec, df, nolog=True)
    b = memodels.mixed(spec, ddf, nolog=True)
    _close(a.llf, b.llf, rtol=1e-9)
    _close(a.params, b.params, rtol=1e-5)
    _close(a.bse, b.bse, rtol=1e-5)
    pa = a.predict("fitted")
    pb = b.predict("fitted").compute().reindex(pa.index)
    np.testing.assert_allclose(pb, pa, rtol=0, atol=1e-5 * float(np.abs(pa).max()))


def test_dask_mixed_predict(lmm_frames):
    df, ddf = lmm_frames
    spec = "y x i.f || school: x || cls:, reml"
    a = memodels.mixed(spec, df, nolog=True)
    b = memodels.mixed(spec, ddf, nolog=True)
    for stat in ("xb", "fitted", "residuals", "rstandard"):
        pb = b.predict(stat)
        assert isinstance(pb, dd.Series)
        assert pb.npartitions == b.extra["dask_frame"].npartitions
        got = pb.compute()
        pa = a.predict(stat)
        assert got.isna().sum() == len(df) - len(pa)  # NaN outside the sample
        _close(pa, got.reindex(pa.index), rtol=1e-8)
    # postestimation on the result as in memory
    _close(a.lincom("x + _cons").estimate, b.lincom("x + _cons").estimate)
    _close(a.test("x").chi2, b.test("x").chi2)


def test_dask_mixed_fit_entry_and_refusals(lmm_frames):
    df, ddf = lmm_frames
    a = memodels.fit("mixed y x || id:", df, nolog=True)
    b = memodels.fit("mixed y x || id:", ddf, nolog=True)
    _close(a.llf, b.llf)
    with pytest.raises(MemodelsError, match="in range"):
        memodels.mixed("y x in 1/100 || id:", ddf, nolog=True)
    with pytest.raises(MemodelsError, match="crossed"):
        memodels.mixed("y x || _all: R.school || id:", ddf, nolog=True)
    # a model the rows alone can answer (e(sample)) refuses rather than guessing
    with pytest.raises(MemodelsError, match="Dask"):
        np.asarray(b.design.y)


@pytest.mark.parametrize("spec", ["y nosuch || id:", "s x || id:", "y x || nosuch:"])
def test_dask_bad_input_same_error(lmm_frames, spec):
    df, ddf = lmm_frames
    df = df.assign(s=np.where(df["x"] > 0, "a", "b"))
    ddf = ddf.assign(s=ddf["x"].map(lambda v: "a" if v > 0 else "b", meta=("s", object)))
    with pytest.raises(MemodelsError) as mem:
        memodels.mixed(spec, df, nolog=True)
    with pytest.raises(type(mem.value)) as dsk:
        memodels.mixed(spec, ddf, nolog=True)
    assert str(dsk.value) == str(mem.value)


def test_dask_bootstrap_client_same_replicates(client):
    """Replications as Dask tasks: the per-replication seeds give the replicates of the
    local run (n_jobs=1 computes exactly what the process pool computes)."""
    rng = np.random.default_rng(3)
    gid = np.repeat(np.arange(20), 5)
    x = rng.normal(size=gid.size)
    df = pd.DataFrame({"y": 1 + x + rng.normal(size=20)[gid] + rng.normal(size=gid.size),
                       "x": x, "id": gid})
    kw = {"reps": 4, "cluster": "id", "idcluster": "newid", "seed": 11, "progress": False}
    local = memodels.bootstrap("mixed y x || newid:", df, n_jobs=1, **kw)
    remote = memodels.bootstrap("mixed y x || newid:", df, client=client, **kw)
    pd.testing.assert_frame_equal(remote.replicates, local.replicates)
    assert remote.replicates["x"].std() > 0  # the replications did resample


def test_dask_cli_parquet_scheduler(client, lmm_frames, tmp_path, capsys):
    """memodels fit FOLDER "mixed ..." --scheduler ADDRESS: a Parquet folder read on the
    cluster, the fit printed as in memory."""
    from memodels.cli.main import main

    df, _ = lmm_frames
    folder = tmp_path / "pq"
    folder.mkdir()
    for k in range(2):
        df.iloc[k * 240:(k + 1) * 240].to_parquet(folder / f"part{k}.parquet")
    rc = main(["fit", str(folder), "mixed y x || id:", "--scheduler",
               client.scheduler.address])
    out = capsys.readouterr()
    assert rc == 0, out.err
    csv = tmp_path / "d.csv"
    df.to_csv(csv, index=False)
    assert main(["fit", str(csv), "mixed y x || id:"]) == 0
    mem = capsys.readouterr().out

    def table(text: str) -> list[str]:  # the header and coefficient table lines
        return [ln for ln in text.splitlines() if "Log likelihood" in ln or "|" in ln]

    assert table(out.out) == table(mem) and len(table(mem)) > 5
    assert main(["fit", str(csv), "mixed y x || id:", "--dask", "local"]) == 2
    assert "Parquet" in capsys.readouterr().err


# ------------------------------------------------------------------ me commands
@pytest.fixture(scope="module")
def me_frames(client):
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


ME_CASES = [
    ("melogit", "yb x || id:", {}),
    ("melogit", "yb x || school: || id:", {}),
    ("melogit", "yb x || id:", {"intmethod": "ghermite", "intpoints": 5}),
    ("mepoisson", "yc x || id: x, covariance(unstructured)", {}),
    ("meologit", "yo x i.f || id:", {}),
]


@pytest.mark.parametrize(("cmd", "spec", "opts"), ME_CASES)
def test_dask_me_equals_memory(me_frames, cmd, spec, opts):
    df, ddf = me_frames
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


@pytest.mark.parametrize(("cmd", "spec"), [("melogit", "yb x || school: || id:")])
def test_dask_me_predict(me_frames, cmd, spec):
    df, ddf = me_frames
    func = getattr(memodels, cmd)
    a = func(spec, df, nolog=True)
    b = func(spec, ddf, nolog=True)
    for stat in ("xb", "mu"):  # eta and mu: with the empirical Bayes means
        pb = b.predict(stat)
        assert isinstance(pb, dd.Series)
        pa = a.predict(stat)
        np.testing.assert_allclose(pb.compute().reindex(pa.index), pa, rtol=1e-8)


def test_dask_me_refusals_and_errors(me_frames):
    df, ddf = me_frames
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


def test_dask_mestreg_equals_memory(client):
    """mestreg on a Dask frame holding stset's columns (_t0, _t, _d): the survival family
    binds each partition's _t0 and _d, as in memory on all rows."""
    rng = np.random.default_rng(4)
    gid = np.repeat(np.arange(40), 6)
    x = rng.normal(size=gid.size)
    lam = np.exp(-1 + 0.5 * x + 0.7 * rng.normal(size=40)[gid])
    t = (-np.log(rng.random(gid.size)) / lam) ** (1 / 1.3)
    c = rng.exponential(3, size=gid.size)
    df = pd.DataFrame({"time": np.minimum(t, c), "fail": (t <= c).astype(float), "x": x,
                       "id": gid})
    st = memodels.stset(df, "time", failure="fail")
    spec = "x || id:, distribution(weibull)"
    a = memodels.mestreg(spec, st, nolog=True)
    b = memodels.mestreg(spec, dd.from_pandas(pd.DataFrame(st), npartitions=3), nolog=True)
    assert b.iterations == a.iterations and b.title == a.title
    np.testing.assert_allclose(b.llf, a.llf, rtol=RTOL)
    np.testing.assert_allclose(b.params, a.params, rtol=RTOL)
    np.testing.assert_allclose(b.bse, a.bse, rtol=RTOL)
    with pytest.raises(MemodelsError, match="_t0"):
        memodels.mestreg(spec, dd.from_pandas(df, npartitions=2), nolog=True)


def test_dask_session_bootstrap_prefix_on_client(client):
    """The do-file bootstrap prefix with a session-level client (Session.dask_client):
    the replications run on the cluster, with the replicates of the local run."""
    from memodels.session import Session

    rng = np.random.default_rng(5)
    gid = np.repeat(np.arange(15), 4)
    df = pd.DataFrame({"y": rng.normal(size=15)[gid] + rng.normal(size=gid.size),
                       "x": rng.normal(size=gid.size), "id": gid})
    line = "bootstrap, reps(3) cluster(id) idcluster(nid) seed(2) nodots: mixed y x || nid:"
    local = Session(df)
    local.run_script(line, out=None)
    remote = Session(df)
    remote.dask_client = client
    remote.run_script(line, out=None)
    pd.testing.assert_frame_equal(remote.e.boot.replicates, local.e.boot.replicates)


def test_dask_predict_duplicate_index_labels(client, lmm_frames):
    """Parquet datasets index each file from 0: the predictions are placed by position."""
    df, _ = lmm_frames
    halves = [df.iloc[:240].reset_index(drop=True), df.iloc[240:].reset_index(drop=True)]
    ddf = dd.concat([dd.from_pandas(h, npartitions=1) for h in halves])
    a = memodels.mixed("y x || id:", pd.concat(halves, ignore_index=True), nolog=True)
    b = memodels.mixed("y x || id:", ddf, nolog=True)
    got = b.predict("fitted").compute()
    assert len(got) == len(df) and not got.index.is_unique
    np.testing.assert_allclose(np.sort(got.dropna().to_numpy()),
                               np.sort(a.predict("fitted").to_numpy()), rtol=1e-8)
