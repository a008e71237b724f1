"""Time ``flask export-responses`` on 1,000,000 demo responses (CSV, SPSS, Stata; optionally Excel).

    python benchmarks/export_scale.py [--responses 1000000] [--database FILE.db] [--formats csv,sav,dta]

Without --database a scratch SQLite file is created in a temporary directory, migrated and seeded
(through the seed service, so no demo-login file is written); with it, an already seeded file is reused.
An export holds one instrument, so each format is exported once per instrument with responses (the demo
has two); the figures are per file and summed. Each export runs as its own child process: wall time
and that child's maximum resident set size. Targets (issue 6): CSV < 30 s and < 300 MB for 1,000,000
responses, .sav and .dta < 2 minutes. The load average is printed, since the machine may be busy.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]
INSTRUMENTS = ("sipas-2017", "sipas-2022-services")
TARGETS = {"csv": 30.0, "sav": 120.0, "dta": 120.0, "xlsx": None}

SEED = """
import datetime as dt, sys
from survey import create_app
from survey.db import db
from survey.services.operations.demo import seed_demo
app = create_app()
with app.app_context():
    report = seed_demo(db.session, int(sys.argv[1]), 2026, False, dt.date(2026, 10, 1), app.config["TIMEZONE"])
    db.session.commit()
    print(report.responses, report.answers)
"""


def child(args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Run a child process; (wall seconds, its max RSS in MB, its stdout)."""
    started = time.perf_counter()
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if proc.returncode:
        raise SystemExit(f"{' '.join(args[3:])} failed with status {proc.returncode}")
    return seconds, usage.ru_maxrss / 1024, out


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--database", type=Path, default=None, help="reuse this seeded SQLite file")
    parser.add_argument("--formats", default="csv,sav,dta")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]

    with tempfile.TemporaryDirectory() as tmp:
        db_file = args.database or Path(tmp) / "bench.db"
        env = {**os.environ, "SIPAS_ENV": "development", "SIPAS_DATABASE_URL": f"sqlite:///{db_file.resolve()}"}
        if args.database is None:
            child([*FLASK, "db", "upgrade"], env)
            seconds, _rss, out = child([sys.executable, "-c", SEED, str(args.responses)], env)
            print(f"seeded {out.split()[0]} responses ({out.split()[1]} answers) in {seconds:.0f} s")
        print(f"machine: {os.cpu_count()} CPUs, {load()}")
        for fmt in args.formats.split(","):
            total_s, total_rows, peak = 0.0, 0, 0.0
            for instrument in INSTRUMENTS:
                out_file = Path(tmp) / f"export-{instrument}.{fmt}"
                command = [*FLASK, "export-responses", "--format", fmt, "--output", str(out_file)]
                seconds, rss, out = child([*command, "--instrument", instrument, "--status", "all"], env)
                rows = int(out.split()[1].replace(",", ""))
                size = out_file.stat().st_size / 1e6
                print(
                    f"  {fmt} {instrument}: {rows:,} rows in {seconds:.1f} s, peak RSS {rss:.0f} MB, {size:.0f} MB file"
                )
                total_s, total_rows, peak = total_s + seconds, total_rows + rows, max(peak, rss)
                out_file.unlink()
                out_file.with_name(out_file.name + ".codebook.md").unlink()
            target = TARGETS.get(fmt)
            verdict = (
                ""
                if target is None
                else (" (target met)" if total_s < target else f" (MISSES the {target:.0f} s target)")
            )
            print(f"{fmt}: {total_rows:,} rows in {total_s:.1f} s{verdict}, peak RSS {peak:.0f} MB; {load()}")


if __name__ == "__main__":
    main()
