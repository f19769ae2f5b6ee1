"""maximize_options of ``mixed`` ([ME] mixed, Options, Maximization; [R] maximize):
iterate(#) caps the quasi-Newton and Newton iterations together (each printed as an
``Iteration #`` line), Stata's stopping rules in the Newton stage, technique() (bhhh not
allowed; dfp/bfgs not implemented), difficult, the trace displays, matsqrt/matlog."""

from __future__ import annotations

import re

import numpy as np
import pytest

import memodels
from memodels.errors import OptionError
from support import load_dataset, run_logged

MODEL = "weight week || id: week, cov(un)"


@pytest.fixture(scope="module")
def pig():
    return load_dataset("pig")


def _run(cmdline: str, data):
    """(results, printed log, convergence warning messages)."""
    # Python fits are quiet unless log=True (issue #17); nolog in the line still hides it
    return run_logged(memodels.mixed, cmdline, data, log="nolog" not in cmdline)


def _iterations(log: str) -> list[int]:
    return [int(m) for m in re.findall(r"^Iteration (\d+):", log, flags=re.M)]


@pytest.mark.parametrize("cap", [0, 1, 3])
def test_iterate_caps_all_iterations(pig, cap):
    """emiterate(0) leaves the gradient stage ~10 iterations; iterate(#) stops it at #
    (before: iterate(0) ran 61 Newton steps and reported converged=True)."""
    res, log, warned = _run(f"{MODEL} emiterate(0) iterate({cap})", pig)
    assert _iterations(log) == list(range(cap + 1))
    assert res.iterations == cap and not res.converged
    assert warned and "convergence not achieved" in warned[0]
    assert "convergence not achieved" in str(res.summary())


def test_iteration_count_is_the_printed_lines(pig):
    res, log, warned = _run(f"{MODEL} emiterate(0)", pig)
    assert res.converged and not warned
    assert _iterations(log) == list(range(res.iterations + 1))
    base, _, _ = _run(f"{MODEL} nolog", pig)
    np.testing.assert_allclose(res.params, base.params, rtol=1e-5, atol=1e-6)


def test_iterate_large_enough_converges(pig):
    full, _, _ = _run(f"{MODEL} emiterate(0) nolog", pig)
    res, _, warned = _run(f"{MODEL} emiterate(0) iterate({full.iterations}) nolog", pig)
    assert res.converged and not warned and res.iterations == full.iterations


def test_nrtolerance_zero_never_converges_nonrtolerance_does(pig):
    res, _, warned = _run(f"{MODEL} nrtolerance(0) iterate(15) nolog", pig)
    assert not res.converged and res.iterations == 15 and warned
    free, _, warned = _run(f"{MODEL} nrtolerance(0) nonrtolerance nolog", pig)
    assert free.converged and not warned


@pytest.mark.parametrize("tech,match", [
    ("bhhh", r"technique\(bhhh\) not allowed with mixed"),
    ("bfgs", r"only technique\(nr\)"),
    ("dfp", r"only technique\(nr\)"),
    ("nr 5 bhhh 5", "bhhh"),
])
def test_techniques(pig, tech, match):
    with pytest.raises(OptionError, match=match):
        memodels.mixed(f"{MODEL} technique({tech}) nolog", pig)


def test_technique_nr_and_difficult(pig):
    base, _, _ = _run(f"{MODEL} nolog", pig)
    for opt in ("technique(nr)", "difficult", "matsqrt"):
        res, _, _ = _run(f"{MODEL} {opt} nolog", pig)
        assert res.converged
        np.testing.assert_allclose(res.params, base.params, rtol=1e-6, atol=1e-8)


def test_matlog_refused(pig):
    with pytest.raises(OptionError, match="matlog"):
        memodels.mixed(f"{MODEL} matlog nolog", pig)


def test_dnumerical_not_a_mixed_option(pig):
    with pytest.raises(OptionError):
        memodels.mixed(f"{MODEL} dnumerical nolog", pig)


def test_trace_displays(pig):
    res, log, _ = _run(f"{MODEL} emiterate(0) trace gradient hessian showstep "
                       "showtolerance", pig)
    assert log.count("Parameter vector (relative Cholesky factors):") >= 1
    assert "Gradient vector" in log and "Negative Hessian:" in log
    assert "(tolerance = " in log
    # the Newton stage's last parameter vector is the estimate in Stata's metric
    lines = log.splitlines()
    last = lines[max(i for i, t in enumerate(lines) if t == "Parameter vector:") + 1]
    np.testing.assert_allclose([float(v) for v in last.split()], res.fit.phi, rtol=1e-6)
    _, quiet, _ = _run(f"{MODEL} trace nolog", pig)
    assert quiet == ""
