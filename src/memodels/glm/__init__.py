"""Fixed-effects generalized linear models (the me commands' "Fitting fixed-effects model")."""

from .fit import GLMResult, fit_glm

__all__ = ["fit_glm", "GLMResult"]
