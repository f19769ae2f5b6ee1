"""The multilevel command grammar ([ME] mixed Syntax; [ME] meglm Syntax)."""

import pytest

from memodels.errors import OptionError, StataSyntaxError, VariableNotFoundError
from memodels.spec import InRange, Weight
from memodels.syntax import is_replay, parse_command, parse_model, split_command

COLS = [
    "id",
    "week",
    "weight",
    "n",
    "class",
    "school",
    "x",
    "z",
    "w1",
    "w2",
    "time",
    "g",
    "child1",
    "child2",
    "child3",
    "tr1",
    "tr2",
    "tr3",
    "y",
    "expected",
    "trials",
]


def P(text, command="mixed", **kw):
    return parse_model(text, command, COLS, **kw)


def test_brief_example():
    text = (
        "weight week if week>2 in 1/200 [fw=n] || id: week, covariance(unstructured) "
        "|| class:, nocons , reml"
    )
    s = P(text)
    assert s.command == "mixed" and s.depvar == "weight"
    assert [t.factors[0].name for t in s.fixed] == ["week"]
    assert s.if_text == "week>2" and s.if_expr is not None
    assert s.in_range == InRange(1, 200)
    assert s.weight == Weight("fweight", "n")
    e1, e2 = s.equations
    assert (e1.level, e1.variables, e1.covariance, e1.noconstant) == (
        "id",
        ("week",),
        "unstructured",
        False,
    )
    assert (e2.level, e2.variables, e2.noconstant) == ("class", (), True)
    assert s.options == {"reml": True}
    assert s.source == text
    assert not s.noconstant


def test_no_random_part():
    s = P("y x z, nocons")
    assert s.equations == () and s.noconstant and s.options == {}


def test_fe_noconstant_vs_re_noconstant():
    s = P("y x, nocons || id: x, nocons")
    assert s.noconstant and s.equations[0].noconstant
    s = P("y x || id: x, nocons")
    assert not s.noconstant and s.equations[0].noconstant


def test_global_options_in_fe_equation():
    s = P("y x, noomitted noconstant || id:, reml")
    assert s.noconstant and s.options == {"noomitted": True, "reml": True}


def test_global_options_in_middle_equation():
    s = parse_model("y x || school: x, family(bernoulli) link(logit) || class:", "meglm", COLS)
    assert s.options == {"family": "bernoulli", "link": "logit"}
    assert [e.level for e in s.equations] == ["school", "class"]


def test_r_notation_and_all():
    s = P("weight week || _all: R.id || _all:R.week")
    a, b = s.equations
    assert (a.level, a.rfactor, a.variables, a.noconstant) == ("_all", "id", (), True)
    assert (b.level, b.rfactor) == ("_all", "week")
    assert not a.has_constant


def test_repeated_levels_and_wildcards():
    s = P("y x || school: child*, cov(exc) || school:")
    assert [e.level for e in s.equations] == ["school", "school"]
    assert s.equations[0].variables == ("child1", "child2", "child3")
    assert s.equations[0].covariance == "exchangeable"
    assert s.equations[1].covariance is None


def test_ranges_and_fixed_cov():
    s = parse_model(
        "y || _all: tr1-tr3, nocons cov(fixed(f)) intm(laplace) nocnsreport", "meglm", COLS
    )
    e = s.equations[0]
    assert e.variables == ("tr1", "tr2", "tr3") and e.noconstant
    assert (e.covariance, e.covariance_matrix) == ("fixed", "f")
    assert s.options == {"intmethod": "laplace", "nocnsreport": True}
    assert s.fixed == ()


def test_abbreviations():
    s = P("wei wee || i: wee, cov(un)")
    assert s.depvar == "weight" and s.fixed[0].factors[0].name == "week"
    assert s.equations[0].level == "id"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("y x in 5", InRange(5, None)),
        ("y x in -5/l", InRange(-5, -1)),
        ("y x in f/10", InRange(1, 10)),
        ("y x in f/l", InRange(1, -1)),
        ("y x in 2/ -3", InRange(2, -3)),
    ],
)
def test_in_range(text, expected):
    assert P(text).in_range == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("y x [fw=n]", Weight("fweight", "n")),
        ("y x [fweight=n]", Weight("fweight", "n")),
        ("y x [pw = w1]", Weight("pweight", "w1")),
        ("y x [pw=w1/w2]", Weight("pweight", "w1/w2")),
        ("y x [pweight=w2]", Weight("pweight", "w2")),
        ("y x [pw=2*w1]", Weight("pweight", "2*w1")),
    ],
)
def test_weights(text, expected):
    assert P(text).weight == expected


