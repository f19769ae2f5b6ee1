"""Stand-ins for the row-level arrays that stay on the workers.

A result fitted on Dask keeps a :class:`~memodels.design.types.Design` whose ``y``,
``X``, ``index`` and ``sample`` are :class:`RemoteRows`: they know their shape (so that
``nobs`` and the counts are right) but refuse to be used as numbers, so that no
postestimation can silently compute on placeholder values."""

from __future__ import annotations

from ..errors import OptionError


class RemoteRows:
    """Shape of an array that lives on the Dask workers; any use of its values raises."""

    def __init__(self, shape: tuple[int, ...], what: str) -> None:
        self.shape = tuple(int(s) for s in shape)
        self.what = what

    @property
    def size(self) -> int:
        out = 1
        for s in self.shape:
            out *= s
        return out

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __len__(self) -> int:
        return self.shape[0]

    def _refuse(self, *_args, **_kwargs):
        raise OptionError(f"{self.what}: a fit on a Dask DataFrame keeps its rows on the "
                          "workers, and this postestimation needs them in memory (use "
                          "predict, which runs on the workers, or fit in memory)")

    __array__ = _refuse
    __getitem__ = _refuse
    __iter__ = _refuse
    __matmul__ = _refuse
    __rmatmul__ = _refuse
    __sub__ = _refuse
    __rsub__ = _refuse
    __mul__ = _refuse
    __rmul__ = _refuse
    __add__ = _refuse
    __radd__ = _refuse
    __array_ufunc__ = None

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return self._refuse()

    def __repr__(self) -> str:
        return f"RemoteRows({self.shape}, {self.what!r})"


def remote_terms(terms: list, n: int) -> list:
    """The model's random-effects terms with their row arrays (group codes, Z) replaced by
    :class:`RemoteRows`: their structure (level, names, covariance) is what the results
    read."""
    from dataclasses import replace

    out = []
    for t in terms:
        q = 0 if t.Z is None else t.Z.shape[1]
        out.append(replace(t, groups=RemoteRows((n,), f"the {t.level} group codes"),
                           Z=RemoteRows((n, q), f"the {t.level} random-effects design")))
    return out
