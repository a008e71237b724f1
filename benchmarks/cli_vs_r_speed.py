"""The analytics command line against the idiomatic R, interleaved in one run, on the same CSV.

    python benchmarks/cli_vs_r_speed.py [--rows 1000000] [--agencies 22,120] [--rounds 3]
                                        [--slow-reference] [--keep DIR] [--data-dir DIR]

For each ``--agencies`` count, writes a ``--rows`` CSV (:func:`analytics_scale.write_csv`: agencies as
strata and domains, counter-days as PSUs, lognormal weights, 22 items with non-response) and the groups
file, then runs, alternating which goes first, ``--rounds`` times each:

* ours, exactly as a user calls it: ``python -m analytics estimate rows.csv --items q01,...,q22 --weight w
  --strata agency --psu psu --groups groups.json --by agency`` (every item share and mean score, the five
  elements and the overall index, for the whole sample and each agency, with intervals and flags);
* the idiomatic R a statistician would write (``benchmarks/r_reference_by_agency.R``): ``data.table::fread``
  and one ``svyby(svytotal)`` over the 22 linearised variables: the item shares by agency and their SEs.

Checks that both give the same per-agency item shares and SEs (to 1e-9), and prints wall time, CPU time
(user + system, threads included) and peak RSS of each process (``wait4``), the median of the rounds, and
the ratios R / ours and ours at the largest / smallest agency count. ``--slow-reference`` also times, once
per size, the formulation first compared with (``read.csv`` and 22 separate ``svyby(svyratio)``), labelled
as the second reference. The machine's load average is printed before and after: on a shared machine
compare only the figures of one run.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from analytics_scale import GROUPS, ITEMS, write_csv  # noqa: E402

R_SCRIPT = HERE / "r_reference_by_agency.R"
TOLERANCE = 1e-9


@dataclass(frozen=True)
class Run:
    wall: float
    cpu: float
    peak_mb: float


def measure(command: list[str], stdout: Any) -> Run:
    """Wall time, user + system CPU time and peak RSS of one process, as the kernel accounts them."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(command, cwd=ROOT, stdout=stdout, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{command[0]} failed ({proc.returncode}): {stderr.strip()[-2000:]}")
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def ours_command(data: Path, groups: Path) -> list[str]:
    return [
        sys.executable, "-m", "analytics", "estimate", str(data), "--items", ",".join(ITEMS), "--weight", "w",
        "--strata", "agency", "--psu", "psu", "--groups", str(groups), "--by", "agency",
    ]  # fmt: skip


def r_command(data: Path, out: Path, *, slow: bool = False) -> list[str]:
    return ["Rscript", str(R_SCRIPT), str(data), str(out), *(["--slow"] if slow else [])]


def ours_shares(path: Path) -> dict[tuple[str, str], tuple[float, float]]:
    """Per-agency item shares and SEs from the command line's JSON."""
    result = json.loads(path.read_text())
    return {
        (e["domain"]["agency"], e["target"]): (float(e["estimate"]), float(e["se"]))
        for e in result["estimates"]
        if e["domain"] and e["definition"] == "item" and e["kind"] == "share"
    }


def r_shares(path: Path) -> dict[tuple[str, str], tuple[float, float]]:
    with path.open(newline="") as fh:
        return {(r["agency"], r["item"]): (float(r["estimate"]), float(r["se"])) for r in csv.DictReader(fh)}


def agreement(
    mine: dict[tuple[str, str], tuple[float, float]], theirs: dict[tuple[str, str], tuple[float, float]]
) -> str:
    if set(mine) != set(theirs):
        raise SystemExit(f"different estimates: ours {len(mine)}, R {len(theirs)}")
    est = max(abs(mine[k][0] - theirs[k][0]) for k in theirs)
    se = max(abs(mine[k][1] - theirs[k][1]) for k in theirs)
    verdict = "agree" if max(est, se) <= TOLERANCE else f"DISAGREE (target {TOLERANCE:.0e})"
    if max(est, se) > TOLERANCE:
        print(f"  !! {verdict}")
    return f"{len(theirs)} agency × item shares, max |ours - R|: estimate {est:.1e}, SE {se:.1e} ({verdict})"


def summary(runs: list[Run]) -> Run:
    return Run(
        statistics.median(r.wall for r in runs),
        statistics.median(r.cpu for r in runs),
        max(r.peak_mb for r in runs),
    )


