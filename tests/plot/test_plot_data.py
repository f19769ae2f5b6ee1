"""memodels.plot (#17 item 4): every plot's drawn data against the numbers it comes from,
and matplotlib's backend untouched by importing and plotting."""

import numpy as np
import pytest
from scipy.stats import norm

from support import fitted, load_dataset

matplotlib = pytest.importorskip("matplotlib")

import memodels  # noqa: E402
import memodels.plot as mplot  # noqa: E402
from memodels.errors import OptionError  # noqa: E402


@pytest.fixture(scope="module")
def pig_slope():
    return fitted("pig", "mixed weight week || id: week")


def _bare_axes():
    from matplotlib.figure import Figure

    return Figure().subplots()


def test_marginsplot_draws_the_margins_and_their_intervals(pig_slope):
    pig = load_dataset("pig")
    tab = pig_slope.margins(pig, at={"week": [1, 4, 9]})
    ax = mplot.marginsplot(tab, ax=_bare_axes())
    (container,) = ax.containers
    line, _caps, (bars,) = container.lines[0], container.lines[1], container.lines[2]
    np.testing.assert_allclose(line.get_xdata(), [1, 4, 9])
    b = pig_slope.params
    np.testing.assert_allclose(line.get_ydata(), b["_cons"] + b["week"] * np.array([1, 4, 9]),
                               rtol=1e-10)
    segs = np.array([s[:, 1] for s in bars.get_segments()])  # (lower, upper) per point
    np.testing.assert_allclose(segs, tab[["ci_lower", "ci_upper"]].to_numpy(), rtol=1e-12)
    with pytest.raises(OptionError, match="nosuch"):
        mplot.marginsplot(tab, "nosuch", ax=_bare_axes())


def test_caterpillar_sorted_effects_and_intervals(pig_slope):
    pig = load_dataset("pig")
    ax = mplot.caterpillar(pig_slope, "id", "_cons", data=pig, ci=90, ax=_bare_axes())
    line = ax.containers[0].lines[0]
    u = pig_slope.predict("reffects")["_cons[id]"]
    se = pig_slope.predict("reses")["_cons[id]"]
    per_pig = u.groupby(pig.loc[u.index, "id"]).first()
    np.testing.assert_allclose(line.get_xdata(), np.sort(per_pig.to_numpy()), rtol=1e-12)
    np.testing.assert_array_equal(line.get_ydata(), np.arange(48))
    order = np.argsort(per_pig.to_numpy(), kind="stable")
    assert [t.get_text() for t in ax.get_yticklabels()] == [str(i) for i in
                                                            per_pig.index[order]]
    bars = ax.containers[0].lines[2][0]
    se_pig = se.groupby(pig.loc[se.index, "id"]).first().to_numpy()[order]
    width = np.array([s[1, 0] - s[0, 0] for s in bars.get_segments()])
    np.testing.assert_allclose(width, 2 * norm.ppf(0.95) * se_pig, rtol=1e-10)
    with pytest.raises(OptionError, match="level"):
        mplot.caterpillar(pig_slope, "nosuch", ax=_bare_axes())
    with pytest.raises(OptionError, match="estimation data"):
        mplot.caterpillar(pig_slope, data=pig.drop(columns="id"), ax=_bare_axes())


