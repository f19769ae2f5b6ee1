"""marginsplot and graph export in a session ([R] marginsplot)."""

from __future__ import annotations

import numpy as np
import pytest

from memodels.errors import OptionError
from memodels.session import Session, SessionError
from support import fitted, load_dataset


def test_marginsplot_draws_the_margins_and_exports(tmp_path):
    s = Session(load_dataset("pig"))
    with pytest.raises(SessionError, match="not margins"):
        s.run("marginsplot")
    s.e = fitted("pig", "mixed weight week || id:")
    s.run("margins, at(week=(1(2)9))")
    out = s.run(f'marginsplot, ytitle("Weight (kg)") saving({tmp_path / "m.png"})')
    assert "uniquely identify margins: week" in out
    assert (tmp_path / "m.png").stat().st_size > 0
    ax = s.graph.axes[0]
    np.testing.assert_allclose(np.asarray(ax.lines[0].get_ydata(), float),
                               s.last["margin"].to_numpy())
    np.testing.assert_allclose(np.asarray(ax.lines[0].get_xdata(), float), [1, 3, 5, 7, 9])
    assert ax.get_ylabel() == "Weight (kg)"
    s.run(f"graph export {tmp_path / 'g.png'}")
    with pytest.raises(SessionError, match="already exists"):
        s.run(f"graph export {tmp_path / 'g.png'}")
    s.run(f"graph export {tmp_path / 'g.png'}, replace")
    with pytest.raises(OptionError, match="legend"):
        s.run("marginsplot, legend(cols(1))")
