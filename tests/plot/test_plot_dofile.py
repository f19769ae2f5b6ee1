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


def test_stcurve_in_a_do_file(tmp_path):
    s = Session()
    out = tmp_path / "st.png"
    s.run_script("webuse catheter\nstset time, failure(infect)\n"
                 "quietly mestreg age female || patient:, distribution(weibull)\n"
                 f"stcurve, surv at1(female=0 age=53) at2(female=1 age=53) saving({out})")
    assert out.exists()
    lines = s.graph.axes[0].lines
    curve = s.e.stcurve("survival", data=s.data, plot=False,
                        at=[{"female": 0, "age": 53}, {"female": 1, "age": 53}]).data
    assert len(lines) == 2
    for i, line in enumerate(lines, start=1):
        np.testing.assert_allclose(line.get_ydata(), curve.loc[curve["_at"] == i, "surv"],
                                   rtol=1e-12)
    s.run("stcurve, hazard at(female=1) range(1 500)")
    x = s.graph.axes[0].lines[0].get_xdata()
    assert x[0] == 1 and x[-1] == 500
    with pytest.raises(Exception, match="one of survival"):
        s.run("stcurve, at(female=1)")
    s.run("quietly mixed _t age || patient:")
    with pytest.raises(SessionError, match="mestreg"):
        s.run("stcurve, hazard")
