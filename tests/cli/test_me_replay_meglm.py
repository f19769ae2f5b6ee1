"""Replay of the me commands' results ([ME] melogit, Stored results: e(cmd) is meglm and
e(cmd2) melogit): ``meglm`` alone replays melogit results, with the display options
(``noci``, ``coeflegend``); ``stddeviations`` is mixed's option and is refused."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from memodels.errors import MemodelsError
from memodels.session import Session, SessionError


def test_meglm_replays_melogit_results_with_display_options():
    rng = np.random.default_rng(4)
    g = np.repeat(np.arange(15), 8)
    x = rng.normal(size=g.size)
    y = (x + rng.normal(size=15)[g] + rng.logistic(size=g.size) > 0).astype(int)
    s = Session(pd.DataFrame({"g": g, "x": x, "y": y}))
    s.run("melogit y x || g:, nolog")
    noci = s.run("melogit, noci")
    assert s.run("meglm, noci") == noci
    assert "Conf. Interval" not in noci and "P>|z|" in noci
    legend = s.run("meglm, coeflegend")
    assert "_b[x]" in legend and "_b[var(_cons[g])]" in legend
    with pytest.raises(MemodelsError, match="stddeviations"):
        s.run("melogit, stddeviations")
    with pytest.raises(SessionError, match="last estimates not found"):
        s.run("mepoisson, noci")