def test_weight_abbreviated_name_resolved():
    assert P("y x [pw=ti]").weight == Weight("pweight", "time")


def test_me_weights_and_level_weights():
    s = parse_model("y x [iw=w1] || school:, iweight(w2)", "melogit", COLS)
    assert s.weight == Weight("iweight", "w1")
    assert s.equations[0].weight == Weight("iweight", "w2")
    assert set(s.extra_vars) == {"w1", "w2"}
    s = P("y x [pw=w1] || school:, pweight(w2) pwscale(size)")
    assert s.equations[0].weight == Weight("pweight", "w2")
    assert s.options == {"pwscale": "size"}


def test_if_in_weight_any_order():
    s = P("y x [fw=n] in 1/10 if x>0 & z<.")
    assert s.if_text == "x>0 & z<." and s.in_range == InRange(1, 10)
    assert s.weight == Weight("fweight", "n")


def test_if_with_function_commas():
    s = P("y x if inlist(g, 1, 2) , reml || id:")
    assert s.if_text == "inlist(g, 1, 2)"
    assert s.options == {"reml": True}


def test_extra_vars():
    s = parse_model("y x, exposure(exp) || g:", "mepoisson", COLS)
    assert s.options["exposure"] == "expected" and s.extra_vars == ("expected",)
    s = parse_model("y x, offset(z) || g:", "melogit", COLS)
    assert s.extra_vars == ("z",)
    s = parse_model("y x || g:, binomial(trials) or", "melogit", COLS)
    assert s.options == {"binomial": "trials", "or": True} and s.extra_vars == ("trials",)
    s = parse_model("y x || g:, binomial(10)", "melogit", COLS)
    assert s.options["binomial"] == 10 and s.extra_vars == ()
    s = P("y x || id:, residuals(ar 2, t(time)) vce(cluster school)")
    assert s.options["residuals"] == "ar 2, t(time)"
    assert s.options["vce"] == "cluster school"
    assert s.extra_vars == ("time", "school")
    s = P("y x || id:, res(ind, by(g))")
    assert s.options["residuals"] == "independent, by(g)" and s.extra_vars == ("g",)


def test_keyword_options():
    s = P(
        "y x || id: x || class: x, cov(exc)",
        options={"covariance": "un", "reml": True, "stddev": True, "level": 90},
    )
    assert [e.covariance for e in s.equations] == ["unstructured", "exchangeable"]
    assert s.options == {"reml": True, "stddeviations": True, "level": 90.0}
    s = P("y x || id:, mle", options={"reml": True})
    assert s.options == {"reml": True}
    s = P("y x", options={"nocons": True})
    assert s.noconstant


def test_mestreg_no_depvar():
    s = parse_model("x z || g:, distribution(weibull) time", "mestreg", COLS)
    assert s.depvar == "_t" and [t.factors[0].name for t in s.fixed] == ["x", "z"]
    assert s.options == {"distribution": "weibull", "time": True}
    with pytest.raises(OptionError, match="distribution"):
        parse_model("x || g:", "mestreg", COLS)


