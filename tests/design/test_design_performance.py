"""Large designs are built with vectorised code."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from design_spec_helpers import c, i, plain, spec, t

from memodels.design import build_design
from memodels.spec import REEquation


def test_large_design_is_fast():
    rng = np.random.default_rng(0)
    n = 200_000
    data = pd.DataFrame(
        {
            "y": rng.normal(size=n),
            "x": rng.normal(size=n),
            "f": rng.integers(0, 5, size=n),
            "school": rng.integers(0, 500, size=n),
            "cls": rng.integers(0, 10, size=n),
            "item": rng.integers(0, 2000, size=n),
        }
    )
    data.loc[::97, "x"] = np.nan
    s = spec(
        "y",
        fixed=(*plain("x"), t(i("f")), t(i("f"), c("x"))),
        equations=[
            REEquation("_all", rfactor="item", noconstant=True),
            REEquation("school", ("x",)),
            REEquation("cls"),
        ],
    )
    build_design(s, data.head(1000))  # warm-up (imports)
    start = time.perf_counter()
    d = build_design(s, data)
    elapsed = time.perf_counter() - start
    assert d.terms[0].q == 2000
    assert d.terms[2].n_groups == 5000
    assert d.nobs == n - len(range(0, n, 97))
    assert elapsed < 1.0, elapsed
