"""The groups of each random-effects level, by their identifiers, and the random effects
per group (``res.random_effects``, as lme4's ``ranef(condVar = TRUE)``).

Stata's ``predict, reffects`` / ``reses`` give the empirical Bayes (EB) predictions of
the random effects and their standard errors once per *observation* ([ME] mixed
postestimation, [ME] meglm postestimation); :func:`random_effects` gives them once per
*group*: a DataFrame per level, indexed by the group's identifiers (a MultiIndex of the
outer-to-inner level variables for nested levels), with one column per random effect
and its standard error ``se(name)``.  After ``mixed`` they are the BLUPs and the
square roots of the diagonals of their conditional (prediction-error) covariances;
after the me commands the EB means (EB modes after ``meqrlogit``/``meqrpoisson``,
Stata's defaults) and their posterior standard deviations.

The identifiers of the estimation groups are kept with the results at estimation
(:func:`group_tables`, ``res.extra["group_ids"]``), so that results can predict on new
data and be saved without the estimation data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..design.types import Design
from ..design.variables import ALL
from ..errors import OptionError
from ..lmm.terms import engine_terms


def term_keys(term) -> list[str]:
    """The variables identifying a term's groups, outer to inner (none for ``_all``)."""
    if term.path == ALL or term.level == ALL:
        return []
    return term.path.split(">")


def _identity_rfactor(term) -> bool:
    return term.rfactor is not None and term.covariance == "identity"


def group_tables(design: Design, data: pd.DataFrame) -> list[pd.DataFrame] | None:
    """Per engine random-effects term, a DataFrame with one row per group code
    (0..n_groups-1) and the identifying variables as columns (plus the ``R.`` variable
    for ``R.var`` terms with identity covariance, whose engine groups are the level x
    value cells).  None when the identifiers cannot be read back from ``data`` (then
    ``random_effects`` and ``predict(newdata=)`` refuse with a message)."""
    try:
        return _group_tables(design, data)
    except (KeyError, IndexError, ValueError):
        return None


def _group_tables(design: Design, data: pd.DataFrame) -> list[pd.DataFrame]:
    if len(design.sample) == len(data):
        # positions of the sample rows; only each group's first row is read from ``data``
        positions = np.flatnonzero(np.asarray(design.sample, bool))
    else:
        positions = data.index.get_indexer(design.index)
        if (positions < 0).any():
            raise KeyError("sample rows not in data")
    out = []
    for et in engine_terms(design.terms):
        term = design.terms[et.source]
        cols = term_keys(term)
        codes = np.asarray(et.groups)
        first = np.zeros(et.n_groups, dtype=np.int64)
        first[codes[::-1]] = np.arange(codes.size)[::-1]
        if cols:
            take = positions[first]
            table = pd.DataFrame({c: data[c].array.take(take) for c in cols})
        else:
            table = pd.DataFrame(index=range(et.n_groups))
        if _identity_rfactor(term):
            lev = np.asarray(term.rfactor_levels, dtype=object)
            table[term.rfactor] = lev[np.asarray(term.rfactor_codes)[first]]
        if table.shape[1] == 0:
            table[ALL] = ALL
        out.append(table)
    return out


def _eb(res) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """EB predictions (G x q) and their covariances (G x q x q) per engine term."""
    from ..results.mixed import MixedResults
    from .blup import mixed_blups

    if isinstance(res, MixedResults):
        bl = mixed_blups(res.design, res.fit, variances=True)
        return list(bl.u), list(bl.cov)
    from .eb import eb_estimates

    modes = res.command.startswith("meqr")
    return eb_estimates(res, modes=modes, wanted_effects=True)


def random_effects(res) -> dict[str, pd.DataFrame]:
    """The random effects per group, level -> DataFrame (see the module docstring).
    Levels with several random-effects equations (``|| id: x || id: z``) are one
    DataFrame; ``R.var`` terms have one column per level of ``var`` (with identity
    covariance, one effect per level x value cell; crossed ``|| _all: R.var`` effects are
    keyed by ``var``)."""
    res._require_fit("random_effects")
    if res.design is None or res.fit is None:
        raise OptionError("random_effects need the fitted model")
    tables = res.extra.get("group_ids")
    if tables is None:
        raise OptionError("random_effects: the group identifiers were not kept with these "
                          "results")
    design = res.design
    eterms = engine_terms(design.terms)
    if not eterms:
        return {}
    means, covs = _eb(res)
    out: dict[str, pd.DataFrame] = {}
    for k, et in enumerate(eterms):
        term = design.terms[et.source]
        u, c = np.asarray(means[k]), np.asarray(covs[k])
        se = np.sqrt(np.clip(np.diagonal(c, axis1=1, axis2=2), 0, None))
        if term.rfactor is not None and not _identity_rfactor(term):
            names = [f"{lev}.{term.rfactor}" for lev in term.rfactor_levels]
        elif term.rfactor is not None:
            names = [f"R.{term.rfactor}"]
        else:
            names = list(term.names)
        ids = tables[k]
        if ids.shape[1] == 1:
            index = pd.Index(ids.iloc[:, 0], name=ids.columns[0])
        else:
            index = pd.MultiIndex.from_frame(ids)
        cols = {nm: u[:, j] for j, nm in enumerate(names)}
        cols.update({f"se({nm})": se[:, j] for j, nm in enumerate(names)})
        df = pd.DataFrame(cols, index=index)
        # crossed R.var effects (``|| _all: R.id``) are named by their variable
        key = term.rfactor if term.level == ALL and _identity_rfactor(term) else term.level
        if key in out and out[key].index.equals(df.index):
            df = pd.concat([out[key], df], axis=1)
        elif key in out:
            key = f"{term.path}#{k + 1}"
        out[key] = df
    return out


__all__ = ["group_tables", "random_effects", "term_keys"]