@pytest.mark.parametrize(
    "text, command, err, match",
    [
        ("y nosuch || id:", "mixed", VariableNotFoundError, "nosuch"),
        ("y x || nosuch:", "mixed", VariableNotFoundError, "nosuch"),
        ("y x || id: nosuch", "mixed", VariableNotFoundError, "nosuch"),
        ("nosuch x", "mixed", VariableNotFoundError, "nosuch"),
        ("y x || id:, bogus", "mixed", OptionError, "bogus"),
        ("y x, bogus(3)", "mixed", OptionError, "bogus"),
        ("y x || id:, cov(foo)", "mixed", OptionError, "foo"),
        ("y x ||", "mixed", StataSyntaxError, "\\|\\|"),
        ("y x || || id:", "mixed", StataSyntaxError, "\\|\\|"),
        ("y x || id", "mixed", StataSyntaxError, "levelvar"),
        ("y x || id: i.x", "mixed", StataSyntaxError, "factor-variable"),
        ("y x || id: R.x z", "mixed", StataSyntaxError, "R.x"),
        ("y x || id: x if x>1", "mixed", StataSyntaxError, "if"),
        ("y (x", "mixed", StataSyntaxError, "unbalanced"),
        ("y x, level(95", "mixed", StataSyntaxError, "unbalanced"),
        ("y x [fw=n", "mixed", StataSyntaxError, "unbalanced"),
        ("y x [iw=n]", "mixed", StataSyntaxError, "iw"),
        ("y x [fw=n]", "meqrlogit", StataSyntaxError, "fw"),
        ("y x [xw=n]", "mixed", StataSyntaxError, "xw"),
        ("child* x", "mixed", StataSyntaxError, "child\\*"),
        ("i.y x", "mixed", StataSyntaxError, "depvar"),
        ("tr1-tr3 x", "mixed", StataSyntaxError, "tr1-tr3"),
        ("y x + z", "mixed", StataSyntaxError, "'\\+'"),
        ("y x if", "mixed", StataSyntaxError, "if"),
        ("y x if nosuch > 1", "mixed", VariableNotFoundError, "nosuch"),
        ("y x in 0", "mixed", StataSyntaxError, "0"),
        ("y x in a/b", "mixed", StataSyntaxError, "a"),
        ("y x", "meqrlogit", StataSyntaxError, "random-effects"),
        ("y x || id:, fweight(n) pweight(n)", "mixed", OptionError, "fweight"),
        ("y x || id:, intpoints(7)", "mixed", OptionError, "intpoints"),
        ("y x || id:", "regress", StataSyntaxError, "regress"),
        ("", "mixed", StataSyntaxError, "depvar"),
        (", small", "mixed", StataSyntaxError, "depvar"),
    ],
)
def test_errors(text, command, err, match):
    with pytest.raises(err, match=match):
        parse_model(text, command, COLS)


@pytest.mark.parametrize(
    "line, command, rest",
    [
        ("mixed weight week || id:", "mixed", "weight week || id:"),
        ("  xtmixed weight week || id:", "mixed", "weight week || id:"),
        ("xtmelogit y x || id:", "meqrlogit", "y x || id:"),
        ("xtmepoisson y x || id:", "meqrpoisson", "y x || id:"),
        ("quietly mixed weight week || id:week", "mixed", "weight week || id:week"),
        ("svy: meglm y x, family(bernoulli) || id:", "meglm", "y x, family(bernoulli) || id:"),
        ("mixed", "mixed", ""),
        ("mixed, small", "mixed", ", small"),
        (". melogit y x || id:", "melogit", "y x || id:"),
    ],
)
def test_split_command(line, command, rest):
    assert split_command(line) == (command, rest)


def test_split_command_unknown():
    with pytest.raises(StataSyntaxError, match="regress"):
        split_command("regress y x")


def test_replay_and_svy():
    assert is_replay("") and is_replay(", small") and not is_replay("y x")
    s = parse_command("svy: meglm y x, family(bernoulli) link(logit) || school:", COLS)
    assert s.options["svy"] is True and s.command == "meglm"


def test_dispatch_to_formula():
    s = parse_model("y ~ x + (1 | id)", "mixed", COLS)
    assert s.depvar == "y" and s.equations[0].level == "id"
    # ~= inside an if is not a formula
    s = P("y x if x ~= 2")
    assert s.if_text == "x ~= 2"


def test_command_word_pasted_into_its_own_command():
    """``memodels.mixed("mixed weight week || id:", df)`` reads as ``weight week || id:``;
    a variable named like the command is still a variable."""
    cols = ["weight", "week", "id", "mixed"]
    pasted = parse_model("mixed weight week || id:", "mixed", ["weight", "week", "id"])
    plain = parse_model("weight week || id:", "mixed", ["weight", "week", "id"])
    assert pasted == plain
    as_var = parse_model("mixed weight || id:", "mixed", cols)
    assert as_var.depvar == "mixed"
