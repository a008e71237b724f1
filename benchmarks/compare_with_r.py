"""Compare the command line ``python -m analytics estimate`` with R ``survey`` on a simulated design.

Usage: ``python benchmarks/compare_with_r.py [--seed 1] [--keep DIR]``

Simulates agencies as strata, counter-days as PSUs, lognormal weights, item non-response and a domain
("field" = "cert") where every answer to q1 is satisfied (p̂ = 1, where R returns NaN for most
intervals); writes the CSV and the groups file a user would write; runs the command line with
``--r-compatible`` once per CI method, exactly as a user would (a subprocess, public options only); runs
the equivalent idiomatic R in the same run: ``svyciprop(~s, subset(des, domain & answered), method=)``
for item shares, ``svyratio(~y, ~d)`` on that subset for mean scores, ``svycontrast`` of
``svyratio(covmat = TRUE)`` on ``subset(des, domain)`` for the composites (definition A, xlogit interval
with the domain df); and prints the largest absolute difference per quantity (target ≤ 1e-9; R fits
``logit`` by IRLS, compared at 1e-8, and interpolates the ``likelihood`` profile, compared at 1e-4).
``--keep DIR`` keeps the data, the groups, the R script and both outputs in DIR. Without ``Rscript``
(or without R's survey package) it says so and exits 0.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
ITEMS = ["q1", "q2", "q3", "q4"]
FIELDS = ["land", "civil", "cert"]
GROUPS = {"access": ["q1"], "service": ["q2", "q3", "q4"]}  # overall index: q1 1/2, the others 1/6 each
METHODS = ["beta", "xlogit", "logit", "asin", "mean", "likelihood"]
TOLERANCE = 1e-9
#: R fits the logit interval by IRLS (svyglm) and interpolates the likelihood profile on a grid.
LOOSER = {"logit": 1e-8, "likelihood": 1e-4}

R_SCRIPT = r"""
suppressPackageStartupMessages(library(survey))
args <- commandArgs(trailingOnly = TRUE)   # data.csv out.csv items groups methods
d <- read.csv(args[1], stringsAsFactors = FALSE)   # blank cells are NA
items <- strsplit(args[3], ",")[[1]]
groups <- lapply(strsplit(strsplit(args[4], ";")[[1]], "="), function(g) strsplit(g[2], ",")[[1]])
names(groups) <- sapply(strsplit(strsplit(args[4], ";")[[1]], "="), `[`, 1)
methods <- strsplit(args[5], ",")[[1]]

for (k in items) {
  answered <- !is.na(d[[k]])
  d[[paste0("d_", k)]] <- as.numeric(answered)
  d[[paste0("s_", k)]] <- as.numeric(answered & d[[k]] >= 4)
  d[[paste0("y_", k)]] <- ifelse(answered, d[[k]], 0)
}
des <- svydesign(ids = ~psu, strata = ~stratum, weights = ~w, data = d, nest = TRUE)

# composites (definition A): each group's mean of its items, the overall index the mean of the groups
coefficients <- lapply(groups, function(g) setNames(rep(1 / length(g), length(g)), g))
overall <- setNames(rep(0, length(items)), items)
for (g in coefficients) overall[names(g)] <- overall[names(g)] + g / length(coefficients)
coefficients$overall <- overall[overall > 0]

xlogit_ci <- function(p, se, df) plogis(qlogis(p) + c(-1, 1) * qt(0.975, df) * se / (p * (1 - p)))

