"""``mixed`` on Dask: the sufficient statistics of each partition, and the in-memory
likelihood objects rebuilt from them on the client.

[ME] mixed, Methods and formulas: the profiled likelihood depends on the data only
through Z'Z, Z'X, Z'y, X'X, X'y and y'y (:mod:`memodels.lmm.profiled`).  For a nested
model Z'Z is block diagonal by top-level group, so a partition holding whole top-level
groups returns its own blocks -- O(groups x q^2) numbers -- and the client places them
at the groups' global positions.  The client then builds the very objects the in-memory
engine builds from the rows (:class:`~memodels.lmm.profiled.ProfiledLMM`, or
:class:`~memodels.lmm.dense.DenseLMM` when the model has few random effects in all),
with the same attributes, and optimizes with :func:`memodels.lmm.fit.fit_lmm`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..covariance.structures import CovStructure
from ..errors import DataError
from ..lmm.dense import DENSE_MAX_Q, DenseLMM
from ..lmm.profiled import DENSE_LIMIT, ProfiledLMM
from ..lmm.terms import EngineTerm
from .partdesign import PartDesign


# ------------------------------------------------------------------ worker side
def partition_stats(pd_: PartDesign, keep: np.ndarray, b0: np.ndarray,
                    term_idx: list[int]) -> dict:
    """Cross-products of one partition, y centred on the global OLS fit ``b0`` (as
    :func:`memodels.lmm.criteria.center_on_ols` centres it in memory).  Local group
    indices; the keys say which groups they are."""
    X = pd_.X[:, keep]
    y = pd_.y - X @ b0
    n = y.size
    out: dict = {"n": n, "xtx": X.T @ X, "xty": X.T @ y, "yty": float(y @ y),
                 "keys": [pd_.keys[i] for i in term_idx], "terms": []}
    blocks, offs, off = [], [], 0
    for i in term_idx:
        z, g, ng = pd_.Z[i], pd_.groups[i], pd_.n_groups[i]
        q = z.shape[1]
        counts = np.bincount(g, minlength=ng)
        info: dict = {"counts": counts, "zmin": z.min(axis=0) if n else None,
                      "zmax": z.max(axis=0) if n else None,
                      "ones": bool(q == 1 and np.all(z[:, 0] == 1.0))}
        if info["ones"] and ng:  # the one-way ANOVA pieces of the moment start
            s = np.bincount(g, weights=y, minlength=ng)
            mean = s / np.maximum(counts, 1)
            info["sum_r"] = s
            info["within"] = float(((y - mean[g]) ** 2).sum())
        out["terms"].append(info)
        offs.append(off)
        rows = np.repeat(np.arange(n), q)
        cols = (off + g[:, None] * q + np.arange(q)[None, :]).ravel()
        blocks.append((rows, cols, z.ravel()))
        off += ng * q
    if blocks:
        zmat = sp.csr_matrix((np.concatenate([b[2] for b in blocks]),
                              (np.concatenate([b[0] for b in blocks]),
                               np.concatenate([b[1] for b in blocks]))), shape=(n, off))
        zmat.eliminate_zeros()
        ztz = (zmat.T @ zmat).tocoo()
        out["ztz"] = (ztz.row, ztz.col, ztz.data)
        out["ztx"] = np.asarray(zmat.T @ X)
        out["zty"] = np.asarray(zmat.T @ y).ravel()
    out["offsets"] = offs
    return out


# ------------------------------------------------------------------ client side
def global_codes(parts: list[dict], n_terms: int) -> tuple[list[list[np.ndarray]], list[int],
                                                           list[np.ndarray]]:
    """Global group codes (sorted key order, as in memory) of every partition's local
    groups, the number of groups of each term and their sizes."""
    maps: list[list[np.ndarray]] = [[None] * n_terms for _ in parts]  # type: ignore[list-item]
    n_groups, sizes = [], []
    for t in range(n_terms):
        frames = []
        for k, st in enumerate(parts):
            kf = st["keys"][t].copy()
            kf["__part"] = k
            kf["__local"] = np.arange(len(kf))
            kf["__n"] = st["terms"][t]["counts"]
            frames.append(kf)
        allk = pd.concat(frames, ignore_index=True)
        cols = [c for c in allk.columns if not str(c).startswith("__")]
        if cols:
            allk = allk.sort_values(cols, kind="stable").reset_index(drop=True)
            if allk.duplicated(subset=cols).any():
                raise DataError("a group lies in more than one partition: the frame is not "
                                "partitioned by the top-level identifier (do not pass "
                                "partitioned=True, or repartition it)")
            code = np.arange(len(allk))
        else:  # _all: one group
            code = np.zeros(len(allk), np.int64)
        n_groups.append(int(code.max()) + 1 if code.size else 0)
        sz = np.zeros(n_groups[-1], np.int64)
        np.add.at(sz, code, allk["__n"].to_numpy(np.int64))
        sizes.append(sz)
        part = allk["__part"].to_numpy()
        local = allk["__local"].to_numpy()
        for k in range(len(parts)):
            sel = part == k
            m = np.zeros(int(sel.sum()), np.int64)
            m[local[sel]] = code[sel]
            maps[k][t] = m
    return maps, n_groups, sizes


class Stats:
    """The pooled statistics: X'X, X'y, y'y, and Z'Z (sparse), Z'X, Z'y with the columns
    of Z grouped by term, group, effect (the layout of ``_sparse_z`` in memory)."""

    def __init__(self, parts: list[dict], qs: list[int], structures: list[CovStructure],
                 sources: list[int]) -> None:
        nt = len(qs)
        maps, self.n_groups, self.sizes = global_codes(parts, nt)
        self.n = sum(st["n"] for st in parts)
        self.xtx = sum(st["xtx"] for st in parts)
        self.xty = sum(st["xty"] for st in parts)
        self.yty = float(sum(st["yty"] for st in parts))
        self.offsets = list(np.cumsum([0] + [g * q for g, q in zip(self.n_groups, qs,
                                                                  strict=True)]))
        qt = int(self.offsets[-1])
        p = self.xtx.shape[0]
        rows, cols, vals = [], [], []
        self.ztx = np.zeros((qt, p))
        self.zty = np.zeros(qt)
        self.ones = [all(st["terms"][t]["ones"] for st in parts if st["n"]) for t in range(nt)]
        self.sum_r = [np.zeros(g) for g in self.n_groups]
        self.within = [0.0] * nt
        zmin = [np.full(q, np.inf) for q in qs]
        zmax = [np.full(q, -np.inf) for q in qs]
        for st, mp in zip(parts, maps, strict=True):
            if not st["n"] or "ztz" not in st:
                continue
            # local Z column -> global column
            gl = np.concatenate([
                self.offsets[t] + (mp[t][:, None] * qs[t] + np.arange(qs[t])[None, :]).ravel()
                for t in range(nt)]).astype(np.int64)
            r, c, v = st["ztz"]
            rows.append(gl[r])
            cols.append(gl[c])
            vals.append(v)
            self.ztx[gl] += st["ztx"]
            self.zty[gl] += st["zty"]
            for t in range(nt):
                info = st["terms"][t]
                zmin[t] = np.minimum(zmin[t], info["zmin"])
                zmax[t] = np.maximum(zmax[t], info["zmax"])
                if "sum_r" in info:
                    self.sum_r[t][mp[t]] += info["sum_r"]
                    self.within[t] += info["within"]
        self.ztz = sp.csr_matrix((np.concatenate(vals) if vals else np.zeros(0),
                                  (np.concatenate(rows) if rows else np.zeros(0, int),
                                   np.concatenate(cols) if cols else np.zeros(0, int))),
                                 shape=(qt, qt))
        self.ztz.sum_duplicates()
        self.constant_col = [bool(np.any((zmin[t] == zmax[t]) & (zmin[t] != 0)))
                             for t in range(nt)]
        self.terms = [EngineTerm(np.zeros(0, np.int64), g, np.zeros((0, q)), s, src)
                      for g, q, s, src in zip(self.n_groups, qs, structures, sources,
                                              strict=True)]

    def ols(self) -> np.ndarray:
        """The OLS fit from X'X and X'y."""
        return np.linalg.lstsq(self.xtx, self.xty, rcond=None)[0] if self.xtx.size else \
            np.zeros(0)

    def recentre(self, b0: np.ndarray) -> None:
        """y -> y - X b0 in the statistics (they were computed with y uncentred)."""
        xty = self.xty
        self.yty = float(self.yty - 2.0 * b0 @ xty + b0 @ self.xtx @ b0)
        self.xty = xty - self.xtx @ b0
        self.zty = self.zty - self.ztx @ b0

    # -------------------------------------------------------------- the models
    def _common(self, obj, beta0: np.ndarray) -> None:
        obj.beta0 = beta0
        obj.n_obs = self.n
        obj.n = float(self.n)
        obj.p = self.xtx.shape[0]
        obj.xtx, obj.xty, obj.yty = self.xtx, self.xty, self.yty

    def linear(self, beta0: np.ndarray) -> ProfiledLMM:
        """The model without random effects (``ProfiledLMM(y, X, [])``)."""
        obj = ProfiledLMM.__new__(ProfiledLMM)
        self._common(obj, beta0)
        obj.order, obj.terms, obj.has_re = [], [], False
        return obj

    def model(self, beta0: np.ndarray):
        """The likelihood object ``fit_lmm`` would build from the rows (same choice)."""
        terms = self.terms
        q_total = sum(t.n_groups * t.Z.shape[1] for t in terms)
        if len(terms) > 1 and q_total <= DENSE_MAX_Q:
            obj = DenseLMM.__new__(DenseLMM)
            self._common(obj, beta0)
            obj.terms = terms
            obj.q_total = q_total
            obj.offsets = [int(o) for o in self.offsets]
            obj.ztz = self.ztz.toarray()
            obj.ztx, obj.zty = self.ztx, self.zty
            return obj
        obj = ProfiledLMM.__new__(ProfiledLMM)
        self._common(obj, beta0)
        order = sorted(range(len(terms)), key=lambda i: -terms[i].n_groups * terms[i].Z.shape[1])
        obj.order, obj.terms, obj.has_re = order, terms, bool(terms)
        if not terms:
            return obj
        first = terms[order[0]]
        obj.first = first
        q1, g1 = first.Z.shape[1], first.n_groups
        i1 = np.arange(self.offsets[order[0]], self.offsets[order[0]] + g1 * q1)
        blk = self.ztz[i1][:, i1].tocoo()
        d1 = np.zeros((g1, q1, q1))
        d1[blk.row // q1, blk.row % q1, blk.col % q1] = blk.data
        obj.d1 = d1
        obj.z1x = self.ztx[i1].reshape(g1, q1, -1)
        obj.z1y = self.zty[i1].reshape(g1, q1)
        obj.rest_terms = [terms[i] for i in order[1:]]
        if obj.rest_terms:
            ir = np.concatenate([np.arange(self.offsets[i], self.offsets[i + 1])
                                 for i in order[1:]])
            sizes = [terms[i].n_groups * terms[i].Z.shape[1] for i in order[1:]]
            obj.rest_offsets = list(np.cumsum([0] + sizes))
            obj.rr = self.ztz[ir][:, ir].tocsr()
            obj.zrx = self.ztx[ir]
            obj.zry = self.zty[ir]
            obj.z1r = self.ztz[i1][:, ir].tocsr()
            obj.q_rest = ir.size
            obj.dense_rest = obj.q_rest <= DENSE_LIMIT
            obj.scalar = q1 == 1 and all(t.Z.shape[1] == 1 for t in obj.rest_terms)
            if obj.scalar:
                obj.z1r_rows = np.repeat(np.arange(obj.z1r.shape[0]), np.diff(obj.z1r.indptr))
                obj.rr_rows = np.repeat(np.arange(obj.rr.shape[0]), np.diff(obj.rr.indptr))
        return obj

    def moment_start(self) -> list[np.ndarray]:
        """:func:`memodels.lmm.start.moment_start` from the pooled statistics."""
        p = self.xtx.shape[0]
        s2 = max(self.yty / max(self.n - p, 1), 1e-300)  # y is centred on the OLS fit
        out = []
        for t, term in enumerate(self.terms):
            theta = term.structure.start_theta()
            if term.Z.shape[1] == 1 and self.ones[t] and term.n_groups > 1:
                n_g = self.sizes[t].astype(float)
                mean_g = self.sum_r[t] / n_g
                within = self.within[t] / max(self.n - term.n_groups, 1)
                between = float(np.var(mean_g)) - within * float(np.mean(1.0 / n_g))
                ratio = max(between, 0.01 * s2) / max(within, 1e-300)
                theta = term.structure.start_theta(float(np.sqrt(ratio)))
            out.append(theta)
        return out
