"""Compare the analytics engine with R ``survey`` on a realistic simulated design (STATISTICS.md §15).

Usage: ``python benchmarks/compare_with_r.py [--seed 1] [--keep DIR]``

Generates agencies as strata, counter-days as PSUs, lognormal weights, item non-response and a domain
("field" = "cert") where every answer to q1 is satisfied (p̂ = 1, where R returns NaN), runs our engine
in R-compatible mode and the equivalent R calls, and prints the largest absolute difference per
quantity (target ≤ 1e-9). Without ``Rscript`` it says so, prints our own figures and exits 0.
"""

from __future__ import annotations

import argparse
import csv
import math
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analytics import CompositeSpec, estimate_from_rows  # noqa: E402

ITEMS = ["q1", "q2", "q3", "q4"]
FIELDS = ["land", "civil", "cert"]

R_SCRIPT = r"""
suppressPackageStartupMessages(library(survey))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], stringsAsFactors = FALSE)
items <- c("q1", "q2", "q3", "q4")
for (k in items) {
  d[[paste0("d_", k)]] <- as.numeric(!is.na(d[[k]]))
  d[[paste0("s_", k)]] <- ifelse(is.na(d[[k]]), 0, as.numeric(d[[k]] >= 4))
  d[[paste0("y_", k)]] <- ifelse(is.na(d[[k]]), 0, d[[k]])
}
des <- svydesign(ids = ~psu, strata = ~stratum, weights = ~w, data = d, nest = TRUE)
out <- character(0)
emit <- function(q, dom, target, v) out <<- c(out, sprintf("%s,%s,%s,%.17g", q, dom, target, v))
domains <- c("ALL", sort(unique(d$field)))
for (dom in domains) {
  dd <- if (dom == "ALL") des else subset(des, field == dom)
  for (k in items) {
    r <- svyratio(as.formula(paste0("~s_", k)), as.formula(paste0("~d_", k)), dd)
    emit("share", dom, k, coef(r)); emit("share_se", dom, k, sqrt(vcov(r)))
    emit("df", dom, k, degf(dd))
    m <- svyratio(as.formula(paste0("~y_", k)), as.formula(paste0("~d_", k)), dd)
    ci <- confint(m, df = degf(dd))
    emit("mean", dom, k, coef(m)); emit("mean_se", dom, k, sqrt(vcov(m)))
    emit("score_lo", dom, k, ci[1]); emit("score_hi", dom, k, ci[2])
    ans <- subset(dd, d[[paste0("d_", k)]][match(rownames(dd$variables), rownames(d))] == 1)
    f <- as.formula(paste0("~s_", k))
    emit("df_answered", dom, k, degf(ans))
    for (meth in c("beta", "xlogit", "asin", "mean", "likelihood")) {
      # R's likelihood profile fails at a 100 % share: NaN, as our r_compatible switch gives
      lim <- tryCatch(attr(suppressWarnings(svyciprop(f, ans, method = meth)), "ci"), error = function(e) c(NaN, NaN))
      emit(paste0("ciprop_", meth, "_lo"), dom, k, lim[1])
      emit(paste0("ciprop_", meth, "_hi"), dom, k, lim[2])
    }
    dm <- svymean(f, ans, deff = TRUE)
    emit("deff", dom, k, deff(dm))
  }
  r <- svyratio(~s_q1 + s_q2 + s_q3 + s_q4, ~d_q1 + d_q2 + d_q3 + d_q4, dd, covmat = TRUE)
  cc <- svycontrast(r, c("s_q1/d_q1" = 0.25, "s_q2/d_q2" = 0.25, "s_q3/d_q3" = 0.25, "s_q4/d_q4" = 0.25))
  emit("share", dom, "overall", coef(cc)); emit("share_se", dom, "overall", SE(cc))
}
writeLines(out, args[2])
"""


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


