import numpy as np
import pytest

from memodels.errors import DataError, OptionError
from memodels.families import (
    ALLOWED_LINKS,
    Bernoulli,
    Binomial,
    Family,
    Gamma,
    Gaussian,
    NegativeBinomial,
    Poisson,
    make_family,
)

ALL_LINKS = ["identity", "log", "logit", "probit", "cloglog"]

# the manual's table ([ME] meglm, L2633-2644); ordinal is refused for now
TABLE = {
    "gaussian": {"identity": "D", "log": "x"},
    "bernoulli": {"logit": "D", "probit": "x", "cloglog": "x"},
    "binomial": {"logit": "D", "probit": "x", "cloglog": "x"},
    "gamma": {"log": "D"},
    "nbinomial": {"log": "D"},
    "poisson": {"log": "D"},
}


@pytest.mark.parametrize("fam", sorted(TABLE))
@pytest.mark.parametrize("lk", ALL_LINKS)
def test_allowed_combinations(fam, lk):
    if lk in TABLE[fam]:
        f = make_family(fam, lk)
        assert isinstance(f, Family) and f.name == fam and f.link.name == lk
    else:
        with pytest.raises(OptionError, match=rf"family {fam} with link {lk} is not allowed"):
            make_family(fam, lk)


@pytest.mark.parametrize("fam", sorted(TABLE))
def test_default_links(fam):
    default = next(k for k, v in TABLE[fam].items() if v == "D")
    assert make_family(fam).link.name == default
    assert ALLOWED_LINKS[fam][0] == default


def test_default_family_is_gaussian_identity():
    f = make_family()
    assert isinstance(f, Gaussian) and f.link.name == "identity"
    assert f.aux_names == ("/lnsigma",)


@pytest.mark.parametrize(
    "spec,cls,extra",
    [
        ("gaussian", Gaussian, {}),
        ("g", Gaussian, {}),
        ("be", Bernoulli, {}),
        ("bernoulli", Bernoulli, {}),
        ("bi", Binomial, {"trials": 1.0}),
        ("binomial 5", Binomial, {"trials": 5.0}),
        ("binomial n", Binomial, {"trials_var": "n"}),
        ("gam", Gamma, {}),
        ("nb", NegativeBinomial, {"dispersion": "mean"}),
        ("nbinomial mean", NegativeBinomial, {"dispersion": "mean"}),
        ("nbinomial c", NegativeBinomial, {"dispersion": "constant"}),
        ("nbinomial constant", NegativeBinomial, {"dispersion": "constant"}),
        ("p", Poisson, {}),
        ("POISSON", Poisson, {}),
    ],
)
def test_names_and_abbreviations(spec, cls, extra):
    f = make_family(spec)
    assert type(f) is cls
    for k, v in extra.items():
        assert getattr(f, k) == v


def test_aux_names():
    assert make_family("nbinomial").aux_names == ("/lnalpha",)
    assert make_family("nbinomial constant").aux_names == ("/lndelta",)
    assert make_family("nbinomial", dispersion="constant").aux_names == ("/lndelta",)
    assert make_family("gamma").aux_names == ("/logs",)
    assert make_family("gaussian", "log").aux_names == ("/lnsigma",)
    for f in ("bernoulli", "binomial", "poisson"):
        assert make_family(f).aux_names == ()


@pytest.mark.parametrize("bad", ["ga", "b", "weibull", "normal", "binomal"])
def test_unknown_or_ambiguous_family(bad):
    with pytest.raises(OptionError, match=rf"family\({bad}\) invalid"):
        make_family(bad)


@pytest.mark.parametrize("bad", ["sqrt", "lo", "power"])
def test_unknown_link(bad):
    with pytest.raises(OptionError, match=rf"link\({bad}\) invalid"):
        make_family("poisson", bad)


def test_ordinal_links():
    assert make_family("ordinal").link.name == "logit"
    assert make_family("o", "probit").link.name == "probit"
    with pytest.raises(OptionError, match="ordinal with link log is not allowed"):
        make_family("ordinal", "log")


@pytest.mark.parametrize(
    "spec,opts,match",
    [
        ("binomial 2.5", {}, "positive integer"),
        ("binomial 0", {}, "positive integer"),
        ("binomial 3 4", {}, "one # or varname"),
        ("binomial 3", {"trials": 3}, "both"),
        ("nbinomial sometimes", {}, r"dispersion\(sometimes\) invalid"),
        ("poisson 3", {}, "takes no argument"),
        ("poisson", {"trials": 3}, "neither"),
        ("gaussian", {"bogus": 1}, "unknown option"),
    ],
)
def test_bad_family_arguments(spec, opts, match):
    with pytest.raises(OptionError, match=match):
        make_family(spec, **opts)


# --------------------------------------------------------------- outcome checks
def test_bernoulli_nonzero_is_positive():
    f = make_family("bernoulli")
    np.testing.assert_array_equal(f.validate(np.array([0, 1, 2, -3.5, 0.0]), "y"),
                                  [0, 1, 1, 1, 0])
    with pytest.raises(DataError, match="outcome c_use has missing"):
        f.validate(np.array([0, np.nan, 1]), "c_use")


def test_binomial_outcome_checks():
    f = make_family("binomial 4")
    np.testing.assert_array_equal(f.validate(np.array([0, 4, 2.0]), "s"), [0, 4, 2])
    with pytest.raises(DataError, match="successes exceed trials"):
        f.validate(np.array([0, 5.0]), "s")
    with pytest.raises(DataError, match="outcome s must be nonnegative integer"):
        f.validate(np.array([-1.0, 2]), "s")
    with pytest.raises(DataError, match="outcome s must be nonnegative integer"):
        f.validate(np.array([1.5, 2]), "s")
    g = make_family("binomial n").bind(trials=np.array([3.0, 2.0]))
    with pytest.raises(DataError, match="greater than the number of trials n"):
        g.validate(np.array([3.0, 3.0]), "s")
    h = make_family("binomial n").bind(trials=np.array([3.0, 2.5]))
    with pytest.raises(DataError, match="trials n must be positive integers"):
        h.validate(np.array([1.0, 1.0]), "s")
    with pytest.raises(DataError, match="trials variable n has not been bound"):
        make_family("binomial n").validate(np.array([1.0]), "s")


def test_count_and_continuous_outcome_checks():
    with pytest.raises(DataError, match="outcome deaths has negative values"):
        make_family("poisson").validate(np.array([0, -1.0]), "deaths")
    with pytest.raises(DataError, match="outcome deaths has negative values"):
        make_family("nbinomial").validate(np.array([0, -1.0]), "deaths")
    np.testing.assert_array_equal(make_family("poisson").validate(np.array([0, 2.5]), "y"),
                                  [0, 2.5])
    with pytest.raises(DataError, match="outcome t must be positive for family gamma"):
        make_family("gamma").validate(np.array([1.0, 0.0]), "t")
    with pytest.raises(DataError, match="outcome w has missing or infinite"):
        make_family("gaussian").validate(np.array([1.0, np.inf]), "w")


def test_bind_returns_copy():
    f = make_family("binomial n")
    g = f.bind(trials=[2, 3])
    assert "trials" not in f.data and np.array_equal(g.data["trials"], [2.0, 3.0])
    with pytest.raises(TypeError):
        f.bind(weights=[1, 2])
