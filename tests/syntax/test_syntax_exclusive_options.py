"""Mutually exclusive options on one command line are refused as Stata refuses them
("options reml and mle may not be combined", r(198)) rather than the last one winning
(newcomer audit: `mixed ..., reml mle` was fitted by ML silently)."""

from __future__ import annotations

import pytest

from memodels.errors import OptionError
from memodels.syntax import parse_model

COLS = ["y", "t", "g"]


@pytest.mark.parametrize("spec,pair", [
    ("y t || g:, reml mle", "reml and mle"),
    ("y t, mle reml || g:", "mle and reml"),
    ("y t || g:, variance stddeviations", "variance and stddeviations"),
    ("y t || g:, matsqrt matlog", "matsqrt and matlog"),
    ("y ~ t + (1|g), reml mle", "reml and mle"),
])
def test_exclusive_options_refused(spec, pair):
    with pytest.raises(OptionError, match=f"options {pair} may not be combined"):
        parse_model(spec, "mixed", COLS)


def test_log_nolog_last_wins_and_single_choice_kept():
    assert parse_model("y t || g:, log nolog", "mixed", COLS).options.get("nolog")
    assert parse_model("y t || g:, reml", "mixed", COLS).options.get("reml")
    # a Python keyword overrides the command line's choice (not one command line)
    assert "mle" in parse_model("y t || g:, reml", "mixed", COLS, options={"mle": True}).options
