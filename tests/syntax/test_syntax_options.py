"""Option tables, abbreviations and value normalization."""

import pytest

from memodels.errors import OptionError, StataSyntaxError
from memodels.syntax.options import (
    DISPLAY_OPTIONS,
    MAXIMIZE_OPTIONS,
    ME_OPTIONS,
    ME_RE_OPTIONS,
    MEQR_OPTIONS,
    MESTREG_OPTIONS,
    MIXED_OPTIONS,
    MIXED_RE_OPTIONS,
    OptionDef,
    OptionTable,
    command_tables,
    iter_option_items,
    normalize_covariance,
    normalize_dfmethod,
    normalize_distribution,
    normalize_family,
    normalize_intmethod,
    normalize_keywords,
    normalize_link,
    normalize_vce,
    parse_options,
)
from memodels.syntax.residuals import ResidualSpec, parse_residuals

ALL_TABLES = [
    MIXED_OPTIONS,
    MIXED_RE_OPTIONS,
    ME_OPTIONS,
    ME_RE_OPTIONS,
    MEQR_OPTIONS,
    MESTREG_OPTIONS,
    MAXIMIZE_OPTIONS,
    DISPLAY_OPTIONS,
]


@pytest.mark.parametrize("table", ALL_TABLES, ids=lambda t: t.name)
def test_every_abbreviation_is_unambiguous(table):
    for d in table:
        for k in range(d.min_abbrev, len(d.name) + 1):
            assert table.lookup(d.name[:k]).name == d.name


@pytest.mark.parametrize(
    "table, token, canonical",
    [
        (MIXED_RE_OPTIONS, "cov", "covariance"),
        (MIXED_RE_OPTIONS, "cova", "covariance"),
        (MIXED_RE_OPTIONS, "nocons", "noconstant"),
        (MIXED_RE_OPTIONS, "noc", "noconstant"),
        (MIXED_OPTIONS, "var", "variance"),
        (MIXED_OPTIONS, "stddev", "stddeviations"),
        (MIXED_OPTIONS, "nolog", "nolog"),
        (MIXED_OPTIONS, "iter", "iterate"),
        (MIXED_OPTIONS, "tol", "tolerance"),
        (MIXED_OPTIONS, "ltol", "ltolerance"),
        (MIXED_OPTIONS, "nrtol", "nrtolerance"),
        (MIXED_OPTIONS, "dif", "difficult"),
        (MIXED_OPTIONS, "res", "residuals"),
        (MIXED_OPTIONS, "dfm", "dfmethod"),
        (MIXED_OPTIONS, "emit", "emiterate"),
        (MIXED_OPTIONS, "l", "level"),
        (MIXED_OPTIONS, "norettable", "norettable"),
        (MIXED_OPTIONS, "noomitted", "noomitted"),
        (ME_OPTIONS, "intm", "intmethod"),
        (ME_OPTIONS, "intp", "intpoints"),
        (ME_OPTIONS, "f", "family"),
        (ME_OPTIONS, "li", "link"),
        (ME_OPTIONS, "or", "or"),
        (ME_OPTIONS, "nocnsreport", "nocnsreport"),
        (MESTREG_OPTIONS, "dist", "distribution"),
        (MESTREG_OPTIONS, "d", "distribution"),
        (MESTREG_OPTIONS, "time", "time"),
        (MEQR_OPTIONS, "lap", "laplace"),
        (MEQR_OPTIONS, "refine", "refineopts"),
    ],
)
def test_lookup(table, token, canonical):
    assert table.lookup(token).name == canonical


@pytest.mark.parametrize("token", ["co", "reml2", "foo", "nocon_stant"])
def test_unknown_option_named(token):
    with pytest.raises(OptionError, match=f"option {token} not allowed"):
        MIXED_RE_OPTIONS.lookup(token)


def test_too_short_abbreviation_rejected():
    with pytest.raises(OptionError, match="option no not allowed"):
        MIXED_OPTIONS.lookup("no")


def test_ambiguous_table():
    t = OptionTable([OptionDef("alpha", 1), OptionDef("alps", 2)])
    with pytest.raises(OptionError, match="ambiguous"):
        t.lookup("al")


def test_parse_option_string():
    text = "cov(un) nocons reml level(90) residuals(ar 2, t(time))"
    table = MIXED_OPTIONS | MIXED_RE_OPTIONS
    assert parse_options(text, table) == {
        "covariance": "unstructured",
        "noconstant": True,
        "reml": True,
        "level": 90.0,
        "residuals": "ar 2, t(time)",
    }


def test_items_nested_parens_and_spaces():
    assert iter_option_items("a(b(c, d)) e f (g)") == [("a", "b(c, d)"), ("e", None), ("f", "g")]


@pytest.mark.parametrize(
    "text, err, match",
    [
        ("level(90", StataSyntaxError, "unbalanced"),
        ("reml)", StataSyntaxError, "unbalanced"),
        ("reml(1)", OptionError, "reml"),
        ("level()", OptionError, "level"),
        ("level", OptionError, "level"),
        ("level(abc)", OptionError, "abc"),
        ("level(5)", OptionError, "level"),
        ("iterate(2.5)", OptionError, "2.5"),
        ("bogus", OptionError, "bogus"),
    ],
)
def test_parse_errors(text, err, match):
    with pytest.raises(err, match=match):
        parse_options(text, MIXED_OPTIONS)


def test_last_of_pair_wins():
    assert parse_options("nolog log", MIXED_OPTIONS) == {"log": True}
    # exclusive choices are refused together, as Stata does (audit: "reml mle" accepted)
    with pytest.raises(OptionError, match="reml and mle may not be combined"):
        parse_options("reml mle", MIXED_OPTIONS)


