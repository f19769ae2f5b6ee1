"""Issue #17 acceptance: a notebook renders ``_repr_html_`` of every command's results;
its content is the text table's (every number and label of Stata's output appears in
the HTML, and in the LaTeX), and ``summary()`` still is Stata's text."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest

import memodels
from memodels.survival import stset
from support import fitted, load_dataset

CASES = [
    ("pig", "mixed weight week || id: week"),
    ("productivity", "mixed gsp private emp hwy water other unemp || region: || state:"),
    ("t43", "mixed score i.drug || person:, reml dfmethod(kroger)"),
    ("bangladesh", "melogit c_use urban age child* || district:, or"),
    ("bangladesh", "meprobit c_use urban age child* || district:"),
    ("epilepsy", "mepoisson seizures treat lbas lbas_trt lage v4 || subject:"),
    ("epilepsy", "menbreg seizures treat lbas lbas_trt lage v4 || subject:"),
    ("pig", "meglm weight week || id:"),
    ("tvsfpors", "meologit thk prethk cc##tv || school:"),
    ("bangladesh", "meqrlogit c_use urban age child* || district:"),
    ("epilepsy", "meqrpoisson seizures treat lbas lbas_trt lage v4 || subject:"),
]


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.cells: list[str] = []
        self.pre: list[str] = []
        self.order: list[str] = []  # all text, in document order
        self.tags: list[str] = []
        self._stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        self._stack.append(tag)
        self.tags.append(tag)

    def handle_endtag(self, tag):
        self._stack.pop()

    def handle_data(self, data):
        self.order.append(data)
        if self._stack and self._stack[-1] in ("td", "th"):
            self.cells.append(data)
        elif self._stack and self._stack[-1] == "pre":
            self.pre.append(data)


def _tokens(text: str) -> list[str]:
    # Stata's column bar "|" separates cells; the HTML has cells instead
    return [t for t in re.split(r"\s+", text.replace("|", " ")) if t and
            not set(t) <= set("-+")]


def _results(dataset: str, cmd: str):
    if cmd.startswith("mestreg"):
        return memodels.mestreg(cmd.split(" ", 1)[1],
                                stset(load_dataset(dataset), "time", "infect"))
    return fitted(dataset, cmd)


def _check(res) -> None:
    text = res.summary()
    assert isinstance(text, str) and text == str(res)
    page = res._repr_html_()
    parser = _Text()
    parser.feed(page)
    assert "table" in parser.tags and "pre" in parser.tags
    # every token Stata prints (labels, numbers, headings) is in the HTML, in order
    html_tokens = _tokens(" ".join(parser.order))
    assert html_tokens == [t for t in _tokens(text) if t], "HTML content differs"
    # every estimate, SE and CI bound of the coefficient table is a cell of its own
    for line in text.splitlines():
        if "|" in line and re.search(r"\d", line.partition("|")[2]) and \
                not line.lstrip().startswith("("):
            label, _, rest = line.partition("|")
            for num in rest.split():
                if re.fullmatch(r"-?\d*\.?\d+(e[-+]\d+)?", num):
                    assert num in parser.cells, (num, line)
    latex = text.as_latex()
    assert "\\begin{tabular}" in latex
    for num in re.findall(r"-?\d*\.\d+", text):
        assert num in latex
    assert html.escape("Log") in page or "log" in page.lower()


@pytest.mark.parametrize("dataset,cmd", CASES, ids=[c.split()[0] + "-" + d
                                                    for d, c in CASES])
def test_html_repr_has_the_text_table(dataset, cmd):
    _check(_results(dataset, cmd))


def test_html_repr_mestreg():
    _check(_results("catheter", "mestreg age female || patient:, distribution(weibull)"))


def test_summary_repr_is_the_text_in_a_console():
    res = fitted("pig", "mixed weight week || id:")
    s = res.summary()
    assert repr(s) == str(s) and s.as_text() == str(s)
    assert "Mixed-effects ML regression" in s._repr_html_()
    # display options still give Stata's replay, with HTML
    noci = res.summary(noci=True)
    assert "Conf. Interval" not in noci and "Conf. Interval" not in noci.as_html()
