"""parse_model remembers Stata-syntax parses (issue #16 item 2, per-fit overhead): a
repeated parse is equal to a fresh one, a caller's change to its options does not reach
the cache, and the columns and keyword options are part of the key."""

from memodels.syntax.parse import parse_model, parse_model_uncached

COLS = ["id", "week", "weight"]


def test_syntax_parse_cache_repeat_equals_fresh():
    text = "weight week || id: week, covariance(unstructured)"
    first = parse_model(text, "mixed", COLS, options={"reml": True})
    first.options["reml"] = "changed"
    first.equations[0].options["junk"] = 1
    again = parse_model(text, "mixed", COLS, options={"reml": True})
    fresh = parse_model_uncached(text, "mixed", COLS, options={"reml": True})
    assert again == fresh
    assert again.options.get("reml") is True
    assert "junk" not in again.equations[0].options


def test_syntax_parse_cache_key_has_columns_and_options():
    a = parse_model("wei week || id:", "mixed", COLS)
    b = parse_model("wei week || id:", "mixed", ["id", "week", "weightx"])
    assert a.depvar == "weight" and b.depvar == "weightx"
    c = parse_model("weight week || id:", "mixed", COLS, options={"reml": 1})
    d = parse_model("weight week || id:", "mixed", COLS)
    assert c.options != d.options
