"""Postestimation after mixed and the me commands: predict, estat, test, testparm,
testnl, lincom, nlcom and lrtest ([ME] mixed postestimation, [ME] meglm postestimation)."""

from __future__ import annotations

from .estat import estat
from .lrtest import LRTestResult, lrtest
from .nonlinear import NonlinearTest, nlcom, testnl
from .predict import predict
from .wald import Combination, WaldTest, lincom, test, testparm

__all__ = ["predict", "estat", "test", "testparm", "testnl", "lincom", "nlcom", "lrtest",
           "WaldTest", "NonlinearTest", "Combination", "LRTestResult"]
