"""The console command on a Dask cluster: ``memodels fit DATA "cmd" --dask local`` or
``--scheduler tcp://host:8786``, DATA a Parquet file, folder or glob read lazily with
``dask.dataframe.read_parquet`` (the rows are never read by the client)."""

from __future__ import annotations

import glob as globmod
from pathlib import Path

from ..errors import DataError, OptionError


def open_cluster(scheduler: str | None, local: bool):
    """A ``dask.distributed.Client`` on ``scheduler`` or on a new ``LocalCluster``."""
    try:
        import distributed
    except ImportError as exc:  # pragma: no cover - depends on the optional extra
        raise OptionError("--dask/--scheduler need the dask extra: pip install "
                          "'memodels[dask]'") from exc
    if scheduler:
        try:
            return distributed.Client(scheduler, timeout="20s")
        except OSError as exc:
            raise DataError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from exc
    return distributed.Client(distributed.LocalCluster(processes=True, threads_per_worker=1,
                                                       dashboard_address=None))


def read_parquet(path: str):
    """A Dask DataFrame over a Parquet file, folder or glob."""
    import dask.dataframe as dd

    p = Path(path)
    if not (p.exists() or globmod.glob(path)):
        raise DataError(f"file '{path}' not found")
    if p.is_file() and p.suffix.lower() not in (".parquet", ".pq"):
        raise DataError(f"--dask/--scheduler read Parquet data (a .parquet file, a folder "
                        f"or a glob), not '{p.suffix}'")
    try:
        return dd.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises many kinds
        raise DataError(f"cannot read Parquet data '{path}': {exc}") from exc
