"""``stcurve`` after ``mestreg`` ([ME] mestreg postestimation; [ST] stcurve): the
survivor, hazard or cumulative hazard curves computed by
:func:`memodels.postestimation.stcurve.stcurve` (unconditional over the random effects,
at the covariates' means unless ``at=`` sets them), drawn one line per ``at`` pattern."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..errors import OptionError
from ..postestimation.stcurve import draw
from .axes import require_matplotlib


def stcurve(res: Any, kind: str = "survival", *, data: pd.DataFrame, at: Any = None,
            ax: Any = None, pyplot: bool = True, **options: Any) -> Any:
    """Plot survivor (``"survival"``), ``"hazard"`` or cumulative hazard (``"cumhaz"``)
    curves after ``mestreg``.

    Parameters
    ----------
    res : results of ``mestreg``
    kind : {"survival", "hazard", "cumhaz"}
    data : pandas.DataFrame
        The estimation data (as stset).
    at : dict or list of dicts, optional
        Covariate values: one curve per dict (Stata's ``at1() at2() ...``).
    ax : matplotlib.axes.Axes, optional
        Where to draw; by default a new figure.
    pyplot : bool
        With no ``ax``: a pyplot figure (default) or a bare Figure (for files).
    **options
        ``times=``, ``range=``, ``n=``, ``fixedonly=``, ``intpoints=`` of
        :func:`memodels.postestimation.stcurve.stcurve`.

    Returns
    -------
    matplotlib.axes.Axes
        One line per ``at`` pattern (``ax.lines``), x = analysis time.

    Examples
    --------
    >>> import memodels, memodels.plot
    >>> cath = memodels.stset(memodels.datasets.load("catheter"), time="time",
    ...                       failure="infect")
    >>> res = memodels.mestreg("age female || patient:, distribution(weibull)", cath,
    ...                        nolog=True)
    >>> ax = memodels.plot.stcurve(res, "hazard", data=cath, at=[{"female": 0},
    ...                            {"female": 1}], pyplot=False)
    >>> len(ax.lines)
    2
    """
    if getattr(res, "command", None) != "mestreg" or not hasattr(res, "stcurve"):
        raise OptionError("stcurve: available after mestreg only")
    require_matplotlib()
    curve = res.stcurve(kind, data=data, at=at, plot=False, **options)
    fam = res.family_obj
    title = f"{fam.label[:1].upper() + fam.label[1:]} mixed-effects regression"
    return draw(curve, title, ax, pyplot=pyplot)
