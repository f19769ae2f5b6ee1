"""marginsplot and graph export in do-files (#17 item 4)."""

import numpy as np
import pytest

from support import load_dataset

matplotlib = pytest.importorskip("matplotlib")

from memodels.cli.common import ScriptError, SessionError  # noqa: E402
from memodels.session import Session  # noqa: E402

SCRIPT = """
mixed weight week || id:
margins, at(week=(1 5 9))
marginsplot, saving({saving})
graph export {export}
"""


def test_marginsplot_and_graph_export(tmp_path):
    before = matplotlib.get_backend()
    s = Session(load_dataset("pig"))
    saving, export = tmp_path / "m.png", tmp_path / "m.svg"
    log = s.run_script(SCRIPT.format(saving=saving, export=export))
    assert saving.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert export.read_text().lstrip().startswith(("<?xml", "<svg"))
    assert f"(file {export} written in SVG format)" in log
    ax = s.graph.axes[0]
    line = ax.containers[0].lines[0]
    np.testing.assert_allclose(line.get_ydata(), s.last["margin"].to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(line.get_xdata(), [1, 5, 9])
    assert matplotlib.get_backend() == before
    # an existing file needs replace (Stata's r(602)); replace overwrites it
    with pytest.raises(SessionError, match="already exists") as err:
        s.run(f"graph export {export}")
    assert err.value.rc == 602
    s.run(f"graph export {export}, replace width(300)")
    s.run("marginsplot, noci title(Growth)")
    assert s.graph.axes[0].get_title() == "Growth" and not s.graph.axes[0].containers[0].has_yerr


def test_marginsplot_needs_margins():
    s = Session(load_dataset("pig"))
    with pytest.raises(ScriptError, match="graph in memory"):
        s.run_script("graph export x.png")
    s.run("mixed weight week || id:")
    with pytest.raises(SessionError, match="not margins"):
        s.run("marginsplot")
    s.run("margins, at(week=(1 2))")
    with pytest.raises(SessionError, match="gph"):
        s.run("marginsplot, saving(mygraph)")
    with pytest.raises(Exception, match="bogus"):
        s.run("marginsplot, bogus")