@pytest.mark.parametrize(
    "value, expected",
    [
        ("ind", "independent"),
        ("indep", "independent"),
        ("independent", "independent"),
        ("exc", "exchangeable"),
        ("ex", "exchangeable"),
        ("id", "identity"),
        ("identity", "identity"),
        ("un", "unstructured"),
        ("uns", "unstructured"),
        ("unstr", "unstructured"),
        ("fixed(f)", "fixed(f)"),
        ("fix(f)", "fixed(f)"),
        ("pattern(P1)", "pattern(P1)"),
    ],
)
def test_normalize_covariance(value, expected):
    assert normalize_covariance(value) == expected


@pytest.mark.parametrize("value", ["i", "foo", "fixed()", "u"])
def test_bad_covariance(value):
    with pytest.raises(OptionError):
        normalize_covariance(value)


def test_value_normalizers():
    assert normalize_intmethod("lap") == "laplace"
    assert normalize_intmethod("mv") == "mvaghermite"
    assert normalize_intmethod("mc") == "mcaghermite"
    assert normalize_intmethod("g") == "ghermite"
    assert normalize_distribution("weib") == "weibull"
    assert normalize_distribution("lnormal") == "lognormal"
    assert normalize_distribution("llogistic") == "loglogistic"
    assert normalize_family("bern") == "bernoulli"
    assert normalize_family("binomial 5") == "binomial 5"
    assert normalize_family("nb c") == "nbinomial constant"
    assert normalize_link("logit") == "logit"
    assert normalize_link("log") == "log"
    assert normalize_dfmethod("kr") == "kroger"
    assert normalize_dfmethod("kröger") == "kroger"
    assert normalize_dfmethod("sat, oim") == "satterthwaite, oim"
    assert normalize_dfmethod("repeated") == "repeated"
    assert normalize_vce("r") == "robust"
    assert normalize_vce("cl school") == "cluster school"
    with pytest.raises(OptionError):
        normalize_dfmethod("residual, oim")


def test_parsed_values():
    opts = parse_options("intp(9) intm(mv) iter(50) tol(1e-8) f(bern) l(99)", ME_OPTIONS)
    assert opts == {
        "intpoints": 9,
        "intmethod": "mvaghermite",
        "iterate": 50,
        "tolerance": 1e-8,
        "family": "bernoulli",
        "level": 99.0,
    }
    assert parse_options("intpoints(7 9)", MEQR_OPTIONS) == {"intpoints": (7, 9)}
    assert parse_options("startgrid startvalues(zero)", ME_OPTIONS) == {
        "startgrid": True,
        "startvalues": "zero",
    }
    assert parse_options("startgrid(0.1 1)", ME_OPTIONS) == {"startgrid": "0.1 1"}


def test_normalize_keywords():
    table = MIXED_OPTIONS | MIXED_RE_OPTIONS
    assert normalize_keywords(
        {"reml": True, "covariance": "un", "stddev": True, "level": 90}, table
    ) == {"reml": True, "covariance": "unstructured", "stddeviations": True, "level": 90.0}
    assert normalize_keywords({"log": False}, table) == {"nolog": True}
    assert normalize_keywords({"nolog": False}, table) == {"log": True}
    assert normalize_keywords({"reml": False, "vce": None}, table) == {}
    assert normalize_keywords({"iter": 5, "nocons": True}, table) == {
        "iterate": 5,
        "noconstant": True,
    }
    with pytest.raises(OptionError, match="bogus"):
        normalize_keywords({"bogus": 1}, table)
    with pytest.raises(OptionError, match="flag"):
        normalize_keywords({"reml": "yes"}, table)


def test_command_tables():
    fe, re_, glob = command_tables("mixed")
    assert "noconstant" in fe and "fweight" in re_ and "reml" in glob
    fe, re_, glob = command_tables("melogit")
    assert "offset" in fe and "iweight" in re_ and "intpoints" in glob
    _, re_, glob = command_tables("meqrlogit")
    assert "fweight" not in re_ and "refineopts" in glob
    _, _, glob = command_tables("mestreg")
    assert "distribution" in glob and "family" not in glob
    with pytest.raises(StataSyntaxError, match="regress"):
        command_tables("regress")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("ar 2, t(time)", ResidualSpec("ar", 2, "time", None)),
        ("ar, t(time)", ResidualSpec("ar", 1, "time", None)),
        ("ma 3, t(time) by(g)", ResidualSpec("ma", 3, "time", "g")),
        ("independent, by(followup)", ResidualSpec("independent", None, None, "followup")),
        ("ind", ResidualSpec("independent")),
        ("exc, by(g)", ResidualSpec("exchangeable", None, None, "g")),
        ("un, t(day)", ResidualSpec("unstructured", None, "day", None)),
        ("banded 1, t(day)", ResidualSpec("banded", 1, "day", None)),
        ("toeplitz, t(day)", ResidualSpec("toeplitz", None, "day", None)),
        ("exponential, t(day)", ResidualSpec("exponential", None, "day", None)),
        ("ar 1, t(ti)", ResidualSpec("ar", 1, "time", None)),  # abbreviation resolved
    ],
)
def test_residuals(text, expected):
    cols = ["time", "g", "followup", "day"]
    assert parse_residuals(text, cols) == expected
    assert parse_residuals(expected.to_text(), cols) == expected


@pytest.mark.parametrize(
    "text, match",
    [
        ("ar 2", "t\\(varname\\)"),
        ("unstructured", "t\\(varname\\)"),
        ("exchangeable 2", "order"),
        ("foo", "foo"),
        ("ar x, t(time)", "x"),
        ("ar, t(time) w(g)", "option w not allowed"),
    ],
)
def test_residual_errors(text, match):
    with pytest.raises(OptionError, match=match):
        parse_residuals(text, ["time", "g"])
