"""Set up the peers (R + CRAN packages from Debian, a bench-only venv) and describe the machine."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
VENV = BENCH / ".venv"
VENV_PACKAGES = ["glmm", "statsmodels", "pandas", "numpy", "scipy", "threadpoolctl"]
VENV_IMPORTS = "import glmm, statsmodels, pandas, numpy, scipy"


def _say(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def r_missing(r_packages: list[str]) -> list[str]:
    """The R packages (CRAN names) that ``Rscript`` cannot load; all of them if no R."""
    if shutil.which("Rscript") is None:
        return list(r_packages)
    code = (
        "p <- c(" + ",".join(f'"{p}"' for p in r_packages) + "); "
        "cat(p[!sapply(p, requireNamespace, quietly = TRUE)], sep = '\\n')"
    )
    proc = subprocess.run(["Rscript", "-e", code], capture_output=True, text=True)
    return [line for line in proc.stdout.split() if line]


def ensure_r(r_packages: list[str]) -> None:
    """Install R and the given CRAN packages from Debian's packages when any is missing.

    ``r_packages`` are CRAN names (``lme4``, ``glmmTMB``, ``ordinal``); the Debian package
    is ``r-cran-<lowercased name>``.
    """
    missing = r_missing(r_packages)
    if not missing:
        return
    debs = ["r-base-core"] + [f"r-cran-{p.lower()}" for p in missing]
    _say(f"installing {' '.join(debs)} with apt-get (takes minutes)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update"], check=True, env=env, stdout=subprocess.DEVNULL)
    subprocess.run(
        ["apt-get", "install", "-y", *debs], check=True, env=env, stdout=subprocess.DEVNULL
    )
    still = r_missing(r_packages)
    if still:
        raise RuntimeError(f"R packages still missing after apt-get: {still}")


def venv_python() -> Path:
    return VENV / "bin" / "python"


def ensure_venv() -> Path:
    """Create ``bench/.venv`` with the Python peers unless it already imports them."""
    py = venv_python()
    if py.exists() and subprocess.run([py, "-c", VENV_IMPORTS]).returncode == 0:
        return py
    _say(f"creating {VENV} and installing {' '.join(VENV_PACKAGES)}")
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run([py, "-m", "pip", "install", "-q", *VENV_PACKAGES], check=True)
    return py


BLAS_CODE = """
import json, numpy
try:
    from threadpoolctl import threadpool_info
    info = [{k: d.get(k) for k in ("internal_api", "version", "num_threads", "filepath",
             "architecture")} for d in threadpool_info()]
except ImportError:
    try:
        cfg = numpy.show_config(mode="dicts")["Build Dependencies"]
        info = {k: {f: cfg[k].get(f) for f in ("name", "version", "openblas configuration")}
                for k in ("blas", "lapack")}
    except TypeError:  # numpy < 1.26: only prints
        import contextlib, io
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            numpy.show_config()
        info = buf.getvalue()
print(json.dumps({"numpy": numpy.__version__, "blas": info}))
"""


def blas_info(python: str | Path = sys.executable) -> dict:
    """numpy's version and BLAS (threadpoolctl if present, else ``numpy.show_config``)."""
    proc = subprocess.run([str(python), "-c", BLAS_CODE], capture_output=True, text=True)
    try:
        return json.loads(proc.stdout)
    except json.JSONDecodeError:
        return {"error": proc.stderr.strip()[-300:]}


def machine() -> dict:
    env_keys = sorted(
        k
        for k in os.environ
        if k.startswith(("OPENBLAS", "OMP_", "MKL_", "BLIS_", "GOTO")) or k == "R_HOME"
    )
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "env": {k: os.environ[k] for k in env_keys},
    }
