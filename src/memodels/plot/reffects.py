"""A caterpillar plot of one level's random effects: the empirical Bayes predictions
(``predict, reffects``: BLUPs after ``mixed``, posterior means or modes after the me
commands) of every group, sorted, with ``u +- z * se`` intervals where ``se`` is
``predict, reses`` (the posterior or prediction standard deviation).  This is lme4's
``dotplot(ranef(condVar = TRUE))``; Stata has no built-in equivalent.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from ..errors import OptionError
from .axes import new_axes


def _term(res: Any, level: str | None) -> tuple[int, Any]:
    terms = list(res.design.terms)
    usable = [k for k, t in enumerate(terms) if t.rfactor is None and t.n_groups > 0]
    if not usable:
        raise OptionError("caterpillar: the model has no random effects to plot")
    if level is None:
        return usable[-1], terms[usable[-1]]
    for k in usable:
        t = terms[k]
        if level in (t.level, t.path):
            return k, t
    names = ", ".join(dict.fromkeys(terms[k].path for k in usable))
    raise OptionError(f"caterpillar: level {level} not found (levels: {names})")


def random_effects_table(res: Any, level: str | None = None, effect: str | None = None, *,
                         data: pd.DataFrame | None = None, ci: float = 95.0) -> pd.DataFrame:
    """One row per group of ``level``: the random effect ``effect``, its standard error and
    the ``ci``% interval, sorted by the effect (what :func:`caterpillar` draws).

    Parameters
    ----------
    res : results of an estimation command
    level : str, optional
        The level variable (``"id"``) or nesting path (``"school>class"``); default the
        innermost level.
    effect : str, optional
        The random coefficient (``"_cons"``, ``"week"``); default the first of the level.
    data : pandas.DataFrame, optional
        The estimation data, to label the groups by their identifiers (otherwise
        groups are numbered 1, 2, ... in order of their identifiers).
    ci : float
        Confidence level of the intervals, in percent.

    Returns
    -------
    pandas.DataFrame
        Columns ``group``, ``effect``, ``se``, ``lower``, ``upper``.
    """
    if not 10 <= float(ci) <= 99.99:
        raise OptionError("caterpillar: ci must be between 10 and 99.99")
    k, term = _term(res, level)
    name = term.names[0] if effect is None else effect
    if name not in term.names:
        raise OptionError(f"caterpillar: {name} is not a random effect at level {term.path} "
                          f"({', '.join(term.names)})")
    column = f"{name}[{term.path}]"
    u = res.predict("reffects")
    se = res.predict("reses")
    if column not in u.columns or column not in se.columns:
        raise OptionError(f"caterpillar: predict did not give {column}")
    codes = np.asarray(term.groups)
    first = np.unique(codes, return_index=True)[1]
    rows = np.asarray(first)
    if data is not None:
        keys = term.path.split(">")
        where = res.design.index[rows]
        if any(k not in data.columns for k in keys) or not where.isin(data.index).all():
            raise OptionError("caterpillar: data= must be the estimation data (with "
                              f"{', '.join(keys)} and the estimation sample's rows)")
        ids = data.loc[where, keys].astype(str)
        labels = ids.agg(">".join, axis=1).to_numpy() if len(keys) > 1 else ids[keys[0]].to_numpy()
    else:
        labels = np.arange(1, rows.size + 1).astype(str)
    z = float(norm.ppf(0.5 + float(ci) / 200.0))
    uu = u[column].to_numpy(dtype=float)[rows]
    ss = se[column].to_numpy(dtype=float)[rows]
    out = pd.DataFrame({"group": labels, "effect": uu, "se": ss,
                        "lower": uu - z * ss, "upper": uu + z * ss})
    out = out.sort_values("effect", kind="stable").reset_index(drop=True)
    out.attrs.update(level=term.path, name=name, ci=float(ci))
    return out


def caterpillar(res: Any, level: str | None = None, effect: str | None = None, *,
                data: pd.DataFrame | None = None, ci: float = 95.0, ax: Any = None,
                pyplot: bool = True) -> Any:
    """Caterpillar plot: a level's random effects sorted, with their ``ci``% intervals.

    Parameters
    ----------
    res : results of an estimation command
    level : str, optional
        The grouping level (``"id"``, or a path ``"school>class"``); default the
        innermost level.
    effect : str, optional
        The random coefficient to plot (``"_cons"``, ``"week"``); default the level's first.
    data : pandas.DataFrame, optional
        The estimation data, to label the groups by their identifiers.
    ci : float
        Confidence level of the intervals (percent).
    ax : matplotlib.axes.Axes, optional
        Where to draw; by default a new figure.
    pyplot : bool
        With no ``ax``: a pyplot figure (default) or a bare Figure (for files).

    Returns
    -------
    matplotlib.axes.Axes
        The groups are on the vertical axis (sorted), the effects on the horizontal one.

    Examples
    --------
    >>> import memodels, memodels.plot
    >>> pig = memodels.datasets.load("pig")
    >>> res = memodels.mixed("weight week || id:", pig, nolog=True)
    >>> ax = memodels.plot.caterpillar(res, "id", pyplot=False)
    >>> len(ax.get_yticks())
    48
    """
    tab = random_effects_table(res, level, effect, data=data, ci=ci)
    ax = new_axes(ax, figsize=(6.0, max(3.0, 0.12 * len(tab) + 1.0)), pyplot=pyplot)
    pos = np.arange(len(tab), dtype=float)
    err = np.vstack([tab["effect"] - tab["lower"], tab["upper"] - tab["effect"]])
    ax.errorbar(tab["effect"].to_numpy(), pos, xerr=err, fmt="o", markersize=3, capsize=0)
    ax.axvline(0.0, color="grey", linewidth=0.8, linestyle="--")
    ax.set_yticks(pos)
    ax.set_yticklabels(tab["group"].tolist(), fontsize=6 if len(tab) > 30 else 8)
    ax.set_xlabel(f"{tab.attrs['name']}[{tab.attrs['level']}] with {ci:g}% intervals")
    ax.set_ylabel(tab.attrs["level"])
    ax.set_title("Random effects (empirical Bayes predictions)")
    return ax
