"""The results object shared by every estimation command.

Holds Stata's e()-style facts (header fields, log likelihood, tests) and the displayed
parameter rows; exposes them the way a Python user expects: ``params``, ``bse``,
``vcov`` (pandas, named as Stata's e(b)), ``llf``, ``aic``, ``bic``, ``table()`` and
``summary()``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..design.types import LevelInfo
from .rows import ParamRow


@dataclass
class LRTest:
    """LR test against the model without random effects ([ME] me, Remarks)."""

    label: str  # "LR test vs. linear model"
    kind: str  # "chibar2(01)" or "chi2(k)"
    stat: float
    df: int
    note: str | None = None  # replaces the default note (e.g. the boundary note)

    @property
    def p(self) -> float:
        if self.kind.startswith("chibar2"):
            return float(0.5 * stats.chi2.sf(self.stat, 1)) if self.stat > 0 else 1.0
        return float(stats.chi2.sf(max(self.stat, 0.0), self.df))

    @property
    def conservative(self) -> bool:
        return not self.kind.startswith("chibar2")


@dataclass
class EstimationResults:
    command: str
    cmdline: str
    title: str
    depvar: str
    nobs: int
    llf: float
    ll_label: str  # "Log likelihood" / "Log restricted-likelihood"
    rows: list[ParamRow]
    vcov_matrix: np.ndarray  # over rows with status ok, in row order, reporting metric
    levels: list[LevelInfo]
    converged: bool
    iterations: int
    n_params: int  # for AIC/BIC: every estimated parameter
    wald: tuple[float, int] | None = None
    lr_test: LRTest | None = None
    level: float = 95.0
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    estmetric: pd.Series | None = None  # Stata's e(b): beta, alpha (ln sd, atanh corr), ln sigma
    estmetric_vcov: pd.DataFrame | None = None
    n_dropped: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    # value labels of the factor variables, {variable: {code: label}}: factor rows show
    # the labels (``Foreign``) unless ``nofvlabel`` ([R] estimation options)
    value_labels: dict[str, dict[Any, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # the design's value labels (from the data's attrs) unless given
        if not self.value_labels:
            design = getattr(self, "design", None)
            self.value_labels = dict(getattr(design, "value_labels", None) or {})

    # ---------------------------------------------------------------- pandas
    @property
    def _ok_rows(self) -> list[ParamRow]:
        return [r for r in self.rows if r.status == "ok"]

    @property
    def params(self) -> pd.Series:
        return pd.Series({r.name: r.estimate for r in self._ok_rows}, name="params", dtype=float)

    @property
    def bse(self) -> pd.Series:
        return pd.Series({r.name: r.se for r in self._ok_rows}, name="bse", dtype=float)

    @property
    def vcov(self) -> pd.DataFrame:
        names = [r.name for r in self._ok_rows]
        return pd.DataFrame(self.vcov_matrix, index=names, columns=names)

    @property
    def fe_params(self) -> pd.Series:
        return pd.Series(
            {r.name: r.estimate for r in self._ok_rows if r.section == "fixed"}, dtype=float
        )

    @property
    def ngroups(self) -> dict[str, int]:
        return {lv.level: lv.n_groups for lv in self.levels}

    @property
    def aic(self) -> float:
        return -2.0 * self.llf + 2.0 * self.n_params

    @property
    def bic(self) -> float:
        return -2.0 * self.llf + np.log(self.nobs) * self.n_params

    @property
    def wald_chi2(self) -> float:
        return np.nan if self.wald is None else self.wald[0]

    @property
    def wald_df(self) -> int:
        return 0 if self.wald is None else self.wald[1]

    @property
    def wald_p(self) -> float:
        if self.wald is None or self.wald[1] == 0:
            return np.nan
        return float(stats.chi2.sf(self.wald[0], self.wald[1]))

    def table(self, level: float | None = None) -> pd.DataFrame:
        """Every displayed row: estimate, se, z, p and the confidence interval."""
        lev = self.level if level is None else level
        recs = []
        for r in self.rows:
            lo, hi = r.ci(lev)
            recs.append(
                {
                    "name": r.name,
                    "section": r.section,
                    "block": r.block,
                    "label": r.label,
                    "status": r.status,
                    "estimate": r.estimate,
                    "se": r.se,
                    "z": r.z,
                    "p": r.p,
                    "ci_lower": lo,
                    "ci_upper": hi,
                }
            )
        return pd.DataFrame.from_records(recs).set_index("name")

    # --------------------------------------------------------------- display
    def summary(self, **display_options: Any) -> str:
        """Stata's output, as a :class:`memodels.output.summary.Summary`: a ``str`` that
        displays as an HTML table in a notebook, with ``as_html()`` and ``as_latex()``.
        Keyword display options (``noci=True``, ``cformat="%9.2f"``,
        ``coeflegend=True``, ``level=90``...) give the replay ``mixed, noci
        cformat(%9.2f)`` would print (see :meth:`replay`)."""
        from ..output.summary import Summary

        if display_options:
            return self.replay(**display_options).summary()
        return Summary(self._render())

    def _repr_html_(self) -> str:
        return self.summary().as_html()  # type: ignore[attr-defined]

    def _render(self) -> str:
        from ..output.stata_text import render

        return render(self)

    def replay(self, **display_options: Any) -> EstimationResults:
        """The same estimates with other display options, as Stata's replay
        (``mixed, noci``): the display options given at estimation are dropped, those
        given here apply ([R] estimation options; :mod:`memodels.output.display_opts`).
        Keywords: ``level``, ``noheader``, ``nogroup``, ``nofetable``, ``noretable``,
        ``notable``, ``nolrtest``, ``estmetric``, ``or``/``irr``/``eform`` (me commands)
        and the display options ``noci``, ``nopvalues``, ``noomitted``, ``vsquish``,
        ``noemptycells``, ``baselevels``, ``allbaselevels``, ``nofvlabel``, ``fvwrap``,
        ``fvwrapon``, ``cformat``, ``pformat``, ``sformat``, ``nolstretch``,
        ``coeflegend``."""
        from .replay import replay_copy

        return replay_copy(self, display_options)

    def __str__(self) -> str:
        return str.__str__(self.summary())

    # ---------------------------------------- statsmodels / lme4-style surface
    # (memodels.postestimation.surface, memodels.postestimation.groups)
    @property
    def tvalues(self) -> pd.Series:
        """z statistics of the fixed effects (t with ``dfmethod()``); NaN elsewhere."""
        from ..postestimation import surface

        return surface.tvalues(self)

    @property
    def pvalues(self) -> pd.Series:
        """Two-sided p-values of the fixed effects, as printed (NaN elsewhere)."""
        from ..postestimation import surface

        return surface.pvalues(self)

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Stata's (1 - alpha) confidence intervals of ``params`` (``lower``,
        ``upper``): normal (t with ``dfmethod()``) for the fixed effects, Stata's
        transformed metrics for the variance components."""
        from ..postestimation import surface

        return surface.conf_int(self, alpha)

    @property
    def fittedvalues(self):
        """Predictions given the random effects on the estimation sample (``fitted``
        after mixed, ``mu`` after the me commands, ``mean`` after mestreg)."""
        from ..postestimation import surface

        return surface.fittedvalues(self)

    @property
    def resid(self) -> pd.Series:
        """Response residuals y - fittedvalues (not after ordinal or survival models)."""
        from ..postestimation import surface

        return surface.resid(self)

    @property
    def df_resid(self) -> float:
        """Observations minus estimated parameters (lme4's ``df.residual``)."""
        from ..postestimation import surface

        return surface.df_resid(self)

    @property
    def fixed_effects(self) -> pd.DataFrame:
        """The fixed-effects rows as displayed: estimate, se, z, p, CI."""
        from ..postestimation import surface

        return surface.fixed_effects(self)

    @property
    def variance_components(self) -> pd.DataFrame:
        """The random-effects, residual and ancillary rows, tidy."""
        from ..postestimation import surface

        return surface.variance_components(self)

    @property
    def random_effects(self) -> dict[str, pd.DataFrame]:
        """Per level, one row per group: the EB predictions of the random effects and
        their standard errors (lme4's ``ranef(condVar = TRUE)``); see
        :mod:`memodels.postestimation.groups`."""
        from ..postestimation.groups import random_effects

        return random_effects(self)

    def save(self, path) -> Any:
        """Write the results to ``path`` in memodels' versioned results format (a ZIP of
        JSON and NumPy arrays; :mod:`memodels.results.persist`); read them back with
        :func:`memodels.load`.  Loaded results display, replay and test without the
        data; prediction needs a refit."""
        from .persist import save

        return save(self, path)

    def _require_fit(self, what: str) -> None:
        """Results read by memodels.load have no fit: ``what`` needs the data."""
        if (self.extra or {}).get("loaded_from") is not None:
            from ..errors import MemodelsError

            raise MemodelsError(f"{what} needs the fitted model and its data; these results "
                                f"were loaded from {self.extra['loaded_from']}: refit the "
                                "model to use it")

    def to_frame(self) -> pd.DataFrame:
        """Every displayed row, tidy (as :meth:`table`)."""
        return self.table()

    # --------------------------------------------------------- postestimation
    def predict(self, statistic: str | None = None, **options: Any):
        """Stata's ``predict`` (default ``xb`` after mixed, ``mu`` after the me commands);
        see :mod:`memodels.postestimation.predict`.

        ``data=df``: rows that augment the estimation data (Stata's rule: the random
        effects of a group come from its estimation rows).  ``newdata=df``: any rows,
        lme4's ``allow.new.levels`` rule -- a row of a group seen in estimation gets
        that group's empirical Bayes prediction, a row of a new group the prediction
        with its random effects at 0 (the fixed portion at that level; ``reffects`` and
        ``reses`` are NaN there); a factor level not seen in estimation is a
        :class:`memodels.errors.DataError` (:mod:`memodels.postestimation.newdata`)."""
        from ..postestimation import predict
        from ..postestimation.newdata import check_statistic, predict_on

        check_statistic(statistic)
        self._require_fit("predict")
        if options.get("newdata") is not None:
            newdata = options.pop("newdata")
            return predict_on(self, lambda stat, **o: predict(self, stat, **o), statistic,
                              newdata, options)
        options.pop("newdata", None)
        return predict(self, statistic, **options)

    def margins(self, data, **options: Any):
        """Stata's ``margins`` on the fixed portion of the prediction: ``at=``, ``over=``,
        ``dydx=``; see :mod:`memodels.postestimation.margins`.  ``data`` is the estimation
        DataFrame."""
        from ..postestimation.margins import margins

        self._require_fit("margins")
        return margins(self, data=data, **options)

    def estat(self, name: str, **options: Any):
        """Stata's ``estat`` (group, icc, sd, recovariance, wcorrelation, ic, df, quadchk)."""
        from ..postestimation import estat

        return estat(self, name, **options)

    def quadchk(self, intpoints: Any = None, data: Any = None, **options: Any):
        """``estat quadchk``: refit at fewer and more integration points (by default the
        estimation's -/+ 50%; ``intpoints=(n1, n2)``) from the estimates and compare the
        log likelihood and e(b); a DataFrame (see :mod:`memodels.postestimation.quadchk`).
        ``data``: the estimation data (by default the data the command was given)."""
        from ..postestimation.quadchk import quadchk

        return quadchk(self, data=data, intpoints=intpoints, **options)

    def test(self, hypothesis: Any, small: bool = False, **options: Any):
        """Wald test of linear hypotheses (Stata's ``test``); ``small=True`` gives the F
        test with the DDF of the model's ``dfmethod()`` (after ``mixed``); options
        ``accumulate=previous_test`` and ``mtest=True|"bonferroni"|"holm"|"sidak"``."""
        from ..postestimation import test

        return test(self, hypothesis, small=small, **options)

    def testnl(self, hypothesis: Any):
        """Wald test of nonlinear hypotheses by the delta method (Stata's ``testnl``):
        ``res.testnl("exp(_b[week]) = 500")``, or a list of ``"exp = exp"`` strings."""
        from ..postestimation import testnl

        return testnl(self, hypothesis)

    def testparm(self, varlist: Any, small: bool = False, equal: bool = False):
        """Wald test that all coefficients of the terms are 0, or with ``equal=True`` that
        they are equal (Stata's ``testparm``)."""
        from ..postestimation import testparm

        return testparm(self, varlist, small=small, equal=equal)

    def lincom(self, expression: str, **options: Any):
        """Linear combination of the estimates (Stata's ``lincom``)."""
        from ..postestimation import lincom

        return lincom(self, expression, **options)

    def nlcom(self, expression: str, **options: Any):
        """Nonlinear combination by the delta method (Stata's ``nlcom``)."""
        from ..postestimation import nlcom

        return nlcom(self, expression, **options)

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} {self.command}: {self.depvar}, N={self.nobs}, "
            f"{self.ll_label.lower()} = {self.llf:.8g}>"
        )
