"""``estat`` after ``mixed`` and the me commands ([ME] mixed postestimation,
[ME] meglm postestimation, [R] estat ic).

* ``group``: the group table (groups and observations per group, per level);
* ``icc``: intraclass correlations per nested level, rho(g) = sum_{l>=g} s2_l /
  sum_l s2_l with s2_1 the residual variance (mixed), pi^2/3 (logit) or 1 (probit);
  delta-method SE from the VCE of the estimation metric (ln sd); CI on the logit scale:
  invlogit(logit(rho) -+ z se / (rho (1 - rho)));
* ``sd``: variance components as standard deviations and correlations (as with the
  ``stddeviations`` option: se(sd) = sd se(ln sd), se(corr) = (1 - r^2) se(atanh r),
  CIs on the log and atanh scales);
* ``recovariance``: the estimated covariance (or correlation) matrix of each level;
* ``wcorrelation`` (mixed): V_j = Z_j G Z_j' + sigma_e^2 R_j for one top-level cluster
  (R_j = I, or the fitted ``residuals()`` structure),
  as standard deviations and correlations (or the covariance matrix);
* ``quadchk`` (me/meqr quadrature fits): refits at fewer and more integration points
  (:mod:`memodels.postestimation.quadchk`);
* ``ic``: N, ll(null) (missing: no constant-only model), ll(model), df, AIC, BIC, with
  df = every estimated parameter and BIC using N = number of observations.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.linalg import block_diag

from ..errors import OptionError
from .estat_wcorr import estat_wcorrelation
from .quadchk import quadchk
from .tables import TextDict as _TextDict
from .tables import fmt, make_table

LNSD = re.compile(r"^lnsd\((.+)\[(.+)\]\)$")
ATANH = re.compile(r"^atanh\((.+)\[(.+)\]\)$")


def estat(res, name: str, **options: Any):
    key = str(name).lower().strip()
    table = {
        "group": estat_group, "gr": estat_group,
        "icc": estat_icc,
        "sd": estat_sd,
        "recovariance": estat_recovariance, "recov": estat_recovariance,
        "wcorrelation": estat_wcorrelation, "wcor": estat_wcorrelation,
        "ic": estat_ic,
        "df": estat_df,
        "quadchk": quadchk,
    }
    func = table.get(key)
    if func is None:
        raise OptionError(f"estat {name}: subcommand not available (available: group, icc, sd, "
                          "recovariance, wcorrelation, ic, df, quadchk)")
    fit = getattr(res, "fit", None)
    if (func in (estat_group, estat_icc, estat_sd, estat_recovariance, estat_wcorrelation)
            and fit is not None and getattr(fit, "extra", {}).get("fixed_only")):
        raise OptionError(f"estat {key}: the model has no random effects")
    return func(res, **options)


# ----------------------------------------------------------------------- group
def estat_group(res, **options: Any):
    if options:
        raise OptionError(f"estat group: option(s) {', '.join(options)} not allowed")
    if not res.levels:
        raise OptionError("estat group: the model has no group structure")
    rows = [{"level": lv.level, "groups": lv.n_groups, "min": lv.min, "avg": lv.avg,
             "max": lv.max} for lv in res.levels]
    df = pd.DataFrame(rows).set_index("level")
    lines = ["-" * 65,
             "                |     No. of       Observations per Group",
             " Group Variable |     Groups    Minimum    Average    Maximum",
             "----------------+--------------------------------------------"]
    for lv in res.levels:
        lines.append(f" {lv.level:>14} | {lv.n_groups:>10,} {lv.min:>10,} {lv.avg:>10.1f} "
                     f"{lv.max:>10,}")
    lines.append("-" * 65)
    return make_table(df, "", "\n".join(lines))


# ------------------------------------------------------------------------- icc
def _variance_terms(res) -> tuple[list[tuple[str, str, int]], list[str]]:
    """(inner, path, position) of every lnsd element of e(b), and every name."""
    names = list(res.estmetric.index) if res.estmetric is not None else []
    out = []
    for k, nm in enumerate(names):
        m = LNSD.match(nm)
        if m:
            out.append((m.group(1), m.group(2), k))
    return out, names


def _residual_variance(res, names: list[str]) -> tuple[str, float, int | None]:
    """('var', value, position of ln sigma_e or None)."""
    if res.command == "mixed":
        if "lnsig_e" not in names:
            raise OptionError("estat icc: no residual variance found")
        return "gaussian", np.nan, names.index("lnsig_e")
    family = getattr(res, "family", "")
    link = getattr(res, "link", "")
    if res.command in ("meqrlogit",):
        family, link = "bernoulli", "logit"
    if res.command == "meqrpoisson" or family not in ("bernoulli", "binomial", "ordinal"):
        raise OptionError(f"estat icc not allowed after {res.command} with family {family}: "
                          "intraclass correlations are defined here for linear, logistic and "
                          "probit models")
    if link == "logit":
        return "logit", np.pi ** 2 / 3, None
    if link == "probit":
        return "probit", 1.0, None
    raise OptionError(f"estat icc not allowed with link {link}")


def estat_icc(res, level: float | None = None, **options: Any):
    if options:
        raise OptionError(f"estat icc: option(s) {', '.join(options)} not allowed")
    lev = float(res.level if level is None else level)
    vterms, names = _variance_terms(res)
    if res.options.get("residuals"):
        raise OptionError("estat icc not allowed with a residual-error structure")
    if any(path == "_all" or path.startswith("_all>") or inner.startswith("R.")
           for inner, path, _ in vterms):
        raise OptionError("estat icc not allowed with crossed-effects models")
    paths: list[str] = []
    pos: dict[str, int] = {}
    coef = False
    for inner, path, k in vterms:
        if inner == "_cons":
            if path in pos:
                raise OptionError("estat icc: more than one random intercept at a level")
            pos[path] = k
            paths.append(path)
        else:
            coef = True
    if not paths:
        raise OptionError("estat icc: the model has no random intercepts")
    for p in paths:
        if p == "_all" or p.startswith("_all"):
            raise OptionError("estat icc not allowed with crossed-effects models")
    for a, b in zip(paths, paths[1:], strict=False):
        if not b.startswith(a + ">"):
            raise OptionError("estat icc not allowed with crossed-effects models "
                              "(levels are not nested)")
    kind, resid, rpos = _residual_variance(res, names)
    b = res.estmetric.to_numpy(float)
    V = res.estmetric_vcov.to_numpy(float)
    s2 = np.array([np.exp(2 * b[pos[p]]) for p in paths])
    s2e = np.exp(2 * b[rpos]) if rpos is not None else resid
    total = s2.sum() + s2e
    crit = stats.norm.ppf(0.5 + lev / 200)
    recs, labels = [], []
    for g in range(len(paths)):
        num = s2[: g + 1].sum()  # this level and all levels above it
        rho = num / total
        grad = np.zeros(b.size)
        for l_ in range(len(paths)):
            d = (2 * s2[l_]) * ((1.0 if l_ <= g else 0.0) / total - num / total ** 2)
            grad[pos[paths[l_]]] = d
        if rpos is not None:
            grad[rpos] = -num / total ** 2 * 2 * s2e
        se = float(np.sqrt(max(grad @ V @ grad, 0.0)))
        lg = np.log(rho / (1 - rho))
        half = crit * se / (rho * (1 - rho))
        lo, hi = 1 / (1 + np.exp(-(lg - half))), 1 / (1 + np.exp(-(lg + half)))
        chain = paths[g].split(">")
        label = "|".join(reversed(chain))
        labels.append(label)
        recs.append({"icc": rho, "se": se, "lower": lo, "upper": hi})
    df = pd.DataFrame(recs, index=pd.Index(labels, name="level"))
    fixed_cov = any(r.section == "fixed" and r.status == "ok" and r.name != "_cons"
                    for r in res.rows)
    if coef:
        title = "Conditional intraclass correlation"
    elif fixed_cov:
        title = "Residual intraclass correlation"
    else:
        title = "Intraclass correlation"
    width = max(19, max(len(s) for s in labels) + 2)
    lines = [title, "", "-" * (width + 55),
             f"{'Level':>{width}} |        ICC   Std. Err.     [{lev:g}% Conf. Interval]",
             "-" * width + "-+" + "-" * 53]
    for lab, r in zip(labels, recs, strict=True):
        lines.append(f"{lab:>{width}} | {fmt(r['icc'])} {fmt(r['se'])}     {fmt(r['lower'])} "
                     f"{fmt(r['upper'])}")
    lines.append("-" * (width + 55))
    if coef:
        lines.append("Note: ICC is conditional on zero values of random-effects covariates.")
    # r(): level numbers as Stata's, G (the top level) down to 2
    big_g = len(paths) + 1
    r: dict[str, Any] = {"level": lev}
    for g, (lab, rec) in enumerate(zip(labels, recs, strict=True)):
        k = big_g - g
        r[f"icc{k}"] = float(rec["icc"])
        r[f"se{k}"] = float(rec["se"])
        r[f"label{k}"] = lab
        r[f"ci{k}"] = pd.DataFrame([[float(rec["lower"]), float(rec["upper"])]],
                                   columns=["ll", "ul"], index=[f"icc{k}"])
    out = make_table(df, title, "\n".join(lines), r)
    out.attrs["level"] = lev
    return out


# -------------------------------------------------------------------------- sd
def estat_sd(res, level: float | None = None, **options: Any):
    """Variance components as standard deviations and correlations."""
    if options:
        raise OptionError(f"estat sd: option(s) {', '.join(options)} not allowed")
    lev = float(res.level if level is None else level)
    crit = stats.norm.ppf(0.5 + lev / 200)
    if res.estmetric is None:
        raise OptionError("estat sd: no variance components")
    b = res.estmetric.to_numpy(float)
    se_all = np.sqrt(np.clip(np.diag(res.estmetric_vcov.to_numpy(float)), 0, None))
    recs, idx = [], []
    grads: list[tuple[int, float]] = []  # (position in e(b), d reported / d e(b))
    for k, nm in enumerate(res.estmetric.index):
        m1, m2 = LNSD.match(nm), ATANH.match(nm)
        if m1 or nm in ("lnsig_e",) or nm.startswith("/lnsig"):
            sd = float(np.exp(b[k]))
            se = sd * se_all[k]
            lo, hi = np.exp(b[k] - crit * se_all[k]), np.exp(b[k] + crit * se_all[k])
            label = f"sd({m1.group(1)}[{m1.group(2)}])" if m1 else "sd(Residual)"
            recs.append({"estimate": sd, "se": se, "lower": lo, "upper": hi})
            idx.append(label)
            grads.append((k, sd))
        elif m2:
            r = float(np.tanh(b[k]))
            se = (1 - r * r) * se_all[k]
            lo, hi = np.tanh(b[k] - crit * se_all[k]), np.tanh(b[k] + crit * se_all[k])
            recs.append({"estimate": r, "se": se, "lower": lo, "upper": hi})
            idx.append(f"corr({m2.group(1)}[{m2.group(2)}])")
            grads.append((k, 1 - r * r))
    df = pd.DataFrame(recs, index=pd.Index(idx, name="parameter"))
    stored = _sd_r(res, idx, recs, grads, lev, crit)
    lines = [f"{'Random-effects Parameters':<30}|   Estimate   Std. Err.     [{lev:g}% Conf. "
             "Interval]", "-" * 30 + "+" + "-" * 48]
    for lab, r in zip(idx, recs, strict=True):
        lines.append(f"{lab:<30}| {fmt(r['estimate'])} {fmt(r['se'])}   {fmt(r['lower'])} "
                     f"{fmt(r['upper'])}")
    return make_table(df, "Random-effects parameters (standard deviations and correlations)",
                      "\n".join(lines), stored)


def _sd_r(res, idx: list[str], recs: list[dict], grads: list[tuple[int, float]],
          lev: float, crit: float) -> dict[str, Any]:
    """r(b), r(V) (delta method from e(V) of the estimation metric) and r(table) (rows
    b se z pvalue ll ul df crit eform, as Stata's r(table)) of ``estat sd``."""
    V = res.estmetric_vcov.to_numpy(float)
    J = np.zeros((len(grads), V.shape[0]))
    for i, (k, d) in enumerate(grads):
        J[i, k] = d
    b = np.array([rec["estimate"] for rec in recs])
    se = np.array([rec["se"] for rec in recs])
    with np.errstate(divide="ignore", invalid="ignore"):
        z = b / se
    table = np.vstack([b, se, z, 2 * stats.norm.sf(np.abs(z)),
                       [rec["lower"] for rec in recs], [rec["upper"] for rec in recs],
                       np.full(b.size, np.nan), np.full(b.size, crit), np.zeros(b.size)])
    rows = ["b", "se", "z", "pvalue", "ll", "ul", "df", "crit", "eform"]
    return {"level": lev,
            "b": pd.DataFrame([b], columns=idx, index=["y1"]),
            "V": pd.DataFrame(J @ V @ J.T, index=idx, columns=idx),
            "table": pd.DataFrame(table, index=rows, columns=idx)}


# ---------------------------------------------------------------- recovariance
def _level_matrices(res) -> list[tuple[str, str, list[str], np.ndarray]]:
    """(level, path, effect names, Sigma) per level (repeated equations combined)."""
    design = getattr(res, "design", None)
    fit = getattr(res, "fit", None)
    if design is None or fit is None:
        raise NotImplementedError(f"estat recovariance is not implemented after {res.command}")
    if hasattr(fit, "sigmas"):
        sig = [(et.source, np.asarray(s)) for et, s in zip(fit.terms, fit.sigmas, strict=True)]
    else:
        sig, pos = [], 0
        phi = fit.phi
        for st, src in zip(fit.structures, fit.term_sources, strict=True):
            k = len(st.phi_names())
            sig.append((src, st.sigma_from_phi(phi[pos:pos + k])))
            pos += k
    out: dict[str, list] = {}
    order: list[str] = []
    for src, s in sig:
        t = design.terms[src]
        names = [t.names[0]] * s.shape[0] if t.rfactor is not None and s.shape[0] > 1 else list(
            t.names)
        if t.rfactor is not None:
            names = [f"R.{t.rfactor}"] if s.shape[0] == 1 else [
                f"{v}.{t.rfactor}" for v in t.rfactor_levels]
        if t.path not in out:
            out[t.path] = [t.level, [], []]
            order.append(t.path)
        out[t.path][1].extend(names)
        out[t.path][2].append(s)
    result = []
    for p in order:
        lev, names, mats = out[p]
        result.append((lev, p, names, block_diag(*mats)))
    return result


def estat_recovariance(res, relevel: str | None = None, correlation: bool = False,
                       format: str | None = None,  # noqa: A002 (matlist's option name)
                       **options: Any) -> dict[str, pd.DataFrame]:
    """{level: covariance (or correlation) matrix} in the order of the levels;
    ``format="%9.3f"`` is matlist's display format of the elements."""
    from ..syntax.options import check_wcorr_format

    fmt_text = None if format is None else check_wcorr_format(format)
    if options:
        raise OptionError(f"estat recovariance: option(s) {', '.join(options)} not allowed")
    mats = _level_matrices(res)
    if relevel is not None:
        mats = [m for m in mats if relevel in (m[0], m[1])]
        if not mats:
            raise OptionError(f"relevel({relevel}): level not found in the model")
    out: dict[str, pd.DataFrame] = {}
    texts = []
    big_g = len(_level_matrices(res)) + 1
    numbers = {p: big_g - g for g, (_, p, _, _) in enumerate(_level_matrices(res))}
    r: dict[str, Any] = {"relevels": big_g - 1}
    for lev, path, names, m in mats:
        r[f"Cov{numbers[path]}"] = pd.DataFrame(m, index=names, columns=names)
        if correlation:
            sd = np.sqrt(np.diag(m))
            with np.errstate(invalid="ignore", divide="ignore"):
                m = m / np.outer(sd, sd)
        df = pd.DataFrame(m, index=names, columns=names)
        if correlation:
            r[f"Corr{numbers[path]}"] = df.copy()
        key = lev if lev not in out else path
        what = "correlation" if correlation else "covariance"
        title = f"Random-effects {what} matrix for level {lev}"
        df.attrs["title"] = title
        out[key] = df
        texts.append(title + "\n\n" + _matrix_text(df, fmt_text=fmt_text))
    print_text = "\n\n".join(texts)
    return _TextDict(out, print_text, r)


def _matrix_text(df: pd.DataFrame, lower: bool = True, fmt_text: str | None = None) -> str:
    from ..syntax.formats import stata_format

    w = max(12, max(len(str(c)) for c in df.columns) + 2)
    head = " " * 13 + "|" + "".join(f"{str(c)[:w - 1]:>{w}}" for c in df.columns)
    lines = [head, "-" * 13 + "+" + "-" * (w * len(df.columns))]
    for i, r in enumerate(df.index):
        cells = [fmt(df.iloc[i, j], w) if fmt_text is None
                 else f"{stata_format(float(df.iloc[i, j]), fmt_text):>{w}}"
                 for j in range(len(df.columns)) if not lower or j <= i]
        lines.append(f"{str(r)[:12]:>12} |" + "".join(cells))
    return "\n".join(lines)


# -------------------------------------------------------------------------- ic
def estat_ic(res, n: int | None = None, **options: Any):
    if options:
        raise OptionError(f"estat ic: option(s) {', '.join(options)} not allowed")
    nobs = int(res.nobs if n is None else n)
    k = int(res.n_params)
    ll = float(res.llf)
    aic = -2 * ll + 2 * k
    bic = -2 * ll + np.log(nobs) * k
    df = pd.DataFrame([{"N": nobs, "ll_null": np.nan, "ll_model": ll, "df": k, "AIC": aic,
                        "BIC": bic}], index=pd.Index(["."], name="Model"))
    df = df.astype({"N": int, "df": int})
    lines = ["Akaike's information criterion and Bayesian information criterion", "",
             "-" * 77,
             "       Model |        Obs  ll(null)  ll(model)      df         AIC        BIC",
             "-------------+---------------------------------------------------------------",
             f"{'.':>12} | {nobs:>10,} {'.':>9} {fmt(ll, 10)} {k:>7} {fmt(aic, 11)} "
             f"{fmt(bic, 10)}",
             "-" * 77,
             "               Note: N=Obs used in calculating BIC; see [R] BIC note."]
    return make_table(df, "Akaike's information criterion and Bayesian information criterion",
                      "\n".join(lines))


# -------------------------------------------------------------------------- df
def estat_df(res, method: str | list[str] | None = None, post: bool = False,
             **options: Any) -> pd.DataFrame:
    """``estat df`` after ``mixed`` ([ME] mixed postestimation, example 5): the degrees of
    freedom of each fixed effect under the model's ``dfmethod()`` or under each of
    ``method=`` (``"kroger satterthwaite"``; residual, repeated, anova, satterthwaite,
    kroger); one column per method.  ``post=True`` (one method) replaces the model's DF
    method, as Stata posts it to e(): its table, ``test(..., small=True)`` and ``lincom``."""
    from ..lmm.ddf import compute_ddf
    from ..results.mixed import DDF_ALIASES, apply_ddf

    if options:
        raise OptionError(f"estat df: option(s) {', '.join(options)} not allowed")
    if getattr(res, "command", "") != "mixed":
        raise OptionError("estat df is allowed only after mixed")
    if method is None:
        posted = (res.extra or {}).get("ddf")
        if posted is None:
            raise OptionError("estat df: the model was fitted without dfmethod(); "
                              "specify method()")
        methods = [posted.method]
    else:
        items = method.split() if isinstance(method, str) else list(method)
        methods = []
        for m in items:
            key = DDF_ALIASES.get(str(m).lower())
            if key is None:
                raise OptionError(f"estat df: method({m}) invalid")
            methods.append(key)
    if post and len(methods) != 1:
        raise OptionError("estat df, post: specify one method")
    cols = {}
    for m in methods:
        ddf = compute_ddf(res.fit, res.design, m)
        cols[ddf.title] = ddf.df
    table = pd.DataFrame(cols, index=list(res.design.kept_names))
    table.index.name = res.depvar
    if post:
        apply_ddf(res, methods[0])
    return table
