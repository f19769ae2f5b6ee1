"""Postestimation after mixed and the me commands: predict, estat, test, testparm,
lincom, nlcom and lrtest ([ME] mixed postestimation, [ME] meglm postestimation)."""

from __future__ import annotations

from .estat import estat
from .lrtest import LRTestResult, lrtest
from .predict import predict
from .wald import Combination, WaldTest, lincom, nlcom, test, testparm

__all__ = ["predict", "estat", "test", "testparm", "lincom", "nlcom", "lrtest",
           "WaldTest", "Combination", "LRTestResult"]
