"""The README's examples run verbatim on a fresh clone.

Every fenced block of README.md is run: ``python`` blocks as Python, ``stata`` blocks are
written out as the do-file their first line names (``* pig.do``), and ``bash`` blocks line
by line in a shell, in a scratch folder holding a copy of ``examples/``. Only the
install and test commands of the top block (``pip install``, ``pytest``) are left out: the
test runs inside the installed package, and must not run itself.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)
SKIP_SEGMENT = re.compile(r"pip install|-m pytest")


def _blocks(kind: str) -> list[str]:
    text = (REPO / "README.md").read_text()
    return [body for lang, body in FENCE.findall(text) if lang == kind]


def _shell_lines() -> list[str]:
    lines = []
    for block in _blocks("bash"):
        for line in block.splitlines():
            segments = [seg for seg in line.split(" && ") if not SKIP_SEGMENT.search(seg)]
            command = " && ".join(segments).strip()
            if command and not command.startswith("#"):
                lines.append(command)
    return lines


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """A scratch folder with the README's do-files and a copy of examples/."""
    work = tmp_path_factory.mktemp("readme")
    shutil.copytree(REPO / "examples", work / "examples")
    for block in _blocks("stata"):
        first = block.splitlines()[0]
        name = re.match(r"\*\s*(\S+\.do)", first)
        assert name, f"a stata block of the README must start with '* NAME.do': {first}"
        (work / name.group(1)).write_text(block)
    return work


@pytest.fixture(scope="module")
def shell_logs(workdir) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    env["MPLBACKEND"] = "Agg"
    logs = {}
    for command in _shell_lines():
        run = subprocess.run(["bash", "-c", command], cwd=workdir, env=env,
                             capture_output=True, text=True, timeout=600)
        assert run.returncode == 0, f"{command}\n{run.stdout[-2000:]}\n{run.stderr[-2000:]}"
        logs[command] = run.stdout
    return logs


def test_readme_has_the_two_top_commands():
    top = _blocks("bash")[0].splitlines()
    assert top[0].startswith("python3 -m pip install . && python3 -m memodels example")
    assert top[1].startswith("python3 -m pip install '.[test]' && python3 -m pytest")


def test_readme_shell_commands_run(shell_logs):
    logs = "\n".join(shell_logs.values())
    # the main job: the manual's first example as Stata prints it
    assert "Mixed-effects ML regression" in logs and "Group variable: id" in logs
    assert "LR test vs. linear model" in logs


def test_readme_hdp_analysis(shell_logs):
    """examples/hdp_analysis.do, the worked melogit analysis: the two-level model with the
    value-labelled cancerstage rows, its margins table, the cluster bootstrap and the
    three-level model, against the analysis's printed figures."""
    log = next(v for k, v in shell_logs.items() if "hdp_analysis.do" in k)
    assert "Log likelihood =  -3689.408" in log or "Log likelihood = -3689.408" in log
    assert re.search(r"cancerstage \|\n\s+II  \|.*\n\s+III  \|.*\n\s+IV  \|", log)
    first = re.search(r"_at \|\n\s+1\s+\|\s+(\.\d+)\s+(\.\d+)", log)
    assert first is not None  # margins at lengthofstay = 1: .3616372 (.0246409)
    assert float(first.group(1)) == pytest.approx(0.3616372, rel=1e-5)
    assert float(first.group(2)) == pytest.approx(0.0246409, rel=1e-3)
    assert "Replications      =         20" in log and "(BC)" in log
    assert "Log likelihood = -3580.5459" in log


def test_readme_python_examples_run(workdir, monkeypatch):
    monkeypatch.chdir(workdir)
    for block in _blocks("python"):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(block, "README.md", "exec"), {"__name__": "__readme__"})
        assert "Log likelihood" in out.getvalue() or "log likelihood" in out.getvalue()


@pytest.mark.parametrize("script", sorted(p.name for p in (REPO / "examples").glob("*.py")))
def test_example_scripts_run(workdir, script):
    run = subprocess.run([sys.executable, str(workdir / "examples" / script)], cwd=workdir,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "Log likelihood" in run.stdout or "log likelihood" in run.stdout
