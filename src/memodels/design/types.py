"""Numeric model design: the estimation sample and its matrices.

Produced by :func:`memodels.design.build_design` from a :class:`memodels.spec.ModelSpec`
and a DataFrame; consumed by the likelihood engines.  Rows are the estimation sample
only, in data order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd


@dataclass
class FixedColumn:
    """One column of Stata's fixed-effects coefficient vector, kept or not.

    ``name`` is Stata's e(b) column name (``week``, ``2.cancerstage``,
    ``1.sex#c.age``, ``c.age#c.age``, ``_cons``).  ``status`` is ``"ok"``,
    ``"base"`` (a factor base level, shown as ``(base)``), ``"omitted"`` (dropped for
    collinearity, shown as ``(omitted)``) or ``"empty"`` (an interaction cell with no
    observations).  ``term`` is the label of the term it came from (``cancerstage``,
    ``sex#c.age``) and ``level_labels`` the printed row label within that term
    (value labels where the data has them, else the level values).
    """

    name: str
    status: str = "ok"
    term: str = ""
    level_labels: str = ""


@dataclass
class RandomTerm:
    """One random-effects equation, evaluated on the estimation sample.

    ``groups`` codes the level's groups 0..n_groups-1 for every observation: for a
    nested level the groups are the distinct combinations of this and all outer level
    variables; for ``_all`` a single group; for a crossed (lme4, ``nested=False``)
    term, the distinct values of the level variable alone.

    ``Z`` holds the random-effect covariates (n x q), constant last, named in
    ``names`` (``("week", "_cons")``).  For ``R.var`` equations ``rfactor_codes``
    gives each observation's level index of ``var`` (0..len(rfactor_levels)-1) and
    ``Z`` is None unless the engine materializes indicators; ``names`` are then
    ``("R.var",)``.

    ``level`` is the level variable name (``"class"``, ``"_all"``); ``path`` is
    the nesting path used in parameter names (``"school>class"``); ``covariance`` is
    normalized and already defaulted (identity for one effect or ``R.``, else
    independent, unless the user chose).  ``covariance_matrix`` names the matrix of
    ``covariance(fixed(name))`` / ``covariance(pattern(name))`` (the me commands).
    """

    level: str
    path: str
    groups: np.ndarray
    n_groups: int
    names: tuple[str, ...]
    covariance: str
    Z: np.ndarray | None = None
    rfactor: str | None = None
    rfactor_codes: np.ndarray | None = None
    rfactor_levels: tuple = ()
    level_weights: np.ndarray | None = None  # per-observation copy of fweight()/pweight()
    level_weight_kind: str | None = None
    covariance_matrix: str | None = None  # matrix name of covariance(fixed()/pattern())

    @property
    def q(self) -> int:
        return len(self.rfactor_levels) if self.rfactor is not None else self.Z.shape[1]


@dataclass
class LevelInfo:
    """A row of Stata's group table: one distinct level (repeated equations count once)."""

    level: str
    path: str
    n_groups: int
    min: int
    avg: float
    max: int


@dataclass
class Design:
    """Everything an engine needs, for the estimation sample only.

    ``X`` has only the kept columns (status ``"ok"``); ``columns`` lists every column
    of Stata's coefficient vector in order, including base/omitted ones.
    ``index`` holds the DataFrame index labels of the estimation sample, and
    ``sample`` is a boolean mask over the original rows (Stata's ``e(sample)``).
    ``n_dropped`` counts observations removed for missing values (after ``if``/``in``).
    ``weights`` is the observation-level weight (None when unweighted) and
    ``weight_kind`` its Stata kind.
    """

    depvar: str
    y: np.ndarray
    X: np.ndarray
    columns: list[FixedColumn]
    terms: list[RandomTerm]
    levels: list[LevelInfo]
    index: pd.Index
    sample: np.ndarray
    n_dropped: int = 0
    weights: np.ndarray | None = None
    weight_kind: str | None = None
    notes: list[str] = field(default_factory=list)
    extra: dict[str, np.ndarray] = field(default_factory=dict)  # offset, exposure, t(), by() ...
    # Stata's value labels of the model's variables ({variable: {code: label}})
    value_labels: dict[str, dict] = field(default_factory=dict)
    # lme4 formula transforms: expression -> (formulaic state, column names); see
    # memodels.design.derived
    derived: dict[str, Any] = field(default_factory=dict)

    @property
    def nobs(self) -> int:
        """Number of observations; with frequency weights, the sum of the weights."""
        if self.weight_kind == "fweight" and self.weights is not None:
            return int(round(float(self.weights.sum())))
        return int(self.y.shape[0])

    @property
    def kept_names(self) -> list[str]:
        return [c.name for c in self.columns if c.status == "ok"]
