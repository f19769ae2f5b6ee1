"""fit(cmd, None) / a dict / an ndarray as data: a clear memodels error naming what was
given (reliability audit, section 1: was an AttributeError from deep inside)."""

from __future__ import annotations

import numpy as np
import pytest

import memodels
from memodels.errors import DataError


@pytest.mark.parametrize("data,kind", [(None, "NoneType"), ({"y": [1.0]}, "dict"),
                                       (np.zeros((3, 3)), "ndarray"), ([[1, 2]], "list")])
@pytest.mark.parametrize("call", [
    lambda d: memodels.fit("mixed y x || g:", d),
    lambda d: memodels.mixed("y x || g:", d),
    lambda d: memodels.melogit("y x || g:", d),
])
def test_non_dataframe_data_refused(call, data, kind):
    with pytest.raises(DataError, match=f"data must be a pandas DataFrame \\(got {kind}\\)"):
        call(data)