def test_residual_plots(pig_slope):
    left, right = mplot.residuals(pig_slope, ax=(_bare_axes(), _bare_axes()))
    pts = left.collections[0].get_offsets()
    np.testing.assert_allclose(pts[:, 0], pig_slope.predict("fitted").to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(pts[:, 1], pig_slope.predict("residuals").to_numpy(),
                               rtol=1e-12)
    qq = right.collections[0].get_offsets()
    r = np.sort(pig_slope.predict("rstandard").to_numpy())
    n = r.size
    np.testing.assert_allclose(qq[:, 0], norm.ppf((np.arange(1, n + 1) - 0.5) / n))
    np.testing.assert_allclose(qq[:, 1], r, rtol=1e-12)
    with pytest.raises(OptionError, match="two Axes"):
        mplot.residuals(pig_slope, ax=_bare_axes())


def test_residual_plot_after_melogit():
    res = fitted("hdp_encoded", "melogit remission il6 crp || did:")
    ax = mplot.residuals(res, "fitted", ax=_bare_axes())
    pts = ax.collections[0].get_offsets()
    np.testing.assert_allclose(pts[:, 0], res.predict("mu").to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(pts[:, 1], res.predict("pearson").to_numpy(), rtol=1e-12)


def test_stcurve_lines_are_the_curves():
    cath = memodels.stset(load_dataset("catheter"), "time", "infect")
    res = memodels.mestreg("age female || patient:, distribution(weibull)", cath, nolog=True)
    at = [{"female": 0}, {"female": 1}]
    for kind, col in (("survival", "surv"), ("hazard", "hazard"), ("cumhaz", "cumhaz")):
        ax = mplot.stcurve(res, kind, data=cath, at=at, ax=_bare_axes())
        curve = res.stcurve(kind, data=cath, at=at, plot=False).data
        assert len(ax.lines) == 2
        for i, line in enumerate(ax.lines, start=1):
            part = curve[curve["_at"] == i]
            np.testing.assert_allclose(line.get_xdata(), part["_t"].to_numpy())
            np.testing.assert_allclose(line.get_ydata(), part[col].to_numpy(), rtol=1e-12)
    surv = res.stcurve("survival", data=cath, at=at[0], plot=False).data["surv"].to_numpy()
    cum = res.stcurve("cumhaz", data=cath, at=at[0], plot=False).data["cumhaz"].to_numpy()
    np.testing.assert_allclose(cum, -np.log(surv), rtol=1e-12)
    with pytest.raises(OptionError, match="mestreg"):
        mplot.stcurve(fitted("pig", "mixed weight week || id:"), data=load_dataset("pig"))


def test_backend_unchanged_by_import_and_plots(pig_slope):
    import subprocess
    import sys

    # a fresh process with a non-default backend: importing and plotting keep it
    code = (
        "import matplotlib; matplotlib.use('svg'); before = matplotlib.get_backend()\n"
        "import memodels, memodels.plot as p\n"
        "from memodels.datasets import load\n"
        "pig = load('pig'); res = memodels.mixed('weight week || id:', pig, nolog=True)\n"
        "p.marginsplot(res.margins(pig, at={'week': [1, 2]})); p.caterpillar(res)\n"
        "p.residuals(res); res2 = memodels.postestimation\n"
        "assert matplotlib.get_backend() == before, (before, matplotlib.get_backend())\n"
        "print(before)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "svg"
    before = matplotlib.get_backend()
    mplot.caterpillar(pig_slope, pyplot=False)
    mplot.residuals(pig_slope)
    assert matplotlib.get_backend() == before


@pytest.mark.parametrize("name", ["marginsplot", "caterpillar", "residuals", "stcurve"])
def test_plot_docstring_examples(name):
    import doctest
    import inspect

    func = getattr(mplot, name)
    doc = inspect.getdoc(func)
    assert "Parameters\n----------" in doc and "Returns\n-------" in doc
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for t in doctest.DocTestFinder(recurse=False).find(func, name, globs={}):
        assert t.examples
        runner.run(t)
    assert runner.summarize(verbose=False).failed == 0


def test_caterpillar_after_melogit_uses_posterior_means_and_sds():
    res = fitted("hdp_encoded", "melogit remission il6 crp || did:")
    tab = mplot.random_effects_table(res, "did", ci=95)
    u = res.predict("reffects")["_cons[did]"].to_numpy()
    se = res.predict("reses")["_cons[did]"].to_numpy()
    groups = np.asarray(res.design.terms[0].groups)
    first = np.unique(groups, return_index=True)[1]
    order = np.argsort(u[first], kind="stable")
    np.testing.assert_allclose(tab["effect"], u[first][order], rtol=1e-12)
    np.testing.assert_allclose(tab["upper"] - tab["effect"], norm.ppf(0.975) * se[first][order],
                               rtol=1e-10)
    assert len(tab) == res.design.terms[0].n_groups


def test_marginsplot_of_a_string_factor():
    pig = load_dataset("pig")
    pig["grp"] = np.where(pig.id % 2 == 0, "even", "odd")
    res = memodels.mixed("weight ~ week + grp + (1|id)", pig, nolog=True)
    tab = res.margins(pig, at={"grp": ["odd", "even"]})
    ax = mplot.marginsplot(tab, ax=_bare_axes())
    assert [t.get_text() for t in ax.get_xticklabels()] == ["odd", "even"]
    np.testing.assert_allclose(ax.containers[0].lines[0].get_ydata(), tab["margin"])
