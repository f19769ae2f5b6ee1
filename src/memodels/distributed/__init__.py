"""memodels on a Dask cluster (the optional extra ``memodels[dask]``).

Every likelihood of memodels is a sum over top-level groups, so a Dask DataFrame is
shuffled once on the top-level identifier, its partitions' designs are persisted on the
workers, and only per-group cross-products (``mixed``) travel to the client, which
optimizes with the in-memory engine.  See ``docs/dask.md``.

Only the modules below import dask, and only inside functions: ``import memodels`` never
needs it.  :func:`is_dask_frame` recognises a Dask DataFrame without importing dask.
"""

from __future__ import annotations

from .frame import is_dask_frame

__all__ = ["is_dask_frame"]
