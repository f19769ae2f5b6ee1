"""Residual-error structures of ``mixed`` ([ME] mixed, Remarks: Other residual-error
structures; Methods and formulas).

Within each lowest-level panel j, Var(e_j) = sigma_e^2 R_j(rho), with R_j built from the
structure and the panel's t() values (and by() groups).  sigma_e^2 is profiled out with
the other variance parameters, so R is parameterized relative to it:

* ``independent, by(v)``: R = diag(delta_b), delta_1 = 1 (first by-level) -- the
  reported variances are sigma^2 delta_b;
* ``exchangeable``: R = (1 - r) I + r 11';
* ``ar p``: the autocorrelations of a stationary AR(p) at the lags |t_i - t_k| (gaps
  respected), parameterized by partial autocorrelations tanh(z);
* ``ma q``: the autocorrelations of an MA(q);
* ``exponential``: corr rho^|t_i - t_k| with real t, rho = invlogit(z);
* ``toeplitz q``: corr r_k at lag k <= q, 0 beyond;
* ``unstructured`` / ``banded q``: R indexed by the distinct t values, R[0,0] = 1,
  other variances exp(2 z), correlations tanh(z) (banded: within q off-diagonals).

:meth:`ResidualStructure.reported` maps (rho, ln sigma_e) to the rows Stata displays
(``phi1``, ``var(e)``, ``var(e4)``, ``cov(e0,e4)``, ``rho``, ``3 months: var(e)`` ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import DataError, OptionError


@dataclass
class ResidualStructure:
    kind: str
    order: int | None
    panels: np.ndarray  # panel code per observation (0..M-1)
    t: np.ndarray | None = None  # t() values per observation
    by: np.ndarray | None = None  # by() codes per observation (0..B-1)
    by_labels: tuple = ()
    t_levels: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __post_init__(self) -> None:
        if self.kind not in ("independent", "exchangeable", "ar", "ma", "exponential",
                             "toeplitz", "unstructured", "banded"):
            raise OptionError(f"residuals({self.kind}) is not supported")
        if self.by is not None and self.kind != "independent":
            raise OptionError("residuals(..., by()) is implemented for the independent "
                              "structure only")
        if self.kind in ("ar", "ma", "toeplitz") and self.t is not None:
            if np.any(self.t != np.round(self.t)):
                raise DataError(f"t() must be integer-valued for residuals({self.kind})")
        order = np.lexsort((self.t if self.t is not None else np.zeros(self.panels.size),
                            self.panels))
        self.order_idx = order
        p = self.panels[order]
        self.starts = np.flatnonzero(np.r_[True, np.diff(p) != 0])
        sizes = np.diff(np.r_[self.starts, p.size])
        self.m, self.size = self.starts.size, int(sizes.max())
        self.pos = np.arange(p.size) - np.repeat(self.starts, sizes)
        self.panel_of = np.repeat(np.arange(self.m), sizes)
        if self.t is not None:
            ts = self.t[order]
            dup = (np.diff(ts) == 0) & (np.diff(p) == 0)
            if dup.any():
                raise DataError("t() has repeated values within a panel (lowest-level group)")
            self.t_sorted = ts
            self.t_levels = np.unique(ts)
            self.t_index = np.searchsorted(self.t_levels, ts)
        if self.kind in ("unstructured", "banded") and self.t is None:
            raise OptionError(f"residuals({self.kind}) requires the t() option")
        if self.kind in ("ar", "ma", "toeplitz", "exponential") and self.t is None:
            raise OptionError(f"residuals({self.kind}) requires the t() option")
        if self.kind in ("ar", "ma"):
            self.order = self.order or 1
        if self.kind == "toeplitz":
            maxlag = int(self.t_levels.max() - self.t_levels.min()) if self.t_levels.size else 0
            self.order = maxlag if self.order is None else self.order
        if self.kind == "banded":
            n = self.t_levels.size
            self.order = n - 1 if self.order is None else min(self.order, n - 1)

    # ------------------------------------------------------------------ sizes
    @property
    def n_params(self) -> int:
        k = self.kind
        if k == "independent":
            return 0 if self.by is None else int(self.by.max())
        if k in ("exchangeable", "exponential"):
            return 1
        if k in ("ar", "ma", "toeplitz"):
            return int(self.order)
        n = self.t_levels.size
        if k == "unstructured":
            return n * (n + 1) // 2 - 1
        q = int(self.order)
        return (q + 1) * (2 * n - q) // 2 - 1

    def start(self) -> np.ndarray:
        if self.kind == "exponential":
            return np.array([1.0])
        return np.zeros(self.n_params)

    def start_candidates(self) -> list[np.ndarray]:
        """Start values tried for the residual parameters; the fit starts from the best.

        Independence (all zeros) is a stationary point whenever the likelihood is even
        in a parameter -- AR(1) when only even lags are observed (t = 0, 4, 6, 8, 12):
        rho and -rho give the same correlations -- so correlated starts are tried too."""
        base = self.start()
        out = [base]
        k = self.kind
        if k in ("ar", "ma", "toeplitz", "exchangeable") and base.size:
            for c in (0.5, -0.5, 1.5):
                v = base.copy()
                v[0] = c
                out.append(v)
        elif k == "exponential":
            out += [np.array([-1.0]), np.array([3.0])]
        elif k in ("unstructured", "banded"):
            n = self.t_levels.size
            v = base.copy()
            v[n - 1:] = 0.5
            out.append(v)
        return out

    # -------------------------------------------------------------- matrices
    def _lag_corr(self, lags: np.ndarray, params: np.ndarray) -> np.ndarray:
        k = self.kind
        if k == "exchangeable":
            r = np.tanh(params[0])
            return np.where(lags == 0, 1.0, r)
        if k == "exponential":
            rho = 1.0 / (1.0 + np.exp(-params[0]))
            return rho ** lags
        if k == "ar":
            acf = ar_acf(pacf_to_phi(np.tanh(params)), int(lags.max()))
            return acf[lags.astype(int)]
        if k == "ma":
            acf = ma_acf(params, int(lags.max()))
            return acf[lags.astype(int)]
        r = np.r_[1.0, np.tanh(params), np.zeros(max(int(lags.max()) - len(params), 0))]
        return r[lags.astype(int)]

    def level_matrix(self, params: np.ndarray) -> np.ndarray:
        """unstructured/banded: the relative covariance over the distinct t values."""
        n = self.t_levels.size
        sd = np.ones(n)
        corr = np.eye(n)
        pos = 0
        sd[1:] = np.exp(params[: n - 1])
        pos = n - 1
        q = n - 1 if self.kind == "unstructured" else int(self.order)
        for lag in range(1, q + 1):
            for i in range(n - lag):
                corr[i, i + lag] = corr[i + lag, i] = np.tanh(params[pos])
                pos += 1
        return corr * np.outer(sd, sd)

    def panel_matrices(self, params: np.ndarray) -> np.ndarray:
        """R_j padded to (M, T, T) (identity on padding), in the sorted panel order."""
        m, size = self.m, self.size
        out = np.broadcast_to(np.eye(size), (m, size, size)).copy()
        rows = self.panel_of
        if self.kind == "independent":
            if self.by is not None:
                delta = np.r_[1.0, np.exp(2 * params)]
                out[rows, self.pos, self.pos] = delta[self.by[self.order_idx]]
            return out
        # pairs within panels
        i_idx, j_idx = _pairs(self.starts, np.diff(np.r_[self.starts, rows.size]))
        pi, pj = self.pos[i_idx], self.pos[j_idx]
        pan = rows[i_idx]
        if self.kind in ("unstructured", "banded"):
            full = self.level_matrix(params)
            vals = full[self.t_index[i_idx], self.t_index[j_idx]]
        elif self.kind == "exchangeable":
            vals = self._lag_corr((pi != pj).astype(float), params)
        else:
            lags = np.abs(self.t_sorted[i_idx] - self.t_sorted[j_idx])
            vals = self._lag_corr(lags, params)
        out[pan, pi, pj] = vals
        return out

    def transform(self, params: np.ndarray, arrays: list[np.ndarray]):
        """C_j^{-1} applied panel by panel to each (n, k) array (data order in and out),
        and sum_j log|R_j|."""
        r = self.panel_matrices(params)
        chol = np.linalg.cholesky(r)
        logdet = 2.0 * float(np.log(np.diagonal(chol, axis1=1, axis2=2)).sum())
        out = []
        for arr in arrays:
            a2 = arr.reshape(arr.shape[0], -1)
            pad = np.zeros((self.m, self.size, a2.shape[1]))
            pad[self.panel_of, self.pos] = a2[self.order_idx]
            sol = np.linalg.solve(chol, pad)
            res = np.empty_like(a2)
            res[self.order_idx] = sol[self.panel_of, self.pos]
            out.append(res.reshape(arr.shape))
        return out, logdet

    def covariance_among(self, params: np.ndarray, obs: np.ndarray) -> np.ndarray:
        """R (relative to sigma_e^2) among the observations ``obs`` (positions in data
        order): R_j's entry for two observations of the same panel, 0 across panels."""
        obs = np.asarray(obs, dtype=np.int64)
        inv = np.empty_like(self.order_idx)
        inv[self.order_idx] = np.arange(self.order_idx.size)
        s = inv[obs]
        pan, pos = self.panel_of[s], self.pos[s]
        mats = self.panel_matrices(params)
        out = mats[pan[:, None], pos[:, None], pos[None, :]]
        return np.where(pan[:, None] == pan[None, :], out, 0.0)

    # -------------------------------------------------------------- reporting
    def reported(self, params: np.ndarray, ln_sigma: float) -> list[tuple[str, str, float, str]]:
        """(label, name, value, ci_rule) rows as Stata displays them."""
        s2 = float(np.exp(2 * ln_sigma))
        k = self.kind
        if k == "independent":
            if self.by is None:
                return [("var(Residual)", "var(e)", s2, "log")]
            delta = np.r_[1.0, np.exp(2 * params)]
            return [(f"{lab}: var(e)", f"var(e[{lab}])", s2 * d, "log")
                    for lab, d in zip(self.by_labels, delta, strict=True)]
        if k == "exchangeable":
            r = float(np.tanh(params[0]))
            return [("var(e)", "var(e)", s2, "log"), ("cov(e)", "cov(e)", r * s2, "symmetric")]
        if k == "exponential":
            rho = float(1.0 / (1.0 + np.exp(-params[0])))
            return [("rho", "rho", rho, "logit"), ("var(e)", "var(e)", s2, "log")]
        if k == "ar":
            phi = pacf_to_phi(np.tanh(params))
            rows = [(f"phi{i + 1}", f"phi{i + 1}", float(v), "symmetric")
                    for i, v in enumerate(phi)]
            if len(phi) == 1:
                rows = [("rho", "rho", float(phi[0]), "symmetric")]
            return rows + [("var(e)", "var(e)", s2, "log")]
        if k == "ma":
            return [(f"theta{i + 1}", f"theta{i + 1}", float(v), "symmetric")
                    for i, v in enumerate(params)] + [("var(e)", "var(e)", s2, "log")]
        if k == "toeplitz":
            return [(f"rho{i + 1}", f"rho{i + 1}", float(np.tanh(v)), "atanh")
                    for i, v in enumerate(params)] + [("var(e)", "var(e)", s2, "log")]
        full = s2 * self.level_matrix(params)
        labels = [_tlabel(v) for v in self.t_levels]
        n = len(labels)
        rows = [(f"var(e{lab})", f"var(e{lab})", float(full[i, i]), "log")
                for i, lab in enumerate(labels)]
        q = n - 1 if k == "unstructured" else int(self.order)
        for i in range(n):
            for j in range(i + 1, n):
                if j - i <= q:
                    name = f"cov(e{labels[i]},e{labels[j]})"
                    rows.append((name, name, float(full[i, j]), "symmetric"))
        return rows

    @property
    def header(self) -> str:
        k = self.kind
        names = {"independent": "Independent", "exchangeable": "Exchangeable",
                 "exponential": "Exponential", "unstructured": "Unstructured"}
        if k in ("ar", "ma"):
            return f"Residual: {k.upper()}({self.order})"
        if k in ("toeplitz", "banded"):
            return f"Residual: {k.capitalize()}({self.order})"
        return f"Residual: {names[k]}"


