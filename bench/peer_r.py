"""Time R's lme4 ``lmer`` (ML, REML = FALSE) on one case through ``Rscript``.

The data are read from the case's CSV before timing; ``system.time`` wraps the fit
alone.  The best of the repeats is reported.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

R_SCRIPT = r"""
args <- commandArgs(trailingOnly = TRUE)
form <- as.formula(args[1]); path <- args[2]
factors <- strsplit(args[3], ",")[[1]]
repeats <- as.integer(args[4]); budget <- as.numeric(args[5]); min_time <- as.numeric(args[6])
more <- function(t) {  # the repeat rule of ours.more_runs
  length(t) < 200 && sum(t) < budget && (length(t) < repeats || sum(t) < min_time)
}
suppressPackageStartupMessages(library(lme4))
d <- read.csv(path)
for (f in factors) d[[f]] <- factor(d[[f]])
times <- c(); warns <- character()
while (more(times)) {
  tm <- withCallingHandlers(
    system.time(fit <- lmer(form, data = d, REML = FALSE))[["elapsed"]],
    warning = function(w) {
      warns <<- c(warns, conditionMessage(w)); invokeRestart("muffleWarning")
    })
  times <- c(times, tm)
}
cat("times", times, sep = "\t"); cat("\n")
cat("llf", format(as.numeric(logLik(fit)), digits = 17), sep = "\t"); cat("\n")
b <- fixef(fit)
for (i in seq_along(b)) cat("param", names(b)[i], format(b[[i]], digits = 17), "\n", sep = "\t")
for (w in unique(warns)) cat("warning", gsub("[\t\n]", " ", w), "\n", sep = "\t")
cat("version", as.character(packageVersion("lme4")), "\n", sep = "\t")
cat("r_version", R.version.string, "\n", sep = "\t")
blas <- tryCatch(sessionInfo()$BLAS, error = function(e) "?")
lapack <- tryCatch(La_library(), error = function(e) "?")
cat("blas", blas, lapack, "\n", sep = "\t")
"""


def run_lme4(
    spec: dict, data: Path, repeats: int, budget: float, min_time: float, timeout: float
) -> dict:
    """Fit ``spec['lme4']`` on ``data``; return time (best), llf, params, versions."""
    script = data.parent / "lme4_bench.R"
    script.write_text(R_SCRIPT)
    cmd = [
        "Rscript",
        str(script),
        spec["lme4"],
        str(data),
        ",".join(spec["factors"]),
        str(repeats),
        str(budget),
        str(min_time),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip()[-800:] or f"Rscript exited {proc.returncode}")
    out: dict = {"params": {}, "warnings": []}
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
