"""The ``memodels`` console command."""

from __future__ import annotations

from memodels.cli.main import main
from memodels.datasets import load


def test_example_pig(capsys):
    assert main(["example", "pig"]) == 0
    out = capsys.readouterr().out
    assert "Mixed-effects ML regression" in out and "-1014.9268" in out


def test_example_list(capsys):
    assert main(["example", "--list"]) == 0
    assert "pig" in capsys.readouterr().out


def test_fit_on_csv_dta_and_parquet(tmp_path, capsys):
    df = load("pig")
    df.to_csv(tmp_path / "pig.csv", index=False)
    df.to_stata(tmp_path / "pig.dta", write_index=False)
    files = [tmp_path / "pig.csv", tmp_path / "pig.dta"]
    try:
        df.to_parquet(tmp_path / "pig.parquet")
        files.append(tmp_path / "pig.parquet")
    except ImportError:
        pass
    for f in files:
        assert main(["fit", str(f), "mixed weight week || id:, nolog"]) == 0
        assert "-1014.9268" in capsys.readouterr().out


def test_errors_are_messages_not_tracebacks(tmp_path, capsys):
    load("pig").to_csv(tmp_path / "pig.csv", index=False)
    assert main(["fit", str(tmp_path / "pig.csv"), "mixed weight nosuchvar || id:"]) == 2
    assert "nosuchvar" in capsys.readouterr().err
