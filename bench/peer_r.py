"""Time R's lme4 (``lmer`` by ML, ``glmer``), glmmTMB or ordinal (``clmm``) on one case
through ``Rscript``.

The data are read from the case's CSV before timing; ``system.time`` wraps the fit
alone.  The best of the repeats is reported.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

R_SCRIPT = r"""
args <- commandArgs(trailingOnly = TRUE)
pkg <- args[1]; form <- as.formula(args[2]); path <- args[3]
factors <- strsplit(args[4], ",")[[1]]
repeats <- as.integer(args[5]); budget <- as.numeric(args[6]); min_time <- as.numeric(args[7])
family <- args[8]; nagq <- as.integer(args[9])
more <- function(t) {  # the repeat rule of ours.more_runs
  length(t) < 200 && sum(t) < budget && (length(t) < repeats || sum(t) < min_time)
}
suppressPackageStartupMessages(library(pkg, character.only = TRUE))
d <- read.csv(path)
for (f in factors) d[[f]] <- factor(d[[f]])  # grouping factors and i. covariates
fitter <- if (pkg == "ordinal") {  # cumulative logit; nAGQ 1 = Laplace, > 1 AGH at the mode
  function() clmm(form, data = d, link = "logit", nAGQ = nagq)
} else if (pkg == "glmmTMB") {
  fam <- if (family == "gaussian") gaussian() else binomial()
  function() glmmTMB(form, data = d, family = fam, REML = FALSE)
} else if (family == "gaussian") {
  function() lmer(form, data = d, REML = FALSE)
} else {
  function() glmer(form, data = d, family = binomial, nAGQ = nagq)
}
times <- c(); warns <- character()
while (more(times)) {
  tm <- withCallingHandlers(
    system.time(fit <- fitter())[["elapsed"]],
    warning = function(w) {
      warns <<- c(warns, conditionMessage(w)); invokeRestart("muffleWarning")
    })
  times <- c(times, tm)
}
if (pkg == "glmmTMB") {
  b <- fixef(fit)$cond
  if (fit$fit$convergence != 0) warns <- c(warns, paste("nlminb:", fit$fit$message))
  if (!isTRUE(fit$sdr$pdHess)) warns <- c(warns, "non-positive-definite Hessian")
} else if (pkg == "ordinal") {
  b <- coef(fit)  # thresholds 1|2, ... and the coefficients
  if (fit$optRes$convergence != 0) warns <- c(warns, paste("nlminb:", fit$optRes$message))
} else {
  b <- fixef(fit)
}
cat("times", times, sep = "\t"); cat("\n")
cat("llf", format(as.numeric(logLik(fit)), digits = 17), sep = "\t"); cat("\n")
for (i in seq_along(b)) cat("param", names(b)[i], format(b[[i]], digits = 17), "\n", sep = "\t")
for (w in unique(warns)) cat("warning", gsub("[\t\n]", " ", w), "\n", sep = "\t")
cat("version", as.character(packageVersion(pkg)), "\n", sep = "\t")
cat("r_version", R.version.string, "\n", sep = "\t")
blas <- tryCatch(sessionInfo()$BLAS, error = function(e) "?")
lapack <- tryCatch(La_library(), error = function(e) "?")
cat("blas", blas, lapack, "\n", sep = "\t")
"""

R_PEERS = ["lme4", "glmmTMB", "ordinal"]  # R package names


def method(peer: str, spec: dict) -> str:
    if spec.get("family", "gaussian") == "gaussian":
        return "ML"
    nagq = spec.get("nagq", {}).get(peer, 1)
    return "laplace" if nagq == 1 else f"agh{nagq}"


def run_r(
    peer: str,
    spec: dict,
    data: Path,
    repeats: int,
    budget: float,
    min_time: float,
    timeout: float,
) -> dict:
    """Fit ``spec[peer]`` (an lme4-style formula) with ``peer`` (lme4, glmmTMB, ordinal) on
    ``data``; return time (best), llf, params, warnings, versions."""
    script = data.parent / "peer_r_bench.R"
    script.write_text(R_SCRIPT)
    family = spec.get("family", "gaussian")
    cmd = [
        "Rscript",
        str(script),
        peer,
        spec[peer],
        str(data),
        ",".join(spec["factors"] + spec.get("categorical", [])),
        str(repeats),
        str(budget),
        str(min_time),
        family,
        str(spec.get("nagq", {}).get(peer, 1)),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip()[-800:] or f"Rscript exited {proc.returncode}")
    out: dict = {"params": {}, "warnings": [], "method": method(peer, spec)}
    for line in proc.stdout.splitlines():
        key, *rest = [f for f in line.rstrip("\t").split("\t")]
        rest = [r.strip() for r in rest if r.strip()]
        if key == "times":
            out["times"] = [float(t) for t in rest]
            out["time"] = min(out["times"])
        elif key == "llf":
            out["llf"] = float(rest[0])
        elif key == "param":
            out["params"][rest[0]] = float(rest[1])
        elif key == "warning":
            out["warnings"].append(rest[0] if rest else "")
        elif key in ("version", "r_version"):
            out[key] = rest[0]
        elif key == "blas":
            out["r_blas"] = rest
    return out


def run_lme4(
    spec: dict, data: Path, repeats: int, budget: float, min_time: float, timeout: float
) -> dict:
    """lme4 (``lmer`` by ML for a linear case, ``glmer`` for a binomial one)."""
    return run_r("lme4", spec, data, repeats, budget, min_time, timeout)
