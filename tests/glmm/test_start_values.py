"""Starting values of the me commands: startvalues(), startgrid(), from(), noestimate
([ME] meglm, Options and Remarks: Obtaining better starting values)."""

from __future__ import annotations

import io
from contextlib import redirect_stdout

import numpy as np
import pytest

import memodels
from memodels.errors import EstimationError, OptionError
from support import fitted, load_dataset

SLOPE = "melogit c_use urban age child* || district: urban, cov(un)"
EPI = "mepoisson seizures treat lbas lbas_trt lage v4 || subject:"


def _grid_nodes(res) -> list[float]:
    return [ll for stage, _, ll in res.fit.log if stage.startswith("Refining")]


@pytest.fixture(scope="module")
def base():
    return fitted("bangladesh", SLOPE + ", nolog")


@pytest.mark.parametrize("method", ["zero", "constantonly", "iv"])
def test_every_startvalues_method_reaches_the_same_optimum(base, method):
    res = fitted("bangladesh", f"{SLOPE} startvalues({method}) nolog")
    assert res.llf == pytest.approx(base.llf, abs=1e-6)
    np.testing.assert_allclose(res.params, base.params, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(res.bse, base.bse, rtol=1e-3)


def test_iv_starts_closer_than_fixedonly(base):
    """The generalized-residual variances start the refinement 15 log-likelihood units
    above variances of 1 on this model (-1200.47 against -1215.73)."""
    iv = fitted("bangladesh", f"{SLOPE} startvalues(iv) nolog")
    assert _grid_nodes(iv)[0] > _grid_nodes(base)[0] + 10


def test_startvalues_abbreviations_and_errors():
    from memodels.commands.me_start import start_method

    assert start_method("const") == "constantonly"
    assert start_method("fixed") == "fixedonly"
    assert start_method("z") == "zero"
    with pytest.raises(OptionError, match="startvalues"):
        start_method("ols")


def test_grid_node_zero_of_the_manual():
    """meglm postestimation example 4 prints "Grid node 0: log likelihood = -2152.1514"
    for the three-level meologit: the refinement starts where Stata's does."""
    res = fitted("tvsfpors", "meologit thk prethk cc##tv || school: || class:")
    assert _grid_nodes(res)[0] == pytest.approx(-2152.1514, abs=2e-4)


def test_startgrid_tries_every_combination(base):
    res = fitted("bangladesh", f"{SLOPE} startgrid(.1 1 10 _cons[district] urban[district]) "
                               "nolog")
    nodes = _grid_nodes(res)
    assert len(nodes) == 1 + 9
    assert res.llf == pytest.approx(base.llf, abs=1e-6)
    # the best node is where the full fit starts
    first = [ll for stage, it, ll in res.fit.log if stage.startswith("Fitting full")][0]
    assert first == pytest.approx(max(nodes), abs=1e-6)


def test_startgrid_covariance_and_default():
    df = load_dataset("bangladesh")
    with redirect_stdout(io.StringIO()) as out:
        res = memodels.melogit(SLOPE + ", startgrid(-.1 -.5 _cons[district]*urban[district])",
                               df, log=True)
    assert "Grid node 2:" in out.getvalue()
    assert len(_grid_nodes(res)) == 3
    default = memodels.melogit("c_use urban age child* || district:, startgrid nolog", df)
    assert len(_grid_nodes(default)) == 1 + 3  # 0.1, 1, 10 for the one variance


def test_startgrid_residual_variance_of_a_gaussian_model():
    pig = memodels.datasets.load("pig")
    res = memodels.meglm("weight week || id:, startgrid(1 10 100 e.weight) nolog", pig)
    assert len(_grid_nodes(res)) == 4
    assert res.llf == pytest.approx(-1014.9268, abs=1e-4)  # [ME] meglm example 1


def test_startgrid_bad_names():
    df = load_dataset("bangladesh")
    with pytest.raises(OptionError, match=r"_cons\[school\]"):
        memodels.melogit("c_use urban || district:, startgrid(_cons[school]) nolog", df)
    with pytest.raises(OptionError, match="e.c_use"):
        memodels.melogit("c_use urban || district:, startgrid(e.c_use) nolog", df)


def test_from_name_value_pairs_and_results(base):
    df = load_dataset("bangladesh")
    text = ("urban=.8 var(_cons[district])=.4 cov(urban,_cons[district])=-.4 "
            "var(urban[district])=.66")
    res = memodels.melogit(f"{SLOPE} from({text}) nolog", df)
    assert res.llf == pytest.approx(base.llf, abs=1e-6)
    # from() a converged fit: Newton stops at once
    again = memodels.melogit(SLOPE + ", nolog", df, from_=base)
    assert again.iterations <= 1
    assert again.llf == pytest.approx(base.llf, abs=1e-8)
    # the same by a Series in the estimation metric, with an equation prefix
    est = base.estmetric.rename(lambda n: f"c_use:{n}" if "(" not in n and "/" not in n
                                else n)
    third = memodels.melogit(SLOPE + ", nolog", df, from_=est)
    assert third.iterations <= 1


def test_from_noestimate_shows_the_starting_values(base):
    df = load_dataset("bangladesh")
    res = memodels.melogit(SLOPE + ", noestimate nolog", df, from_=base)
    np.testing.assert_allclose(res.params, base.params, rtol=1e-6, atol=1e-8)
    assert res.bse.isna().all()
    assert res.lr_test is None
    assert not res.converged
    assert "not fitted" in res.summary()
    plain = memodels.melogit("c_use urban age child* || district:, noestimate nolog", df)
    assert plain.params["var(_cons[district])"] == pytest.approx(1.0)


def test_from_errors():
    df = load_dataset("bangladesh")
    with pytest.raises(OptionError, match="urbanx is not a parameter"):
        memodels.melogit("c_use urban || district:, from(urbanx=1) nolog", df)
    res = memodels.melogit("c_use urban || district:, from(urbanx=1, skip) nolog", df)
    assert res.converged
    with pytest.raises(OptionError, match="not a positive variance"):
        memodels.melogit("c_use urban || district:, from(var(_cons[district])=-1) nolog", df)
    with pytest.raises(OptionError, match="matrix b not found"):
        memodels.melogit("c_use urban || district:, from(b) nolog", df)
    with pytest.raises(OptionError, match="a list of values alone"):
        memodels.melogit("c_use urban || district:, nolog", df, from_=[1.0, 2.0])


def test_from_a_named_matrix_and_in_a_session():
    df = load_dataset("bangladesh")
    small = fitted("bangladesh", "melogit c_use urban age child* || district:, nolog")
    res = memodels.melogit(SLOPE + ", from(b) nolog", df, matrices={"b": small.params})
    assert res.converged
    s = memodels.Session(df)
    s.run("quietly melogit c_use urban age child* || district:")
    s.run("matrix b = e(b)")
    assert "var(_cons[district])" in s.run("matrix list b")
    s.run(f"quietly {SLOPE} from(b)")
    assert s.e.llf == pytest.approx(res.llf, abs=1e-6)


def test_infeasible_start_runs_the_default_grid():
    """A start whose derivatives overflow (a variance of 10^6) is not feasible: the
    default grid (0.1, 1, 10 for the variance) is run, as Stata does, and the fit goes on
    from its best node to [ME] mepoisson example 1's optimum."""
    ep = load_dataset("epilepsy")
    res = memodels.mepoisson(EPI + ", from(var(_cons[subject])=1e6) nolog", ep)
    assert len(_grid_nodes(res)) == 4
    assert res.llf == pytest.approx(-665.29067, abs=1e-4)
    with pytest.raises(EstimationError, match="not finite"):
        memodels.mepoisson(EPI + ", from(_cons=800) nolog", ep)


def test_meqr_from():
    ep = load_dataset("epilepsy")
    res = memodels.meqrpoisson("seizures treat lbas lbas_trt lage v4 || subject:, "
                               "from(treat=-.9 var(_cons[subject])=.25) nolog", ep)
    assert res.llf == pytest.approx(-665.29068, abs=1e-4)


def test_intpoints_one_is_the_laplace_approximation():
    """[ME] me: "the limiting case of N_Q = 1, otherwise known as the Laplacian
    approximation" -- one mean-variance adaptive node would leave Sigma without its prior
    penalty (the fit went to a log likelihood of -10530 with var(_cons) stuck at 1)."""
    df = load_dataset("hdp_encoded")
    cmd = "melogit remission il6 crp i.cancerstage lengthofstay experience || did:"
    one = fitted("hdp_encoded", cmd + ", intpoints(1)")
    lap = fitted("hdp_encoded", cmd + ", intmethod(laplace)")
    assert one.intmethod == "laplace" and one.converged
    assert one.llf == pytest.approx(lap.llf, abs=1e-8)
    assert any("Laplacian approximation" in n for n in one.notes)
    assert len(df) == 8525


def test_log_likelihood_below_the_fixed_effects_model_is_flagged():
    """Two points per dimension for four correlated effects is too coarse a rule: the
    fit ends far below the fixed-effects model it nests, and says so."""
    from memodels.errors import ConvergenceWarning

    df = load_dataset("bangladesh")
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = memodels.melogit("c_use urban age child* || district: child*, "
                               "cov(exchangeable) || district:, intpoints(2) iterate(20) "
                               "nolog", df)
    texts = [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert any("below the fixed-effects model" in t for t in texts)
    assert "convergence not achieved" in texts  # 20 iterations are not enough either
    assert res.llf < res.ll_fixed
    assert any("increase intpoints()" in w for w in res.warnings)
