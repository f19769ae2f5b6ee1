"""emlog and emdots ([ME] mixed, Options, EM options): "emlog specifies that the EM
iteration log be shown. The EM iteration log is, by default, not displayed unless the
emonly option is specified"; "emdots specifies that the EM iterations be shown as dots"."""

from __future__ import annotations

import contextlib
import io
import re

import pytest

import memodels
from memodels.output.iterlog import stata_log
from support import load_dataset

MODEL = "mixed weight week || id: week"


def _log(cmd: str, dataset: str = "pig"):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), stata_log(True):  # as a do-file runs it
        res = memodels.fit(cmd, load_dataset(dataset))
    return res, buf.getvalue()


def _em_lines(text: str) -> list[float]:
    em = text.split("Performing EM optimization:")[1].split("Performing gradient")[0]
    return [float(v) for v in re.findall(r"log likelihood = (-?[\d.]+)", em)]


def test_emlog_shows_the_em_iterations():
    res, text = _log(f"{MODEL}, emlog emiterate(5)")
    lls = _em_lines(text)
    assert 1 <= len(lls) <= 5
    assert all(b >= a - 1e-6 for a, b in zip(lls, lls[1:], strict=False))  # EM ascends
    assert lls[-1] <= res.llf + 1e-6
    _, plain = _log(f"{MODEL}, emiterate(5)")
    assert "Performing EM optimization" not in plain
    # the gradient-based log is the same with and without emlog
    assert text.split("Performing gradient-based optimization:")[1] == \
        plain.split("Performing gradient-based optimization:")[1]


def test_emdots_one_dot_per_iteration():
    _, lines = _log(f"{MODEL}, emlog emiterate(5)")
    _, dots = _log(f"{MODEL}, emdots emiterate(5)")
    em = dots.split("Performing EM optimization:")[1].split("Performing gradient")[0]
    assert em.strip() == "." * len(_em_lines(lines))


def test_emonly_shows_the_em_log_by_default():
    _, text = _log(f"{MODEL}, emonly emiterate(4)")
    assert len(_em_lines(text + "Performing gradient")) >= 1
    _, quiet = _log(f"{MODEL}, emonly emiterate(4) nolog")
    assert quiet == ""


@pytest.mark.parametrize("dataset,model", [
    ("productivity", "mixed gsp private emp hwy || region: || state:, emlog"),
    ("pig", "mixed weight week || id:, emlog residuals(ar 1, t(week))"),
])
def test_emlog_says_when_no_em_is_run(dataset, model):
    _, text = _log(model, dataset)
    assert "note: no EM iterations were performed" in text
