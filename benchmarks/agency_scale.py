"""Index computation against the number of agencies: one province report with 22, 150 and 400 agencies.

    python benchmarks/agency_scale.py [--agencies 22,150,400] [--responses-per-agency 500] [--database-url URL]

Seeds a scratch database (SQLite file by default; with a PostgreSQL URL a scratch database created and
dropped): the demo province, then one synthetic province with as many agencies as the largest size asked
(``survey.services.operations.demo_scale``), and ``--responses-per-agency`` responses per agency over the
demo's twelve months. For each size it computes the weighted indices of that many agencies of the
synthetic province for the whole year, cold (no stored monthly roll-ups: every month rolled up from the
tallies and stored) and warm (closed months read back from the stored roll-ups and checked against their
weight fingerprints), each on a fresh session, and prints the seconds and the ratio to the smallest size
per agency. Linear work gives a per-agency ratio near 1.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from sqlalchemy import delete, make_url, select  # noqa: E402

from survey import create_app  # noqa: E402
from survey.db import db  # noqa: E402
from survey.migrate import upgrade  # noqa: E402
from survey.models import Agency, Instrument, PsuMonthSums  # noqa: E402
from survey.services.operations import demo, demo_scale  # noqa: E402
from survey.services.statistics import tallies  # noqa: E402
from survey.services.statistics.indices import IndexQuery, compute_indices  # noqa: E402

END_MONTH = dt.date(2026, 10, 1)


def _time(query: IndexQuery) -> float:
    db.registry.remove()  # a fresh session (and connection) per computation, as a request has
    started = time.perf_counter()
    compute_indices(db.session, query)
    elapsed = time.perf_counter() - started
    db.session.rollback()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agencies", default="22,150,400")
    parser.add_argument("--responses-per-agency", type=int, default=500)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.agencies.split(","))
    scratch = admin = None
    with tempfile.TemporaryDirectory() as tmp:
        if args.database_url.startswith("postgres"):
            scratch = f"sipas_bench_{secrets.token_hex(3)}"
            admin = make_url(args.database_url).set(drivername="postgresql", database="postgres")
            with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{scratch}"')
            url = (
                make_url(args.database_url)
                .set(drivername="postgresql+psycopg", database=scratch)
                .render_as_string(hide_password=False)
            )
        else:
            url = f"sqlite:///{Path(tmp) / 'scale.db'}"
        try:
            app = create_app({"DATABASE_URL": url}, environ={**os.environ, "SIPAS_ENV": "development"})
            with app.app_context():
                assert db.engine is not None
                upgrade(db.engine)
                started = time.perf_counter()
                session = db.session
                demo.seed_demo(session, 0, 2026, False, END_MONTH, app.config["TIMEZONE"])
                demo_scale.add_provinces(session, 1, sizes[-1], 2026, END_MONTH)
                n_agencies = session.query(Agency).join(Agency.counters).distinct().count()
                demo.insert_responses(
                    session, args.responses_per_agency * n_agencies, 2026, END_MONTH, app.config["TIMEZONE"]
                )
                tallies.rebuild(session)
                session.commit()
                print(f"seeded {n_agencies} agencies in {time.perf_counter() - started:.0f} s on {db.dialect}")
                province = session.scalar(select(Agency).where(Agency.code == demo_scale.province_code(1)))
                assert province is not None
                ids = sorted(a.id for a in province.children)
                instrument_id = session.scalar(
                    select(Instrument.id).where(Instrument.code == demo.DEFAULT_INSTRUMENT).order_by(Instrument.id)
                )
                assert instrument_id is not None
                session.commit()
                rows = []
                for size in sizes:
                    query = IndexQuery(instrument_id, dt.date(2025, 11, 1), dt.date(2026, 10, 31), ids[:size])
                    with db.write() as s:
                        s.execute(delete(PsuMonthSums))
                    cold = _time(query)
                    warm = min(_time(query) for _ in range(3))
                    rows.append((size, cold, warm))
        finally:
            if scratch and admin is not None:
                db.registry.remove()
                if db.engine is not None:
                    db.engine.dispose()
                with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
    base_size, base_cold, base_warm = rows[0]
    print(f"province report, weighted, 12 months, {args.responses_per_agency} responses per agency:")
    for size, cold, warm in rows:
        per_cold = (cold / size) / (base_cold / base_size)
        per_warm = (warm / size) / (base_warm / base_size)
        print(
            f"  {size:4d} agencies: cold {cold:6.2f} s, warm {warm:6.2f} s; "
            f"per agency vs {base_size}: cold {per_cold:.2f}x, warm {per_warm:.2f}x"
        )


if __name__ == "__main__":
    main()
