"""The shipped datasets, Stata's value labels (codes kept, labels displayed), webuse and
the version, as a user of a fresh clone meets them."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import memodels
from memodels.cli.main import main as cli_main
from memodels.datasets import describe, info, load, names
from memodels.datasets.catalog import CATALOG
from memodels.errors import DataError
from memodels.session import Session

MANUAL_DATASETS = ["pig", "productivity", "ovary", "t43", "veneer", "exercise", "diuretics",
                   "epilepsy", "melanoma", "toenail", "tvsfpors", "salamander", "hdp",
                   "catheter", "bangladesh", "fifeschool"]


@pytest.mark.parametrize("name", MANUAL_DATASETS)
def test_every_dataset_ships_with_its_documented_size(name):
    df = load(name)
    n_obs = int(re.match(r"([\d,]+)", CATALOG[name].size).group(1).replace(",", ""))
    if name != "diuretics":  # "9 trials": one row per trial
        assert len(df) == n_obs
    else:
        assert len(df) == 9
    assert CATALOG[name].status in ("exact", "near", "exact (counts)")
    assert name in describe()


def test_names_aliases_and_describe():
    assert names() == sorted(MANUAL_DATASETS)
    assert info("tvsfpor").name == info("tvsfpcors").name == "tvsfpors"
    assert info("PIG.dta").name == "pig"
    text = describe("bangladesh")
    assert "near" in text and "urban: 0 rural, 1 urban" in text


@pytest.mark.parametrize("bad", ["../../etc/passwd", "/etc/passwd", "pig/../pig", "nosuch", ""])
def test_webuse_reads_only_shipped_datasets_by_name(bad):
    with pytest.raises(DataError, match="no shipped dataset"):
        load(bad)
    s = Session()
    with pytest.raises(DataError, match="no shipped dataset"):
        s.run(f"webuse {bad}" if bad else "webuse x/y")


def test_stata_float_storage_is_kept():
    prod = load("productivity")
    np.testing.assert_array_equal(prod["public"], prod["public"].astype(np.float32))
    res = memodels.fit("mixed gsp private emp hwy water other unemp || region: || state:",
                       prod, nolog=True)
    assert res.llf == pytest.approx(1430.5017, abs=5e-5)  # [ME] mixed example 4


def test_hdp_value_labels_label_the_factor_rows():
    hdp = load("hdp")
    assert hdp.attrs["value_labels"]["cancerstage"] == {1: "I", 2: "II", 3: "III", 4: "IV"}
    assert set(hdp["cancerstage"].unique()) == {1, 2, 3, 4}  # Stata's codes, not labels
    res = memodels.fit("melogit remission i.cancerstage i.familyhx || did:, intpoints(1)",
                       hdp, nolog=True)
    assert list(res.params.index[:4]) == ["2.cancerstage", "3.cancerstage", "4.cancerstage",
                                          "2.familyhx"]
    text = res.summary()
    assert re.search(r"cancerstage \|\n\s+II  \|.*\n\s+III  \|.*\n\s+IV  \|", text)
    assert re.search(r"familyhx \|\n\s+yes  \|", text)


def _labelled_frame() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    n = 300
    g = np.repeat(np.arange(30), 10)
    trt = rng.choice([5, 7, 9], size=n)  # codes that are not 1..k
    eta = -0.3 + 0.8 * (trt == 7) - 0.6 * (trt == 9) + rng.normal(size=30)[g]
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    return pd.DataFrame({"y": y, "trt": trt, "g": g})


def test_dta_value_labels_keep_codes_and_label_rows(tmp_path):
    df = _labelled_frame()
    path = tmp_path / "trial.dta"
    df.to_stata(path, write_index=False,
                value_labels={"y": {0: "failure", 1: "success"},
                              "trt": {5: "placebo", 7: "low", 9: "high"}})
    data = memodels.read_data(path)
    assert data["y"].dtype.kind in "iu" and set(data["y"]) <= {0, 1}
    assert data.attrs["value_labels"]["trt"] == {5: "placebo", 7: "low", 9: "high"}
    # a labelled 0/1 outcome is an outcome; ib7. means code 7, as in Stata
    res = memodels.fit("melogit y ib7.trt || g:, intpoints(3)", data, nolog=True)
    assert list(res.params.index[:2]) == ["5.trt", "9.trt"]
    plain = memodels.fit("melogit y ib7.trt || g:, intpoints(3)", df, nolog=True)
    assert res.llf == pytest.approx(plain.llf, abs=1e-8)
    text = res.summary()
    assert re.search(r"trt \|\n\s+placebo  \|.*\n\s+high  \|", text)
    assert "low" not in text.split("trt |")[1].split("_cons")[0]  # the base is not shown


def test_write_data_round_trips_value_labels(tmp_path):
    hdp = load("hdp").head(50)
    path = tmp_path / "hdp.dta"
    memodels.io.write_data(hdp, path)
    back = memodels.read_data(path)
    assert back.attrs["value_labels"]["cancerstage"] == {1: "I", 2: "II", 3: "III", 4: "IV"}
    np.testing.assert_array_equal(back["cancerstage"], hdp["cancerstage"])


def test_loading_gives_independent_copies():
    a = load("pig")
    a.loc[0, "weight"] = -1.0
    assert load("pig").loc[0, "weight"] != -1.0


def test_version_from_one_place(capsys):
    from memodels._version import __version__

    assert memodels.__version__ == __version__
    with pytest.raises(SystemExit) as done:
        cli_main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"memodels {__version__}"


def test_cli_datasets_describe_and_save(tmp_path, capsys):
    assert cli_main(["datasets", "hdp"]) == 0
    assert "cancerstage: 1 I, 2 II, 3 III, 4 IV" in capsys.readouterr().out
    out = tmp_path / "pig.csv"
    assert cli_main(["datasets", "pig", "--save", str(out)]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(out), load("pig"))
    assert cli_main(["datasets", "nosuch"]) == 2


def test_module_entry_point_runs_the_example():
    run = subprocess.run([sys.executable, "-m", "memodels", "example", "pig"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "Mixed-effects ML regression" in run.stdout
