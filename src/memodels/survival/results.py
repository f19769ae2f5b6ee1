"""Results of ``mestreg``: the me commands' results ([ME] mestreg, example 1-2 output) with
the st echo, the distribution in the title, hazard or time ratios, and replay.

* title ``Mixed-effects Weibull regression`` (``-- AFT`` appended for the exponential and
  Weibull models fitted with ``time``; the AFT-only distributions have no suffix:
  ``Mixed-effects gamma regression``);
* above it, unless ``noshow``: ``failure _d:  infect`` / ``analysis time _t:  time``
  (``id:``, ``origin:`` when set);
* fixed effects shown as ``Haz. Ratio`` (PH, default; ``nohr`` shows coefficients) or
  ``Tm. Ratio`` (AFT with ``tratio``); ``params``/``bse`` stay on the coefficient scale;
* ``LR test vs. Weibull model`` (the fixed-effects model of the same distribution).

Postestimation ([ME] mestreg postestimation): :meth:`MEStregResults.predict` (survival
statistics, conditional or marginal), ``margins`` of the mean/median survival time
(:meth:`MEStregResults.margins_prediction`) and :meth:`MEStregResults.stcurve`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import pandas as pd

from ..errors import OptionError
from ..results.glmm import GLMMResults
from ..results.replay import REPLAY_OPTIONS as REPLAY_TABLE
from ..syntax.options import DISPLAY_OPTION_NAMES, normalize_keywords
from .metrics import EFORM_LABELS, display_eform
from .stset import StSettings

# options that change the display only (may be given on replay)
REPLAY_OPTIONS = {"nohr", "tratio", "level", "noshow", "noheader", "notable", "nogroup",
                  "nolrtest", "nostderr", *DISPLAY_OPTION_NAMES}


def title_for(family) -> str:
    title = f"Mixed-effects {family.label} regression"
    if family.metric == "aft" and family.name in ("exponential", "weibull"):
        title += " -- AFT"
    return title


@dataclass(repr=False)
class MEStregResults(GLMMResults):
    st: StSettings | None = None
    distribution: str = ""
    frm2: str = "hazard"  # e(frm2): "hazard" (PH) or "time" (AFT)
    st_shown: bool = False  # the st header was printed above the iteration log

    @property
    def eform(self) -> str | None:
        """"hr" (hazard ratios), "tratio" (time ratios) or None (coefficients)."""
        return display_eform(self.family_obj, self.options)

    @property
    def coef_label(self) -> str:
        return EFORM_LABELS.get(self.eform or "", "Coef.")

    @property
    def ln_p(self) -> float:
        return float(self.params.get("/ln_p", float("nan")))

    def replay(self, **options: Any) -> MEStregResults:
        """The same estimates with other display options (Stata's ``mestreg, nohr``)."""
        options = normalize_keywords(options, REPLAY_TABLE)
        bad = set(options) - REPLAY_OPTIONS
        if "time" in bad:
            raise OptionError("option time must be specified at estimation")
        if bad:
            raise OptionError(f"option {sorted(bad)[0]} not allowed on replay")
        opts = {k: v for k, v in self.options.items() if k not in DISPLAY_OPTION_NAMES}
        for key in ("nohr", "tratio"):
            if key in options:
                opts.pop("nohr", None)
                opts.pop("tratio", None)
        opts.update(options)
        new = MEStregResults(**{f.name: getattr(self, f.name) for f in fields(self)})
        new.options = opts
        new.st_shown = False
        if "level" in options:
            new.level = float(options["level"])
        if options.get("nolrtest"):
            new.lr_test = None
        display_eform(self.family_obj, opts)  # validate nohr/tratio now
        return new

    # --------------------------------------------------------- postestimation
    def predict(self, statistic: str | None = None, *, data: pd.DataFrame | None = None,
                relevel: str | None = None, **options: Any) -> pd.Series | pd.DataFrame:
        """Stata's ``predict`` after mestreg ([ME] mestreg postestimation): ``mean``
        (default), ``median``, ``hazard``, ``surv``, ``density``, ``distribution``,
        ``eta``, ``xb``, ``stdp``, ``reffects``, ``reses``, ``scores``, with
        ``conditional=`` ebmeans/ebmodes/fixedonly or ``marginal=True``; see
        :mod:`memodels.postestimation.predict_survival`."""
        from ..postestimation.newdata import check_statistic, predict_on
        from ..postestimation.predict_survival import predict_mestreg

        check_statistic(statistic)
        self._require_fit("predict")
        newdata = options.pop("newdata", None)
        if newdata is not None:  # lme4's allow.new.levels rule: see EstimationResults
            return predict_on(self, lambda stat, data=None, **o: predict_mestreg(
                self, stat, data, relevel, o), statistic, newdata, dict(options, data=data))
        return predict_mestreg(self, statistic, data, relevel, options)

    def margins_prediction(self, predict: str | None):
        """What ``margins`` averages after mestreg (mean survival time, marginal, by
        default); :mod:`memodels.postestimation.margins_survival`."""
        from ..postestimation.margins_survival import mestreg_margins_prediction

        return mestreg_margins_prediction(self, predict)

    def stcurve(self, kind: str = "survival", *, data: pd.DataFrame, **options: Any):
        """Marginal survivor, hazard or cumulative hazard curves (Stata's ``stcurve``);
        :mod:`memodels.postestimation.stcurve`."""
        from ..postestimation.stcurve import stcurve

        return stcurve(self, kind, data=data, **options)

    def _render(self) -> str:
        from ..output.glmm_text import render_glmm

        lines: list[str] = []
        # the st header heads the command's output once: above the iteration log when
        # there is one, else above the table (and on every replay)
        if self.st is not None and not self.options.get("noshow") and not self.st_shown:
            lines += self.st.header_lines()
            lines.append("")
        return "\n".join(lines) + render_glmm(self)


__all__ = ["MEStregResults", "title_for"]


# ------------------------------------------------------------- res.save / load
def _encode_saved(res: MEStregResults) -> dict:
    """What memodels.results.persist cannot save itself: the stset settings (for the
    header) and the distribution's metric (for the hr/tratio display)."""
    st = None
    if res.st is not None:
        st = {f.name: getattr(res.st, f.name) for f in fields(res.st)}
        if st.get("failure_values") is not None:
            st["failure_values"] = list(st["failure_values"])
    return {"st": st, "time": bool(getattr(res.family_obj, "metric", "ph") == "aft")}


def _decode_saved(res: MEStregResults, ext: dict) -> None:
    from .metrics import make_distribution
    from .stset import StSettings

    st = ext.get("st")
    if st is not None:
        if st.get("failure_values") is not None:
            st["failure_values"] = tuple(st["failure_values"])
        res.st = StSettings(**st)
    name = res.distribution
    try:
        res.family_obj = make_distribution(name, time=bool(ext.get("time")))
    except OptionError:  # distributions with the AFT metric only
        res.family_obj = make_distribution(name)


def _register() -> None:
    from ..results.persist import register

    register(MEStregResults, _encode_saved, _decode_saved)


_register()
