"""Index computation at national scale: from the sufficient-statistics tables, and from a CSV via the CLI.

    python benchmarks/analytics_scale.py [--responses 1000000] [--database-url URL] [--repeat 5]
                                         [--csv-rows 1000000] [--no-r]

1. Database: seeds ``--responses`` demo responses into a scratch database (SQLite file, or a scratch
   PostgreSQL database on the server of ``--database-url``), then times, warm (median and worst of
   ``--repeat`` runs after one warm-up), all item, element and overall shares and mean scores with
   CIs for the largest agency alone and for every agency of the province plus the province total.
2. CLI: writes a ``--csv-rows`` CSV (22 items with non-response, 22 strata, counter-day PSUs,
   lognormal weights) and times ``python -m analytics estimate`` on it with ``--by agency``.
3. R, second reference only: where ``Rscript`` and R's ``survey`` package are installed, times
   ``read.csv``, ``svydesign`` + one ``svyby(svyratio)`` per item (the same per-agency item shares) on the
   same CSV. That is the slow way to write it in R; the comparison with the idiomatic R (``fread`` and one
   ``svyby(svytotal)`` over the linearised variables), interleaved, is ``benchmarks/cli_vs_r_speed.py``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psycopg
from sqlalchemy import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PERIOD = (dt.date(2025, 11, 1), dt.date(2026, 10, 31))
ITEMS = [f"q{k:02d}" for k in range(1, 23)]
GROUPS = {
    "access": ITEMS[0:4],
    "procedures": ITEMS[4:9],
    "civil_servants": ITEMS[9:15],
    "results": ITEMS[15:18],
    "feedback": ITEMS[18:22],
}


def _flask(args: list[str], env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def time_database(url: str, responses: int, repeat: int) -> None:
    env = {**os.environ, "SIPAS_ENV": "development", "SIPAS_DATABASE_URL": url}
    started = time.perf_counter()
    _flask(["db", "upgrade"], env)
    _flask(["seed-demo", "--responses", str(responses), "--end-month", "2026-10"], env)
    print(f"  seeded {responses:,} responses (tallies rebuilt) in {time.perf_counter() - started:.1f} s")

    os.environ.update({"SIPAS_ENV": "development", "SIPAS_DATABASE_URL": url})
    from sqlalchemy import func, select

    from survey import create_app
    from survey.db import db
    from survey.models import Response
    from survey.services.administration.instruments import latest_instrument
    from survey.services.statistics.indices import IndexQuery, compute_indices

    app = create_app()
    with app.app_context():
        instrument = latest_instrument(db.session, "sipas-2017")
        assert instrument is not None
        largest = db.session.execute(
            select(Response.agency_id).group_by(Response.agency_id).order_by(func.count().desc()).limit(1)
        ).scalar_one()
        queries = {
            "one agency (largest)": IndexQuery(instrument.id, *PERIOD, agency_ids=[largest], include_total=False),
            "every agency + province": IndexQuery(instrument.id, *PERIOD),
        }
        for label, query in queries.items():
            times = []
            for _ in range(repeat + 1):
                t0 = time.perf_counter()
                report = compute_indices(db.session, query)
                times.append(time.perf_counter() - t0)
                db.session.rollback()
            warm = times[1:]
            print(
                f"  {label}: {len(report.estimates.estimates):,} estimates, median {statistics.median(warm):.3f} s, "
                f"worst {max(warm):.3f} s (warm, {repeat} runs; {report.n_psus:,} PSUs)"
            )
        db.engine.dispose()  # type: ignore[union-attr]


def write_csv(path: Path, rows: int, seed: int = 11, agencies: int = 22) -> None:
    """``rows`` responses: agency (``agencies`` of them: strata and domains), psu (4 counters × 250 days per
    agency), w (lognormal weight), q01..q22 (scores 1-5; blank for non-response, 35 % on q19-q22)."""
    rng = np.random.default_rng(seed)
    agency = rng.integers(1, agencies + 1, rows)
    counter = agency * 10 + rng.integers(0, 4, rows)
    day = rng.integers(0, 250, rows)
    weight = np.round(rng.lognormal(2.0, 0.4, rows), 4)
    item_effect = rng.normal(0.4, 0.4, 22)[None, :]
    agency_effect = rng.normal(0, 0.25, agencies)[agency - 1][:, None]
    latent = item_effect + agency_effect + rng.normal(1.6, 0.9, (rows, 1)) + rng.logistic(0, 0.6, (rows, 22))
    scores = np.clip(np.round(latent + 2.2), 1, 5).astype(int)
    missing = rng.random((rows, 22)) < np.where(np.arange(22) >= 18, 0.35, 0.03)[None, :]
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["agency", "psu", "w", *ITEMS])
        for i in range(rows):
            answers = ["" if missing[i, k] else int(scores[i, k]) for k in range(22)]
            out.writerow([f"a{agency[i]:02d}", f"c{counter[i]}-d{day[i]}", weight[i], *answers])


R_SCRIPT = r"""
suppressMessages(library(survey))
d <- read.csv(commandArgs(TRUE)[1])
items <- sprintf("q%02d", 1:22)
for (q in items) { d[[paste0("s_", q)]] <- ifelse(is.na(d[[q]]), 0, as.numeric(d[[q]] >= 4));
                   d[[paste0("d_", q)]] <- as.numeric(!is.na(d[[q]])) }
