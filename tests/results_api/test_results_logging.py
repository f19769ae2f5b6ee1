"""Issue #17, item 1: the Python API is quiet (iteration lines go to the ``memodels``
logger), ``log=True`` prints Stata's log, a Session prints it as Stata does, and
convergence/boundary problems are Python warnings (ConvergenceWarning, a
MemodelsWarning) as well as entries of ``res.warnings``."""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd
import pytest

import memodels
from memodels.errors import ConvergenceWarning, MemodelsWarning
from support import load_dataset


@pytest.fixture(scope="module")
def pig():
    return load_dataset("pig")


def test_python_fit_prints_nothing_and_logs_iterations(pig, capsys, caplog):
    with caplog.at_level(logging.INFO, logger="memodels"):
        res = memodels.mixed("weight week || id:", pig)
    assert capsys.readouterr().out == ""
    lines = [r.getMessage() for r in caplog.records if r.name == "memodels"]
    its = [ln for ln in lines if ln.startswith("Iteration")]
    assert its and its[0].startswith("Iteration 0:")
    # the last logged log likelihood is the fit's (Stata's %10.0g-like 8 digits)
    assert float(its[-1].split("=")[1]) == pytest.approx(res.llf, rel=1e-7)


def _binary(seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(30), 8)
    x = np.tile(np.arange(8.0), 30)
    y = (rng.random(g.size) < 1 / (1 + np.exp(-(x - 4) / 3))).astype(int)
    return pd.DataFrame({"y": y, "x": x, "g": g})


def test_fit_and_me_commands_are_quiet(pig, capsys):
    memodels.fit("mixed weight week || id:", pig)
    memodels.melogit("y x || g:", _binary())
    memodels.fit("melogit y x || g:", _binary())
    assert capsys.readouterr().out == ""


def test_log_true_prints_and_nolog_wins(pig, capsys):
    memodels.melogit("y x || g:", _binary(), log=True)
    out = capsys.readouterr().out
    assert out.startswith("Fitting fixed-effects model:") and "Fitting full model:" in out
    memodels.mixed("weight week || id:, nolog", pig)
    memodels.mixed("weight week || id:", pig, nolog=True)
    assert capsys.readouterr().out == ""


def test_session_prints_stata_log_unless_nolog(pig):
    s = memodels.Session(pig)
    out = s.run("mixed weight week || id:")
    assert "Iteration 0:   log likelihood = -1014.9268" in out
    quiet = s.run("mixed weight week || id:, nolog")
    assert "Iteration" not in quiet and "Mixed-effects ML regression" in quiet


def _boundary_data() -> pd.DataFrame:
    # no group effects at all: the random-slope variance goes to the boundary (0)
    rng = np.random.default_rng(3)
    g = np.repeat(np.arange(30), 8)
    x = np.tile(np.arange(8.0), 30)
    y = 1 + 0.5 * x + rng.normal(0, 1, g.size)
    return pd.DataFrame({"y": y, "x": x, "g": g})


def test_boundary_is_a_convergence_warning_and_kept_in_res_warnings():
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        res = memodels.mixed("y x || g: x", _boundary_data())
    assert res.warnings, "the fit should report a problem"
    raised = [str(w.message) for w in seen if issubclass(w.category, ConvergenceWarning)]
    assert "a variance component is at the boundary of the parameter space (0)" in \
        res.warnings
    for text in res.warnings:
        assert any(r.endswith(text) for r in raised), (text, raised)
    # melogit too (the me commands' results)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        res = memodels.melogit("y x || g:", _binary(3))
    raised = [str(w.message) for w in seen if issubclass(w.category, ConvergenceWarning)]
    assert res.warnings and all(any(r.endswith(t) for r in raised) for t in res.warnings)
    assert issubclass(ConvergenceWarning, MemodelsWarning)
    assert memodels.ConvergenceWarning is ConvergenceWarning
    assert memodels.MemodelsWarning is MemodelsWarning
    boundary = [w for w in seen if "at the boundary" in str(w.message)]
    assert boundary and all(w.category is memodels.BoundaryWarning for w in boundary)


def test_warnings_can_be_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error", MemodelsWarning)
        with pytest.raises(MemodelsWarning):
            memodels.mixed("y x || g: x", _boundary_data())


def test_log_option_in_the_command_line(pig, capsys):
    memodels.fit("mixed weight week || id:, log", pig)
    out = capsys.readouterr().out
    assert out.startswith("Performing gradient-based optimization:")
    assert "Iteration 0:   log likelihood = -1014.9268" in out
