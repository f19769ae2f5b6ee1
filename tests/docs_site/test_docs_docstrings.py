"""The docstring examples of memodels' public functions run (doctest), and every public
function documents its parameters, returns and an example (numpydoc sections)."""

import doctest
import inspect

import pytest

import memodels

FUNCTIONS = [n for n in memodels.__all__ if n != "__version__"
             and (inspect.isfunction(getattr(memodels, n)) or (inspect.isclass(
                 getattr(memodels, n)) and not issubclass(getattr(memodels, n), Warning)))]


def test_public_names_found():
    assert {"fit", "mixed", "melogit", "mestreg", "stset", "lrtest", "bootstrap",
            "read_data", "Session"} <= set(FUNCTIONS)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_numpydoc_sections(name):
    doc = inspect.getdoc(getattr(memodels, name)) or ""
    for section in ("Parameters\n----------", "Examples\n--------"):
        assert section in doc, f"{name}: no {section.splitlines()[0]} section"
    if not inspect.isclass(getattr(memodels, name)):
        assert "Returns\n-------" in doc, f"{name}: no Returns section"


@pytest.mark.parametrize("name", FUNCTIONS)
def test_docstring_examples_run(name):
    obj = getattr(memodels, name)
    obj = inspect.unwrap(obj)
    finder = doctest.DocTestFinder(recurse=False)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    tests = finder.find(obj, name, globs={})
    assert tests and tests[0].examples, f"{name} has no example"
    for t in tests:
        runner.run(t)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{name}: {result.failed} docstring example(s) failed"
