"""What ``margins`` averages when the prediction is the results' own
(:func:`memodels.postestimation.margins.margins`): a function of the whole e(b) in the
estimation metric, averaged over rows, with its gradient by central differences for the
delta method (the VCE is ``fit.vcov``, in the same metric; the delta method does not
depend on the metric).  Subclasses: :mod:`memodels.postestimation.margins_glmm` (the me
commands) and :mod:`memodels.postestimation.margins_survival` (mestreg).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .frame import fixed_matrix, term_covariates


class MarginsPrediction:
    """Base class: subclasses set ``res`` and define :meth:`values`."""

    res: object
    use_offset: bool = True

    @property
    def params(self) -> np.ndarray:
        return np.asarray(self.res.fit.params, dtype=float)

    @property
    def vcov(self) -> np.ndarray:
        return np.asarray(self.res.fit.vcov, dtype=float)

    def values(self, x: np.ndarray, zs: list[np.ndarray], off: np.ndarray | None,
               theta: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The prediction of every row at parameters ``theta``."""
        raise NotImplementedError

    def constant_in(self, k: int) -> bool:
        """True when the prediction does not depend on e(b)'s element ``k`` (its
        gradient is 0 and is not differenced)."""
        return False

    def average(self, frame: pd.DataFrame, mask: np.ndarray, offset: np.ndarray | None
                ) -> tuple[float, np.ndarray]:
        """Average prediction over the masked rows and its gradient in e(b)."""
        design = self.res.design
        x = fixed_matrix(design, frame)[mask]
        zs = [term_covariates(design.terms[src], frame)[mask]
              for src in self.res.fit.term_sources]
        off = None if (offset is None or not self.use_offset) else offset[mask]
        theta = self.params
        m = float(np.mean(self.values(x, zs, off, theta, mask)))
        grad = np.zeros(theta.size)
        for k in range(theta.size):
            if self.constant_in(k):
                continue
            h = 1e-6 * max(1.0, abs(theta[k]))
            up, dn = theta.copy(), theta.copy()
            up[k] += h
            dn[k] -= h
            grad[k] = (np.mean(self.values(x, zs, off, up, mask))
                       - np.mean(self.values(x, zs, off, dn, mask))) / (2 * h)
        return m, grad


__all__ = ["MarginsPrediction"]