def _tlabel(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def _pairs(starts: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All ordered (i, j) index pairs within each panel (sorted positions)."""
    counts = sizes.astype(np.int64) ** 2
    panel = np.repeat(np.arange(sizes.size), counts)
    within = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    n = sizes[panel]
    return starts[panel] + within // n, starts[panel] + within % n


def pacf_to_phi(pacf: np.ndarray) -> np.ndarray:
    """AR coefficients from partial autocorrelations (Durbin-Levinson); stationary for
    |pacf| < 1."""
    phi = np.zeros(0)
    for k, a in enumerate(pacf):
        phi = np.r_[phi - a * phi[::-1], a] if k else np.array([a])
    return phi


def ar_acf(phi: np.ndarray, maxlag: int) -> np.ndarray:
    """Autocorrelations 0..maxlag of a stationary AR(p) (Yule-Walker, then recursion)."""
    p = phi.size
    if p == 0:
        return np.r_[1.0, np.zeros(maxlag)]
    a = np.zeros((p, p))
    b = phi.copy()
    for k in range(1, p + 1):  # rho_k = sum_i phi_i rho_|k-i|, rho_0 = 1
        for i in range(1, p + 1):
            lag = abs(k - i)
            if lag:
                a[k - 1, lag - 1] -= phi[i - 1]
    a[np.arange(p), np.arange(p)] += 1.0
    rho = np.linalg.solve(a, b)
    acf = np.r_[1.0, rho]
    for k in range(p + 1, maxlag + 1):
        acf = np.r_[acf, sum(phi[i] * acf[k - i - 1] for i in range(p))]
    return acf[: maxlag + 1] if maxlag + 1 <= acf.size else np.r_[acf, np.zeros(0)]


def ma_acf(theta: np.ndarray, maxlag: int) -> np.ndarray:
    coef = np.r_[1.0, theta]
    q = theta.size
    denom = float(coef @ coef)
    acf = np.zeros(maxlag + 1)
    for k in range(min(q, maxlag) + 1):
        acf[k] = float(coef[: q + 1 - k] @ coef[k:]) / denom
    return acf
