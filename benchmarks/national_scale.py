"""National scale, simulated (manual, not CI): many provinces and agencies on PostgreSQL.

    python benchmarks/national_scale.py --database-url postgresql://postgres@127.0.0.1:5432/postgres
        [--provinces 34] [--agencies-per-province 90] [--responses 10000000] [--keep]

The full run (34 provinces, ≈ 3,000 agencies, 10M responses, about 220M answer rows) needs 15–20 GB of
disk and hours of seeding; smaller arguments give the same report at a size a laptop affords. Creates
a scratch database (dropped afterwards unless ``--keep``), seeds the demo province, adds ``--provinces``
synthetic provinces of ``--agencies-per-province`` agencies each
(``survey.services.operations.demo_scale``), inserts ``--responses`` responses over every counter
and builds the tallies, then reports:

* seed time, database size, and the tally tables' sizes per million responses;
* one agency's year report, one province's (all its agencies, with the province total), and the national
  table (every province's total, one report per province, as ``/api/v1/indices`` computes it), each cold
  (no stored monthly roll-ups, a fresh connection) and warm (closed months from the stored roll-ups).

Targets (issue 18): one agency < 100 ms, one province < 1 s, the national table < 2 s, warm and cold.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import secrets
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from sqlalchemy import delete, make_url, select, text  # noqa: E402

from survey import create_app  # noqa: E402
from survey.db import db  # noqa: E402
from survey.migrate import upgrade  # noqa: E402
from survey.models import Agency, Instrument, PsuMonthSums  # noqa: E402
from survey.services.operations import demo, demo_scale  # noqa: E402
from survey.services.statistics import tallies  # noqa: E402
from survey.services.statistics.indices import IndexQuery, compute_indices  # noqa: E402

END_MONTH = dt.date(2026, 10, 1)
YEAR = (dt.date(2025, 11, 1), dt.date(2026, 10, 31))


def _timed(run: Callable[[], object]) -> float:
    db.registry.remove()
    assert db.engine is not None
    db.engine.dispose()  # a fresh connection, as a new worker has
    started = time.perf_counter()
    run()
    elapsed = time.perf_counter() - started
    db.session.rollback()
    return elapsed


def _forget_roll_ups() -> None:
    with db.write() as session:
        session.execute(delete(PsuMonthSums))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="a PostgreSQL server (a scratch database is made)")
    parser.add_argument("--provinces", type=int, default=34)
    parser.add_argument("--agencies-per-province", type=int, default=90)
    parser.add_argument("--responses", type=int, default=10_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database (its name is printed)")
    args = parser.parse_args()
    if not args.database_url.startswith("postgres"):
        parser.error("--database-url must be a PostgreSQL URL: national scale is a PostgreSQL deployment")
    scratch = f"sipas_national_{secrets.token_hex(3)}"
    admin = make_url(args.database_url).set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{scratch}"')
    url = make_url(args.database_url).set(drivername="postgresql+psycopg", database=scratch)
    lines = []
    try:
        app = create_app(
            {"DATABASE_URL": url.render_as_string(hide_password=False)},
            environ={**os.environ, "SIPAS_ENV": "development"},
        )
        with app.app_context():
            assert db.engine is not None
            upgrade(db.engine)
            session = db.session
            started = time.perf_counter()
            demo.seed_demo(session, 0, 2026, False, END_MONTH, app.config["TIMEZONE"])
            scale = demo_scale.add_provinces(session, args.provinces, args.agencies_per_province, 2026, END_MONTH)
            session.commit()
            demo.insert_responses(session, args.responses, 2026, END_MONTH, app.config["TIMEZONE"])
            session.commit()
            tallies.rebuild(session)
            session.commit()
            session.execute(text("ANALYZE"))
            session.commit()
            seeded = time.perf_counter() - started
            sizes = {
                name: session.scalar(text(f"SELECT pg_total_relation_size('{name}')"))
                for name in ("responses", "answers", "stat_response_tallies", "stat_answer_tallies")
            }
            database = session.scalar(text("SELECT pg_database_size(current_database())"))
            per_million = 1e6 / max(1, args.responses)
            lines.append(
                f"seeded {args.responses:,} responses, {scale.agencies + 22:,} agencies in {args.provinces + 1} "
                f"provinces, in {seeded:.0f} s; database {database / 1e9:.2f} GB "
                f"({database * per_million / 1e9:.2f} GB per million responses)"
            )
            lines.append(
                "  per million responses: "
                + ", ".join(f"{name} {size * per_million / 1e6:.0f} MB" for name, size in sizes.items())
            )
            instrument_id = session.scalar(
                select(Instrument.id).where(Instrument.code == demo.DEFAULT_INSTRUMENT).order_by(Instrument.id)
            )
            assert instrument_id is not None
            provinces = list(
                session.scalars(
                    select(Agency).where(Agency.code.like(demo_scale.SCALE_PREFIX + "%"), Agency.kind == "province")
                )
            )
            children = {p.id: sorted(a.id for a in p.children) for p in provinces}
            session.commit()
            one_province = children[provinces[0].id]

            def agency() -> object:
                return compute_indices(
                    db.session, IndexQuery(instrument_id, *YEAR, one_province[:1], include_total=False)
                )

            def province() -> object:
                return compute_indices(db.session, IndexQuery(instrument_id, *YEAR, one_province))

            def national() -> object:
                return [
                    compute_indices(db.session, IndexQuery(instrument_id, *YEAR, ids, include_total=True))
                    for ids in children.values()
                ]

            for label, run, target in (
                ("one agency", agency, 0.1),
                (f"one province ({len(one_province)} agencies)", province, 1.0),
                (f"national table ({len(children)} provinces)", national, 2.0),
            ):
                _forget_roll_ups()
                cold = _timed(run)
                warm = min(_timed(run) for _ in range(2))
                verdict = "met" if max(cold, warm) < target else "NOT met"
                lines.append(f"  {label}: cold {cold:.2f} s, warm {warm:.2f} s (target < {target:g} s: {verdict})")
            db.registry.remove()
            db.engine.dispose()
    finally:
        if not args.keep:
            with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
        else:
            lines.append(f"kept database {scratch}")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