out <- character(0)
emit <- function(q, dom, target, v) out <<- c(out, sprintf("%s,%s,%s,%.17g", q, dom, target, v))
emit("design_df", "ALL", "design", degf(des))
for (dom in c("ALL", sort(unique(d$field)))) {
  in_domain <- if (dom == "ALL") rep(TRUE, nrow(d)) else d$field == dom
  dd <- subset(des, in_domain)
  for (k in items) {
    ans <- subset(des, in_domain & !is.na(d[[k]]))
    f <- as.formula(paste0("~s_", k))
    p <- svyciprop(f, ans, method = "mean")
    emit("share", dom, k, coef(p)); emit("share_se", dom, k, SE(p))
    emit("share_df", dom, k, degf(ans)); emit("share_n", dom, k, nrow(ans))
    emit("share_deff", dom, k, deff(svymean(f, ans, deff = TRUE)))
    for (m in methods) {
      # R's likelihood profile fails at a 0 % or 100 % share: NaN, as --r-compatible gives
      lim <- tryCatch(attr(suppressWarnings(svyciprop(f, ans, method = m)), "ci"),
                      error = function(e) c(NaN, NaN))
      emit(paste0("ci_", m, "_lo"), dom, k, lim[1]); emit(paste0("ci_", m, "_hi"), dom, k, lim[2])
    }
    r <- svyratio(as.formula(paste0("~y_", k)), as.formula(paste0("~d_", k)), ans)
    ci <- confint(r, df = degf(ans))
    emit("mean", dom, k, coef(r)); emit("mean_se", dom, k, SE(r)); emit("mean_df", dom, k, degf(ans))
    emit("mean_lo", dom, k, ci[1]); emit("mean_hi", dom, k, ci[2])
  }
  for (name in names(coefficients)) {
    a <- coefficients[[name]]
    den <- paste0("d_", names(a))
    for (kind in c("share", "mean")) {
      num <- paste0(if (kind == "share") "s_" else "y_", names(a))
      r <- svyratio(make.formula(num), make.formula(den), dd, covmat = TRUE)
      cc <- svycontrast(r, setNames(a, paste0(num, "/", den)))
      df <- degf(dd)
      est <- as.numeric(coef(cc)); se <- as.numeric(SE(cc))
      ci <- if (kind == "share") xlogit_ci(est, se, df) else confint(cc, df = df)
      q <- paste0("composite_", kind)
      emit(q, dom, name, est); emit(paste0(q, "_se"), dom, name, se)
      emit(paste0(q, "_df"), dom, name, df); emit(paste0(q, "_n"), dom, name, nrow(dd))
      emit(paste0(q, "_lo"), dom, name, ci[1]); emit(paste0(q, "_hi"), dom, name, ci[2])
    }
  }
}
writeLines(out, args[2])
"""

Key = tuple[str, str, str]  # quantity, domain ("ALL" = whole sample), target


def simulate(seed: int) -> list[dict[str, str]]:
    """Agencies as strata, counter-days as PSUs with a PSU random effect, lognormal weights, non-response."""
    rng = np.random.default_rng(seed)
    rows: list[dict[str, str]] = []
    for h in range(8):
        base = rng.normal(1.8, 0.5)
        for j in range(int(rng.integers(3, 9))):
            effect = rng.normal(0, 0.5)
            for _ in range(int(rng.integers(8, 30))):
                field = str(rng.choice(FIELDS, p=[0.5, 0.35, 0.15]))
                row = {"stratum": f"agency{h}", "psu": f"day{j}", "w": f"{rng.lognormal(3, 0.4):.6f}", "field": field}
                for k, item in enumerate(ITEMS):
                    if rng.random() < 0.08 * (k + 1) / 2:
                        row[item] = ""
                        continue
                    if field == "cert" and item == "q1":
                        row[item] = str(int(rng.choice([4, 5])))  # the 100 % domain
                        continue
                    p_sat = 1 / (1 + math.exp(-(base + effect - 0.2 * k)))
                    row[item] = str(int(rng.choice([4, 5]) if rng.random() < p_sat else rng.choice([1, 2, 3])))
                rows.append(row)
    return rows


def write_inputs(rows: list[dict[str, str]], workdir: Path) -> tuple[Path, Path]:
    data = workdir / "data.csv"
    with data.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["stratum", "psu", "w", "field", *ITEMS])
        writer.writeheader()
        writer.writerows(rows)
    groups = workdir / "groups.json"
    groups.write_text(json.dumps(GROUPS, indent=2) + "\n")
    return data, groups


def run_cli(data: Path, groups: Path, method: str) -> dict[str, Any]:
    """``python -m analytics estimate`` as a user runs it; its JSON output."""
    command = [
        sys.executable, "-m", "analytics", "estimate", str(data),
        "--items", ",".join(ITEMS), "--weight", "w", "--strata", "stratum", "--psu", "psu",
        "--by", "field", "--groups", str(groups), "--ci", method, "--r-compatible",
    ]  # fmt: skip
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"the command line failed ({proc.returncode}): {proc.stderr.strip()}")
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def _num(x: Any) -> float:
    return math.nan if x is None else float(x)


def ours(data: Path, groups: Path, workdir: Path | None) -> dict[Key, float]:
    """Every quantity R computes, from one command-line run per CI method."""
    out: dict[Key, float] = {}
    t0 = time.perf_counter()
    for method in METHODS:
        result = run_cli(data, groups, method)
        if workdir is not None:
            (workdir / f"cli_{method}.json").write_text(json.dumps(result, indent=2) + "\n")
        for e in result["estimates"]:
            dom = str(e["domain"]["field"]) if e["domain"] else "ALL"
            target = e["target"]
            lo, hi = _num(e["ci"][0]), _num(e["ci"][1])
            if e["definition"] == "item" and e["kind"] == "share":
                out[(f"ci_{method}_lo", dom, target)], out[(f"ci_{method}_hi", dom, target)] = lo, hi
            if method != "beta":
                continue  # everything but the item-share interval is the same in every run
            out[("design_df", "ALL", "design")] = float(result["design"]["df"])
            if e["definition"] == "item":
                q = "share" if e["kind"] == "share" else "mean"
                out[(q, dom, target)], out[(f"{q}_se", dom, target)] = _num(e["estimate"]), _num(e["se"])
                out[(f"{q}_df", dom, target)] = float(e["df"])
                if q == "share":
                    out[("share_n", dom, target)] = float(e["n"])
                    out[("share_deff", dom, target)] = _num(e["deff"])
                else:
                    out[("mean_lo", dom, target)], out[("mean_hi", dom, target)] = lo, hi
            else:
                q = f"composite_{e['kind']}"
                out[(q, dom, target)], out[(f"{q}_se", dom, target)] = _num(e["estimate"]), _num(e["se"])
                out[(f"{q}_df", dom, target)], out[(f"{q}_n", dom, target)] = float(e["df"]), float(e["n"])
                out[(f"{q}_lo", dom, target)], out[(f"{q}_hi", dom, target)] = lo, hi
    elapsed = time.perf_counter() - t0
    print(f"command line: {len(METHODS)} runs (one per CI method) in {elapsed:.1f} s")
    return out


def r_available() -> str | None:
    """None if Rscript with the survey package is there, else why not."""
    if shutil.which("Rscript") is None:
        return "Rscript not found"
    probe = subprocess.run(["Rscript", "-e", "library(survey)"], capture_output=True, text=True)
    if probe.returncode != 0:
        return "R's survey package is not installed"
    return None


def run_r(data: Path, workdir: Path) -> dict[Key, float]:
    script = workdir / "oracle.R"
    script.write_text(R_SCRIPT)
    result = workdir / "r_out.csv"
    groups = ";".join(f"{name}={','.join(items)}" for name, items in GROUPS.items())
    t0 = time.perf_counter()
    subprocess.run(
        ["Rscript", str(script), str(data), str(result), ",".join(ITEMS), groups, ",".join(METHODS)], check=True
    )
    print(f"R survey: {time.perf_counter() - t0:.1f} s")
    out: dict[Key, float] = {}
    for line in result.read_text().splitlines():
        q, dom, target, value = line.split(",")
        out[(q, dom, target)] = float(value) if value not in ("NA", "NaN") else math.nan
    return out


def tolerance(quantity: str) -> float:
    return next((t for method, t in LOOSER.items() if quantity.startswith(f"ci_{method}_")), TOLERANCE)


def compare(mine: dict[Key, float], theirs: dict[Key, float]) -> int:
    quantities = sorted({k[0] for k in theirs})
    worst = 0.0
    failed = []
    print(f"{'quantity':<22} {'compared':>8} {'max |ours - R|':>16} {'NaN agree':>10}")
    for q in quantities:
        keys = [k for k in theirs if k[0] == q]
        diffs, nan_ok = [], True
        for k in keys:
            a, b = mine.get(k, math.nan), theirs[k]
            if math.isnan(a) or math.isnan(b):
                nan_ok &= math.isnan(a) and math.isnan(b)
                continue
            diffs.append(abs(a - b))
        m = max(diffs, default=0.0)
        if tolerance(q) == TOLERANCE:
            worst = max(worst, m)
        if not m <= tolerance(q) or not nan_ok:
            failed.append(q)
        print(f"{q:<22} {len(keys):>8} {m:>16.3e} {'yes' if nan_ok else 'NO':>10}  (target {tolerance(q):.0e})")
    verdict = "OK" if worst <= TOLERANCE else f"ABOVE {TOLERANCE:.0e}"
    print(f"largest absolute difference, quantities with target {TOLERANCE:.0e}: {worst:.3e} ({verdict})")
    if failed:
        print(f"outside the target or NaN disagreement: {', '.join(failed)}")
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", help="directory to keep the data, the groups, the R script and both outputs in")
    args = parser.parse_args()
    missing = r_available()
    if missing:
        print(f"{missing}: the comparison with R is skipped (apt-get install r-cran-survey).")
        return 0
    rows = simulate(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(args.keep).resolve() if args.keep else Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        data, groups = write_inputs(rows, workdir)
        n_psu = len({(r["stratum"], r["psu"]) for r in rows})
        print(f"simulated design: {len(rows)} responses, 8 strata, {n_psu} PSUs, domains {', '.join(FIELDS)}")
        mine = ours(data, groups, workdir if args.keep else None)
        theirs = run_r(data, workdir)
    return compare(mine, theirs)


if __name__ == "__main__":
    sys.exit(main())
