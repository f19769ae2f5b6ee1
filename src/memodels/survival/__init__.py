"""Parametric survival models with random effects ([ME] mestreg): ``stset`` declarations,
the survival distributions as :class:`memodels.families.Family` implementations (PH and
AFT metrics), fitted by the shared GLMM engine."""

from __future__ import annotations

from .base import SurvivalFamily
from .distributions import Exponential, LogLogistic, LogNormal, Weibull
from .gamma import GammaSurvival
from .metrics import DISTRIBUTIONS, make_distribution
from .stset import StData, StSettings, is_stset, stset

__all__ = [
    "stset", "StData", "StSettings", "is_stset", "SurvivalFamily", "Exponential", "Weibull",
    "LogLogistic", "LogNormal", "GammaSurvival", "DISTRIBUTIONS", "make_distribution",
]
