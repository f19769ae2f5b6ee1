"""Stata's %9.0g-style number display, checked against figures printed in the manual."""

from __future__ import annotations

import pytest

from memodels.output.numfmt import g9


@pytest.mark.parametrize(
    "value,text",
    [
        (6.209896, "6.209896"),
        (0.0390124, ".0390124"),
        (19.35561, "19.35561"),
        (25337.49, "25337.49"),
        (5.04926, "5.04926"),
        (-1.950001, "-1.950001"),
        (-0.1129708, "-.1129708"),
        (2.09e-05, "2.09e-05"),
        (0.0001103, ".0001103"),
        (0.0, "0"),
        (9.0, "9"),
        (123456789.0, "1.23e+08"),
    ],
)
def test_g9(value, text):
    assert g9(value) == text


def test_g9_missing():
    assert g9(float("nan")) == "."
