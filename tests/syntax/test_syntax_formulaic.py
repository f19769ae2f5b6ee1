"""lme4 formulas, fixed part read by formulaic (#17 item 5): each feature against the
equivalent Stata-syntax fit on hand-built columns."""

import numpy as np
import pandas as pd
import pytest

import memodels
from memodels.errors import DataError, StataSyntaxError
from memodels.spec import LevelBase
from memodels.syntax import parse_formula
from support import load_dataset

RTOL = 1e-5  # separately converged fits


@pytest.fixture(scope="module")
def pig():
    df = load_dataset("pig")
    df["grp"] = np.where(df.id % 3 == 0, "a", np.where(df.id % 3 == 1, "b", "c"))
    return df


def _same(a, b):
    np.testing.assert_allclose(np.asarray(a.params), np.asarray(b.params), rtol=RTOL)
    assert a.llf == pytest.approx(b.llf, rel=1e-8)


def test_transforms_match_hand_built_columns(pig):
    r = memodels.mixed("weight ~ week + I(week**2) + log(week) + np.sqrt(week) + (1|id)",
                       pig, nolog=True)
    assert list(r.params.index[:5]) == ["week", "I(week ** 2)", "log(week)", "np.sqrt(week)",
                                        "_cons"]
    hand = pig.assign(w2=pig.week ** 2, lw=np.log(pig.week), sw=np.sqrt(pig.week))
    _same(r, memodels.mixed("weight week w2 lw sw || id:", hand, nolog=True))
    assert "w2" not in pig.columns and "log(week)" not in pig.columns  # data untouched
    _same(memodels.mixed("weight ~ np.log(week) + (1|id)", pig, nolog=True),
          memodels.mixed("weight lw || id:", hand, nolog=True))


def test_scale_uses_estimation_state_for_new_data(pig):
    r = memodels.mixed("weight ~ scale(week) + (1|id)", pig, nolog=True)
    z = (pig.week - pig.week.mean()) / pig.week.std(ddof=1)
    _same(r, memodels.mixed("weight z || id:", pig.assign(z=z), nolog=True))
    head = pig.head(4)  # its own mean and SD differ: the estimation ones must be used
    np.testing.assert_allclose(r.predict("xb", data=head).to_numpy(),
                               r.predict("xb").to_numpy()[:4], rtol=1e-10)


def test_margins_at_recomputes_the_transform(pig):
    r = memodels.mixed("weight ~ log(week) + (1|id)", pig, nolog=True)
    m = r.margins(pig, at={"week": [2, 4]})
    b = r.params
    want = b["_cons"] + b["log(week)"] * np.log([2.0, 4.0])
    np.testing.assert_allclose(np.asarray(m["margin"], float), want, rtol=1e-8)


def test_string_and_categorical_columns_are_factors(pig):
    stata = memodels.mixed("weight week i.grp || id:", pig, nolog=True)
    auto = memodels.mixed("weight ~ week + grp + (1|id)", pig, nolog=True)
    assert list(auto.params.index) == list(stata.params.index)
    _same(auto, stata)
    cat = pig.assign(grp=pd.Categorical(pig.grp, categories=["a", "b", "c"]))
    _same(memodels.mixed("weight ~ week + grp + (1|id)", cat, nolog=True), stata)


def test_treatment_reference_is_the_base(pig):
    r = memodels.mixed('weight ~ week + C(grp, Treatment(reference="b")) + (1|id)', pig,
                       nolog=True)
    assert [n for n in r.params.index if n.endswith("grp")] == ["1.grp", "3.grp"]
    hand = pig.assign(ga=(pig.grp == "a") * 1.0, gc=(pig.grp == "c") * 1.0)
    _same(r, memodels.mixed("weight week ga gc || id:", hand, nolog=True))
    num = memodels.mixed("weight ~ C(week, Treatment(3)) + (1|id)", pig, nolog=True)
    _same(num, memodels.mixed("weight ib3.week || id:", pig, nolog=True))
    spec = parse_formula("y ~ C(f, Treatment(reference='b'))", "mixed", ["y", "f"])
    assert spec.fixed[0].factors[0].base == LevelBase("b")
    lev = memodels.mixed('weight ~ week + C(grp, levels=["b", "a", "c"]) + (1|id)', pig,
                         nolog=True)
    _same(lev, r)
    with pytest.raises(StataSyntaxError, match="treatment contrasts"):
        memodels.mixed("weight ~ week + C(grp, Sum) + (1|id)", pig, nolog=True)
    with pytest.raises(DataError, match="zz"):
        memodels.mixed('weight ~ C(grp, Treatment("zz")) + (1|id)', pig, nolog=True)


