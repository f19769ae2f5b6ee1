"""``margins, at()`` with many values (reliability audit, scale section: 2,001 values took
15 s and 100,001 tried to allocate 74.5 GiB): the work is linear in the number of at()
values, and the batched computation agrees with margins computed one value at a time and
with the delta method written out directly."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

import memodels
from memodels.session import Session


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    g = np.repeat(np.arange(40), 10)
    x = rng.uniform(size=g.size)
    f = rng.integers(1, 4, size=g.size)
    y = 1 + 0.5 * x + 0.3 * f + 0.2 * x * f + rng.normal(size=40)[g] + rng.normal(size=g.size)
    return pd.DataFrame({"y": y, "x": x, "f": f, "g": g, "s": np.where(g % 2, "odd", "even")})


@pytest.fixture(scope="module")
def fit(data):
    return memodels.fit("mixed y c.x##i.f || g:, nolog", data)


def _direct(fit, data: pd.DataFrame, at: dict, mask=None) -> tuple[float, float]:
    """xb averaged over the sample with the at() values set, and its delta-method SE,
    from the coefficient names (x, 2.f, 3.f, c.x#2.f, c.x#3.f, _cons) written out."""
    d = data.assign(**at)
    if mask is not None:
        d = d[mask]
    x, f = d["x"].to_numpy(), d["f"].to_numpy()
    cols = {"x": x, "2.f": (f == 2) * 1.0, "3.f": (f == 3) * 1.0,
            "c.x#2.f": (f == 2) * x, "c.x#3.f": (f == 3) * x, "_cons": np.ones(len(d))}
    b = fit.fe_params
    assert set(b.index) == set(cols)
    grad = np.array([cols[name].mean() for name in b.index])
    v = np.asarray(fit.vcov_matrix)[: b.size, : b.size]
    return float(grad @ b.to_numpy()), float(np.sqrt(grad @ v @ grad))


def test_many_at_values_fast_and_right(fit, data):
    values = np.round(np.linspace(0, 1, 2001), 12)
    start = time.perf_counter()
    table = fit.margins(data, at={"x": values})
    elapsed = time.perf_counter() - start
    assert len(table) == 2001
    assert elapsed < 2.0, f"2,001 at() values took {elapsed:.1f} s"
    for k in (0, 777, 2000):
        m, se = _direct(fit, data, {"x": values[k]})
        np.testing.assert_allclose(table["margin"].iloc[k], m, rtol=1e-10)
        np.testing.assert_allclose(table["se"].iloc[k], se, rtol=1e-8)


def test_batched_equals_one_at_a_time(fit, data):
    """The batched path (several at() values) against the single-value path, with
    over() groups and two at() variables."""
    table = fit.margins(data, at={"x": [0.0, 0.25, 0.9], "f": [1, 3]}, over="s")
    assert len(table) == 12
    for row in table.itertuples():
        one = fit.margins(data, at={"x": row.x, "f": row.f}, over="s")
        hit = one[one["s"] == row.s].iloc[0]
        np.testing.assert_allclose(row.margin, hit["margin"], rtol=1e-12)
        np.testing.assert_allclose(row.se, hit["se"], rtol=1e-10)
        m, se = _direct(fit, data, {"x": row.x, "f": row.f},
                        mask=(data["s"] == row.s).to_numpy())
        np.testing.assert_allclose(row.margin, m, rtol=1e-10)
        np.testing.assert_allclose(row.se, se, rtol=1e-8)


def test_joint_vce_is_small_and_right(fit, data):
    table = fit.margins(data, at={"x": np.linspace(0, 1, 50)})
    vce = table.attrs["vcov"]
    assert vce.shape == (50, 50)
    full = np.asarray(vce)
    np.testing.assert_allclose(np.sqrt(np.diag(full)), table["se"].to_numpy(), rtol=1e-10)
    np.testing.assert_allclose(vce.block([3, 7]), full[np.ix_([3, 7], [3, 7])], rtol=1e-12)
    # pandas copies attrs on every operation; the holder is shared, not copied
    assert table.copy().attrs["vcov"] is vce
    assert table.iloc[:3].attrs["vcov"] is vce


def test_session_many_values_linear(data):
    """The do-file path (parsing, computing and printing): 4x the at() values cost
    about 4x, not 16x or 64x."""
    s = Session(data)
    s.run("mixed y c.x##i.f || g:, nolog")
    times = []
    for step in ("0.002", "0.0005"):
        start = time.perf_counter()
        s.run(f"margins, at(x=(0({step})1))")
        times.append(time.perf_counter() - start)
    assert len(s.last) == 2001
    assert times[1] < 2.0
    assert times[1] < 10 * times[0] + 0.2, times


def test_unknown_at_variable_refused(fit, data):
    with pytest.raises(memodels.errors.OptionError, match="at\\(\\): variable nosuch not found"):
        fit.margins(data, at={"nosuch": [1]})
