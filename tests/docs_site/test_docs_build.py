"""The documentation site builds without warnings (mkdocs build --strict), running every
example of its pages (docs/hooks.py), so the pages cannot drift from the code."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytest.importorskip("mkdocs")


def _build(tmp_path: Path, docs: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), env.get("PYTHONPATH", "")])
    config = REPO / "mkdocs.yml"
    if docs is not None:  # a copy of the site with a changed page
        config = docs.parent / "mkdocs.yml"
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d",
         str(tmp_path / "site")],
        capture_output=True, text=True, env=env, timeout=300, cwd=config.parent)


def test_site_builds_strict_with_executed_examples(tmp_path):
    out = _build(tmp_path)
    assert out.returncode == 0, out.stderr[-4000:]
    assert "WARNING" not in out.stderr
    page = (tmp_path / "site" / "commands" / "mixed" / "index.html").read_text()
    # the worked example's output was produced at build time: the manual's figure
    assert "-1014.9268" in page
    assert "covariance(...)" in page  # memodels help mixed, included
    for cmd in ("mixed", "meglm", "melogit", "meprobit", "mecloglog", "meologit",
                "meoprobit", "mepoisson", "menbreg", "mestreg", "meqrlogit", "meqrpoisson"):
        html = (tmp_path / "site" / "commands" / cmd / "index.html").read_text()
        assert "Log likelihood" in html or "log likelihood" in html, cmd


def test_a_failing_example_fails_the_build(tmp_path):
    site = tmp_path / "repo"
    shutil.copytree(REPO / "docs", site / "docs")
    shutil.copy(REPO / "mkdocs.yml", site / "mkdocs.yml")
    page = site / "docs" / "index.md"
    page.write_text(page.read_text().replace("mixed weight week || id:",
                                             "mixed weight nosuchvar || id:"))
    out = _build(tmp_path, site / "docs")
    assert out.returncode != 0
    assert "nosuchvar" in out.stderr


def test_dask_page_in_nav_only_when_written(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("docs_hooks", REPO / "docs" / "hooks.py")
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    config = {"nav": [{"Home": "index.md"}], "docs_dir": str(tmp_path)}
    assert hooks.on_config(config)["nav"] == [{"Home": "index.md"}]
    (tmp_path / "dask.md").write_text("# Dask\n")
    nav = hooks.on_config(config)["nav"]
    assert nav[-1] == {"Dask (large data)": "dask.md"}
    assert len(hooks.on_config(config)["nav"]) == 2  # added once