def show(label: str, runs: list[Run]) -> None:
    m = summary(runs)
    walls = ", ".join(f"{r.wall:.2f}" for r in runs)
    print(f"  {label:<34} wall {m.wall:7.2f} s (runs {walls}), CPU {m.cpu:7.2f} s, peak RSS {m.peak_mb:6.0f} MB")


def bench_size(rows: int, agencies: int, rounds: int, slow: bool, workdir: Path, data_dir: Path | None) -> Run:
    data = (data_dir or workdir) / f"rows_{rows}_{agencies}.csv"
    groups = workdir / "groups.json"
    groups.write_text(json.dumps(GROUPS))
    t0 = time.perf_counter()
    reused = data_dir is not None and data.is_file()
    if not reused:
        write_csv(data, rows, agencies=agencies)
    made = "reused" if reused else f"written in {time.perf_counter() - t0:.0f} s"
    print(f"\n{rows:,} rows × 22 items, {agencies} agencies ({data.stat().st_size / 1e6:.0f} MB CSV, {made})")
    ours_out, r_out = workdir / "ours.json", workdir / "r.csv"
    mine: list[Run] = []
    theirs: list[Run] = []
    for k in range(rounds):
        order = ("ours", "r") if k % 2 == 0 else ("r", "ours")
        for who in order:
            if who == "ours":
                with ours_out.open("wb") as fh:
                    mine.append(measure(ours_command(data, groups), fh))
            else:
                theirs.append(measure(r_command(data, r_out), subprocess.DEVNULL))
        if k == 0:
            print(f"  {agreement(ours_shares(ours_out), r_shares(r_out))}")
    show("ours: python -m analytics estimate", mine)
    show("R: fread + one svyby(svytotal)", theirs)
    a, b = summary(mine), summary(theirs)
    print(f"  ratio R / ours: wall {b.wall / a.wall:.1f}×, CPU {b.cpu / a.cpu:.1f}× (medians of {rounds} rounds)")
    if slow:
        slow_out = workdir / "r_slow.csv"
        run = measure(r_command(data, slow_out, slow=True), subprocess.DEVNULL)
        print(f"  second reference, once: {agreement(ours_shares(ours_out), r_shares(slow_out))}")
        show("R (slow): read.csv + 22 × svyratio", [run])
        print(f"  ratio slow R / ours: wall {run.wall / a.wall:.1f}×, CPU {run.cpu / a.cpu:.1f}×")
    if data_dir is None:
        data.unlink()
    return a


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--agencies", default="22,120", help="comma-separated agency counts (default 22,120)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--slow-reference", action="store_true", help="also time 22 × svyby(svyratio), once")
    parser.add_argument("--keep", help="directory to keep the outputs in")
    parser.add_argument("--data-dir", help="directory to keep the CSVs in and reuse them from (seed 11)")
    args = parser.parse_args()
    if shutil.which("Rscript") is None:
        print("Rscript not found (Debian: apt-get install r-cran-survey r-cran-data.table); nothing to compare")
        return 0
    probe = subprocess.run(["Rscript", "-e", "library(survey); library(data.table)"], capture_output=True)
    if probe.returncode != 0:
        print("R's survey or data.table package is not installed; nothing to compare")
        return 0
    sizes = [int(a) for a in args.agencies.split(",")]
    print(f"{os.cpu_count()} CPUs, load average {', '.join(f'{x:.2f}' for x in os.getloadavg())} before")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(args.keep).resolve() if args.keep else Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        data_dir = Path(args.data_dir).resolve() if args.data_dir else None
        if data_dir is not None:
            data_dir.mkdir(parents=True, exist_ok=True)
        ours = {n: bench_size(args.rows, n, args.rounds, args.slow_reference, workdir, data_dir) for n in sizes}
    if len(sizes) > 1:
        small, large = min(sizes), max(sizes)
        print(
            f"\nours, {large} / {small} agencies: wall {ours[large].wall / ours[small].wall:.2f}×, "
            f"CPU {ours[large].cpu / ours[small].cpu:.2f}×"
        )
    print(f"load average {', '.join(f'{x:.2f}' for x in os.getloadavg())} after")
    return 0


if __name__ == "__main__":
    sys.exit(main())
