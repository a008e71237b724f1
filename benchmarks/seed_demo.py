"""Time ``flask seed-demo --responses N`` on a fresh database and print the figures.

    python benchmarks/seed_demo.py [--responses 1000000] [--database-url URL]

Without --database-url a fresh SQLite file in a temporary directory is used. With a PostgreSQL URL
(e.g. postgresql://postgres@127.0.0.1:5432/postgres) a scratch database is created and dropped.
Peak memory is the child process's maximum resident set size.
"""

from __future__ import annotations

import argparse
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from sqlalchemy import make_url

ROOT = Path(__file__).resolve().parent.parent
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]


def run(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(FLASK + args, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    scratch = None
    with tempfile.TemporaryDirectory() as tmp:
        if args.database_url.startswith("postgres"):
            scratch = f"sipas_bench_{secrets.token_hex(3)}"
            admin = make_url(args.database_url).set(drivername="postgresql", database="postgres")
            with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{scratch}"')
            url = make_url(args.database_url).set(database=scratch).render_as_string(hide_password=False)
        else:
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        env = {**os.environ, "SIPAS_ENV": "development", "SIPAS_DATABASE_URL": url}
        try:
            run(["db", "upgrade"], env)
            seconds = run(["seed-demo", "--responses", str(args.responses), "--end-month", "2026-10"], env)
            peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            size = ""
            if url.startswith("sqlite"):
                size = f", database file {Path(tmp, 'bench.db').stat().st_size / 1e6:.0f} MB"
            print(
                f"seed-demo --responses {args.responses:,} on {make_url(url).get_backend_name()}: "
                f"{seconds:.1f} s wall, {args.responses / seconds:,.0f} responses/s, "
                f"peak RSS {peak_mb:.0f} MB{size}"
            )
        finally:
            if scratch:
                with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


if __name__ == "__main__":
    main()