t0 <- proc.time()[["elapsed"]]
des <- svydesign(ids=~psu, strata=~agency, weights=~w, data=d, nest=TRUE)
for (q in items) {
  r <- svyby(as.formula(paste0("~s_", q)), ~agency, des, svyratio, denominator=as.formula(paste0("~d_", q)))
}
cat(sprintf("%.3f\n", proc.time()[["elapsed"]] - t0))
"""


def time_cli_and_r(rows: int, use_r: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "responses.csv"
        groups = Path(tmp) / "groups.json"
        write_csv(data, rows)
        groups.write_text(json.dumps(GROUPS))
        t0 = time.perf_counter()
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "analytics",
                "estimate",
                str(data),
                "--items",
                ",".join(ITEMS),
                "--weight",
                "w",
                "--strata",
                "agency",
                "--psu",
                "psu",
                "--groups",
                str(groups),
                "--by",
                "agency",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        ours = time.perf_counter() - t0
        estimates = len(json.loads(result.stdout)["estimates"])
        print(
            f"  python -m analytics estimate, {rows:,} rows × 22 items, --by agency: {ours:.1f} s end to end "
            f"({estimates:,} estimates: item shares and means, 5 elements and overall, 22 agencies + whole sample)"
        )
        if not use_r:
            return
        if shutil.which("Rscript") is None:
            print("  R: Rscript not installed (Debian: apt-get install r-cran-survey); no comparison")
            return
        script = Path(tmp) / "bench.R"
        script.write_text(R_SCRIPT)
        t0 = time.perf_counter()
        r = subprocess.run(["Rscript", str(script), str(data)], capture_output=True, text=True, timeout=1800)
        if r.returncode != 0:
            print(f"  R failed: {r.stderr.strip().splitlines()[-1] if r.stderr.strip() else r.returncode}")
            return
        r_total = time.perf_counter() - t0
        r_compute = float(r.stdout.strip().splitlines()[-1])
        print(
            f"  R survey, second (slow) reference: svydesign + 22 × svyby(svyratio) by agency (item shares "
            f"only): {r_compute:.1f} s compute, {r_total:.1f} s end to end with read.csv"
        )
        print(
            f"  ratio to the slow R, end to end: {r_total:.1f} s / ours {ours:.1f} s = {r_total / ours:.1f}× "
            "(the idiomatic R: benchmarks/cli_vs_r_speed.py)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--database-url", default="", help="a PostgreSQL server URL (scratch database) or empty")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--csv-rows", type=int, default=1_000_000)
    parser.add_argument("--no-r", action="store_true")
    parser.add_argument("--skip-database", action="store_true")
    args = parser.parse_args()

    if not args.skip_database:
        with tempfile.TemporaryDirectory() as tmp:
            if args.database_url.startswith("postgres"):
                scratch = f"sipas_bench_{secrets.token_hex(3)}"
                admin = make_url(args.database_url).set(drivername="postgresql", database="postgres")
                admin_url = admin.render_as_string(hide_password=False)
                with psycopg.connect(admin_url, autocommit=True) as conn:
                    conn.execute(f'CREATE DATABASE "{scratch}"')
                url = make_url(args.database_url).set(database=scratch).render_as_string(hide_password=False)
                print(f"PostgreSQL ({args.responses:,} responses):")
                try:
                    time_database(url, args.responses, args.repeat)
                finally:
                    with psycopg.connect(admin_url, autocommit=True) as conn:
                        conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
            else:
                print(f"SQLite ({args.responses:,} responses):")
                time_database(f"sqlite:///{Path(tmp) / 'bench.db'}", args.responses, args.repeat)
    print("Command line and R:")
    time_cli_and_r(args.csv_rows, not args.no_r)


if __name__ == "__main__":
    main()
