"""Property checks of group coding against pandas' own grouping."""

from __future__ import annotations

import numpy as np
import pandas as pd
from design_spec_helpers import plain, spec
from hypothesis import given, settings
from hypothesis import strategies as st

from memodels.design import build_design


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 4), st.sampled_from(["a", "b", "c"]), st.integers(-2, 2)),
        min_size=1,
        max_size=40,
    )
)
def test_nested_codes_match_sorted_groupby(rows):
    data = pd.DataFrame(rows, columns=["top", "mid", "low"]).assign(y=1.0)
    d = build_design(spec("y", equations=["top", "mid", "low"]), data)
    for term, keys in zip(d.terms, [["top"], ["top", "mid"], ["top", "mid", "low"]], strict=True):
        expected = data.groupby(keys, sort=True).ngroup().to_numpy()
        np.testing.assert_array_equal(term.groups, expected)
        assert term.n_groups == expected.max() + 1
    for lev, term in zip(d.levels, d.terms, strict=True):
        counts = np.bincount(term.groups)
        assert (lev.min, lev.max) == (counts.min(), counts.max())
        assert lev.avg == len(data) / term.n_groups


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 6), st.integers(0, 2**31 - 1))
def test_collinear_combination_always_omitted(p, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(50, p))
    coef = rng.normal(size=p)
    data = pd.DataFrame(X, columns=[f"x{k}" for k in range(p)])
    data["comb"] = X @ coef + 3.0
    data["y"] = rng.normal(size=50)
    data["g"] = np.arange(50) % 5
    names = [f"x{k}" for k in range(p)]
    d = build_design(spec("y", fixed=plain(*names, "comb"), equations=["g"]), data)
    status = {c.name: c.status for c in d.columns}
    assert status["comb"] == "omitted"
    assert all(status[n] == "ok" for n in names)
    assert d.X.shape == (50, p + 1)
