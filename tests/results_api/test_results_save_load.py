"""Issue #17, item 2: ``res.save(path)`` / ``memodels.load(path)`` -- a versioned ZIP of
JSON metadata and NumPy arrays (never a pickle); loaded results display, replay and
test without the data, and refuse what needs the fit."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

import memodels
from memodels.errors import DataError, MemodelsError
from support import fitted

CASES = [
    ("pig", "mixed weight week || id: week"),
    ("pig", "mixed weight week || id: week, reml dfmethod(kroger)"),
    ("bangladesh", "melogit c_use urban age child* || district:, or"),
    ("tvsfpors", "meologit thk prethk cc##tv || school:"),
    ("bangladesh", "meqrlogit c_use urban age child* || district:"),
    ("epilepsy", "menbreg seizures treat lbas lbas_trt lage v4 || subject:"),
]


@pytest.mark.parametrize("dataset,cmd", CASES, ids=[c for _, c in CASES])
def test_round_trip(tmp_path, dataset, cmd):
    res = fitted(dataset, cmd)
    path = res.save(tmp_path / "m.zip")
    back = memodels.load(path)
    assert str(back) == str(res)
    assert str(back.replay(noci=True)) == str(res.replay(noci=True))
    assert back.params.equals(res.params) and back.bse.equals(res.bse)
    np.testing.assert_array_equal(back.vcov.to_numpy(), res.vcov.to_numpy())
    assert back.conf_int().equals(res.conf_int())
    assert back.llf == res.llf and back.aic == res.aic and back.bic == res.bic
    name = res.params.index[0]
    assert str(back.test(f"{name} = 0")) == str(res.test(f"{name} = 0"))
    assert str(back.lincom(f"{name} + 1")) == str(res.lincom(f"{name} + 1"))
    assert str(memodels.compare(back, res)) == str(memodels.compare(res, res))
    with pytest.raises(MemodelsError, match="loaded from"):
        back.predict()
    with pytest.raises(MemodelsError, match="loaded from"):
        _ = back.random_effects


def test_the_file_is_json_and_npz_not_pickle(tmp_path):
    res = fitted("pig", "mixed weight week || id: week")
    path = res.save(tmp_path / "m.zip")
    with zipfile.ZipFile(path) as z:
        assert sorted(z.namelist()) == ["arrays.npz", "meta.json"]
        meta = json.loads(z.read("meta.json"))
    assert meta["format"] == "memodels-results" and meta["version"] == 1
    assert meta["class"] == "MixedResults"
    assert meta["fields"]["llf"] == res.llf
    # numpy refuses pickled objects when loading (allow_pickle=False)
    with zipfile.ZipFile(path) as z:
        import io

        arrays = np.load(io.BytesIO(z.read("arrays.npz")), allow_pickle=False)
        np.testing.assert_array_equal(arrays["vcov_matrix"], res.vcov_matrix)


def test_load_refusals(tmp_path):
    with pytest.raises(DataError, match="not found"):
        memodels.load(tmp_path / "missing.zip")
    bad = tmp_path / "bad.zip"
    bad.write_text("hello")
    with pytest.raises(DataError, match="not a memodels results file"):
        memodels.load(bad)
    res = fitted("pig", "mixed weight week || id:")
    path = res.save(tmp_path / "m.zip")
    with zipfile.ZipFile(path) as z:
        meta = json.loads(z.read("meta.json"))
        arrays = z.read("arrays.npz")
    meta["version"] = 99
    newer = tmp_path / "newer.zip"
    with zipfile.ZipFile(newer, "w") as z:
        z.writestr("meta.json", json.dumps(meta))
        z.writestr("arrays.npz", arrays)
    with pytest.raises(DataError, match="newer memodels"):
        memodels.load(newer)


@pytest.mark.parametrize("options", ["distribution(weibull)", "distribution(weibull) time",
                                     "distribution(lognormal)"])
def test_mestreg_round_trip(tmp_path, options):
    from memodels.survival import stset
    from support import load_dataset

    st = stset(load_dataset("catheter"), "time", "infect")
    res = memodels.mestreg(f"age female || patient:, {options}", st)
    back = memodels.load(res.save(tmp_path / "s.zip"))
    assert str(back) == str(res)
    assert "failure _d:  infect" in str(back)  # the stset header is kept
    assert str(back.replay(level=90)) == str(res.replay(level=90))
    if options == "distribution(weibull)":
        assert str(back.replay(nohr=True)) == str(res.replay(nohr=True))
    assert back.conf_int().equals(res.conf_int())
    with pytest.raises(MemodelsError, match="loaded from"):
        back.predict("mean")