def ours(rows: list[dict[str, str]]) -> dict[tuple[str, str, str], float]:
    w = np.array([float(r["w"]) for r in rows])
    scores = np.array([[float(r[k]) if r[k] else np.nan for k in ITEMS] for r in rows])
    strata = np.array([r["stratum"] for r in rows], dtype=object)
    psu = np.array([r["psu"] for r in rows], dtype=object)
    field = np.array([r["field"] for r in rows], dtype=object)
    overall = [CompositeSpec("overall", dict.fromkeys(ITEMS, 0.25))]
    out: dict[tuple[str, str, str], float] = {}
    t0 = time.perf_counter()
    # svyciprop is run on subset(des, domain & answered): its df counts PSUs with answers (df_basis)
    sets = {
        meth: estimate_from_rows(
            w,
            scores,
            ITEMS,
            strata=strata,
            psu=psu,
            by=field,
            composites=overall,
            ci=meth,
            r_compatible=True,
            df_basis="answered",
        )
        for meth in ("beta", "xlogit", "asin", "mean", "likelihood")
    }
    by_domain = estimate_from_rows(w, scores, ITEMS, strata=strata, psu=psu, by=field, composites=overall)
    elapsed = time.perf_counter() - t0
    for meth, res in sets.items():
        for e in res.estimates:
            dom = "ALL" if e.domain is None else str(e.domain)
            if e.kind == "share" and e.definition == "item":
                out[(f"ciprop_{meth}_lo", dom, e.target)], out[(f"ciprop_{meth}_hi", dom, e.target)] = e.ci
                if meth == "beta":
                    out[("df_answered", dom, e.target)] = float(e.df)
    for e in by_domain.estimates:
        dom = "ALL" if e.domain is None else str(e.domain)
        if e.kind == "share":
            out[("share", dom, e.target)] = e.estimate
            out[("share_se", dom, e.target)] = e.se
            if e.definition == "item":
                out[("df", dom, e.target)] = float(e.df)
                out[("deff", dom, e.target)] = math.nan if e.deff is None else e.deff
        elif e.definition == "item":
            out[("mean", dom, e.target)] = e.estimate
            out[("mean_se", dom, e.target)] = e.se
            out[("score_lo", dom, e.target)], out[("score_hi", dom, e.target)] = e.ci
    print(f"our engine: {len(rows)} rows, 5 CI methods x {len(sets['beta'])} estimates in {elapsed * 1000:.0f} ms")
    return out


def run_r(rows: list[dict[str, str]], workdir: Path) -> dict[tuple[str, str, str], float]:
    data = workdir / "data.csv"
    with data.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["stratum", "psu", "w", "field", *ITEMS])
        writer.writeheader()
        writer.writerows(rows)
    script = workdir / "oracle.R"
    script.write_text(R_SCRIPT)
    result = workdir / "r_out.csv"
    subprocess.run(["Rscript", str(script), str(data), str(result)], check=True)
    out: dict[tuple[str, str, str], float] = {}
    for line in result.read_text().splitlines():
        q, dom, target, value = line.split(",")
        out[(q, dom, target)] = float(value) if value not in ("NA", "NaN") else math.nan
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", help="directory to keep the data and the R script in")
    args = parser.parse_args()
    rows = simulate(args.seed)
    mine = ours(rows)
    if shutil.which("Rscript") is None:
        print("Rscript not found: R comparison skipped (apt-get install r-cran-survey). Our figures:")
        for key in sorted(mine):
            print(",".join(key), f"{mine[key]:.12g}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(args.keep) if args.keep else Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        theirs = run_r(rows, workdir)
    quantities = sorted({k[0] for k in theirs})
    # R interpolates the likelihood profile on a grid (STATISTICS.md §7): compared at 1e-4, reported apart
    tolerance = {q: (1e-4 if "likelihood" in q else 1e-9) for q in quantities}
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
        if tolerance[q] == 1e-9:
            worst = max(worst, m)
        if m > tolerance[q] or not nan_ok:
            failed.append(q)
        print(f"{q:<22} {len(keys):>8} {m:>16.3e} {'yes' if nan_ok else 'NO':>10}  (tolerance {tolerance[q]:.0e})")
    print(f"largest absolute difference, exact quantities: {worst:.3e} ({'OK' if worst <= 1e-9 else 'ABOVE 1e-9'})")
    if failed:
        print(f"outside tolerance or NaN disagreement: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
