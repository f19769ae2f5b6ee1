"""memodels imports and fits without dask (the Dask engine is the optional extra
``memodels[dask]``; only :mod:`memodels.distributed` imports dask, inside functions)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"

SCRIPT = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('dask', 'distributed'):
            raise ImportError('blocked ' + name)
sys.meta_path.insert(0, Block())
import numpy as np, pandas as pd
import memodels, memodels.cli.main, memodels.commands.meglm, memodels.distributed
rng = np.random.default_rng(0)
g = np.repeat(np.arange(10), 4)
df = pd.DataFrame({'y': rng.normal(size=40) + rng.normal(size=10)[g], 'g': g})
res = memodels.mixed('y || g:', df, nolog=True)
assert np.isfinite(res.llf)
assert not [m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')]
print('ok')
"""


def test_memodels_works_without_dask():
    env = dict(os.environ, PYTHONPATH=str(SRC) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                         env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