@pytest.mark.parametrize("rhs", ["0 + week", "-1 + week", "week - 1"])
def test_no_constant(pig, rhs):
    r = memodels.mixed(f"weight ~ {rhs} + (1|id)", pig, nolog=True)
    _same(r, memodels.mixed("weight week, noconstant || id:", pig, nolog=True))


def test_term_removal_and_interactions(pig):
    r = memodels.mixed("weight ~ week*grp - grp + (1|id)", pig, nolog=True)
    _same(r, memodels.mixed("weight week i.grp#c.week || id:", pig, nolog=True))
    with pytest.raises(StataSyntaxError, match="not in the formula"):
        memodels.mixed("weight ~ week - grp + (1|id)", pig, nolog=True)


def _counts(seed=3, groups=25, per=8):
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(groups), per)
    x = rng.normal(size=g.size)
    expo = rng.uniform(0.5, 3.0, size=g.size)
    u = rng.normal(scale=0.5, size=groups)[g]
    y = rng.poisson(expo * np.exp(0.3 + 0.5 * x + u))
    n = rng.integers(1, 6, size=g.size)
    s = rng.binomial(n, 1 / (1 + np.exp(-(-0.2 + 0.7 * x + u))))
    return pd.DataFrame({"y": y, "x": x, "g": g, "expo": expo, "s": s, "f": n - s, "n": n})


def test_offset_matches_exposure():
    df = _counts()
    r = memodels.mepoisson("y ~ x + offset(log(expo)) + (1|g)", df, nolog=True)
    _same(r, memodels.mepoisson("y x, exposure(expo) || g:", df, nolog=True))
    r2 = memodels.mepoisson("y ~ x + offset(lo) + (1|g)", df.assign(lo=np.log(df.expo)),
                            nolog=True)
    _same(r2, r)


def test_cbind_is_binomial_with_trials():
    df = _counts()
    r = memodels.melogit("cbind(s, f) ~ x + (1|g)", df, nolog=True)
    _same(r, memodels.melogit("s x || g:, binomial(n)", df, nolog=True))
    r2 = memodels.meglm("cbind(s, f) ~ x + (1|g)", df, nolog=True)
    _same(r2, r)
    with pytest.raises(StataSyntaxError, match="binomial"):
        memodels.mixed("cbind(s, f) ~ x + (1|g)", df, nolog=True)


def test_poly_gives_its_columns(pig):
    r = memodels.mixed("weight ~ poly(week, 2) + (1|id)", pig, nolog=True)
    assert list(r.params.index[:2]) == ["poly(week, 2)[1]", "poly(week, 2)[2]"]
    # the same column space as week + week^2: same fit
    _same_ll = memodels.mixed("weight week w2 || id:", pig.assign(w2=pig.week ** 2), nolog=True)
    assert r.llf == pytest.approx(_same_ll.llf, rel=1e-8)


@pytest.mark.parametrize("text, terms", [
    ("x + log(z) + (1 + x | g) - w", [("+", "x"), ("+", "log(z)"), ("+", "(1 + x | g)"),
                                      ("-", "w")]),
    ("-1 + x", [("-", "1"), ("+", "x")]),
    ("I(x - 1) + 1e-3 + size - y", [("+", "I(x - 1)"), ("+", "1e-3"), ("+", "size"),
                                    ("-", "y")]),
    ("x**-1 + C(f, Treatment('a-b'))", [("+", "x**-1"), ("+", "C(f, Treatment('a-b'))")]),
])
def test_split_terms(text, terms):
    from memodels.syntax.formula_split import split_terms

    assert split_terms(text) == terms


@pytest.mark.parametrize("text", ["x + ", "x + + y", "(x | g", "x)"])
def test_split_terms_refuses(text):
    from memodels.syntax.formula_split import split_terms

    with pytest.raises(StataSyntaxError):
        split_terms(text)


def test_bad_transforms_are_named(pig):
    with pytest.raises(DataError, match=r"infinite values: log\(week - 1\)"):
        memodels.mixed("weight ~ log(week - 1) + (1|id)", pig, nolog=True)
    with pytest.raises(StataSyntaxError, match="foo"):
        memodels.mixed("weight ~ foo(week) + (1|id)", pig, nolog=True)
    with pytest.raises(DataError, match="nosuch"):
        memodels.mixed("weight ~ np.nosuch(week) + (1|id)", pig, nolog=True)
    with pytest.raises(StataSyntaxError, match="all other variables"):
        memodels.mixed("weight ~ . + (1|id)", pig, nolog=True)
