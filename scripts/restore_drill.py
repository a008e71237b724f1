"""Restore drill: dump a PostgreSQL database, restore it into a scratch database, prove nothing is missing.

    python scripts/restore_drill.py postgresql://user@host:5432/sipas [--dump FILE] [--keep]

1. ``pg_dump -Fc`` of the database (the backup format docs/production.md recommends);
2. ``pg_restore --exit-on-error --single-transaction --no-owner`` into a new database next to it;
3. compares every table's row count, the schema revision, and an md5 over every row of
   ``responses`` and ``answers`` (in key order) between source and restore;
4. drops the scratch database (``--keep`` leaves it) and exits non-zero on any difference.

Run it against a copy in production or a fresh backup regularly: a backup that was never restored is
not a backup. Needs the PostgreSQL client tools (pg_dump, pg_restore) at least as new as the server.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg import sql

#: Row checksums over the tables that hold what citizens sent, in a stable order.
CHECKSUMS = {
    "responses": "id",
    "answers": "response_id, item_id",
}


def _report(line: str) -> None:
    """The drill's output is its report (stdout), not a log."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _tool(name: str) -> str:
    """The newest installed client tool (Debian keeps one per major version) or the one on PATH."""
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: int(p.parent.parent.name))
    if candidates:
        return str(candidates[-1])
    found = shutil.which(name)
    if not found:
        raise SystemExit(f"restore drill: {name} not found (install the PostgreSQL client tools)")
    return found


def _plain(url: str) -> str:
    """libpq accepts postgresql:// URLs; SQLAlchemy's driver suffix must go."""
    for prefix in ("postgresql+psycopg://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix) :]
    return url


def _with_database(url: str, name: str) -> str:
    from sqlalchemy import make_url

    return make_url(url).set(database=name).render_as_string(hide_password=False)


def inventory(url: str) -> dict[str, object]:
    """Row count of every table in the public schema, the Alembic revision, and the row checksums."""
    facts: dict[str, object] = {}
    with psycopg.connect(url, connect_timeout=10) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1"
            )
        ]
        for table in tables:
            count = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()
            facts[f"rows:{table}"] = count[0] if count else None
        if "alembic_version" in tables:
            facts["revision"] = [r[0] for r in conn.execute("SELECT version_num FROM alembic_version")]
        for table, order in CHECKSUMS.items():
            if table in tables:
                query = sql.SQL("SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY {order}), '')) FROM {table} t")
                row = conn.execute(
                    query.format(order=sql.SQL(order), table=sql.Identifier(table))  # fixed column lists above
                ).fetchone()
                facts[f"md5:{table}"] = row[0] if row else None
    return facts


def drill(source: str, dump: Path | None = None, keep: bool = False) -> int:
    source = _plain(source)
    from sqlalchemy import make_url

    name = make_url(source).database
    if not name:
        raise SystemExit("restore drill: the URL must name a database")
    scratch = f"{name}_restore_{secrets.token_hex(3)}"[:63]
    admin = _with_database(source, "postgres")
    target = _with_database(source, scratch)
    workdir = Path(tempfile.mkdtemp(prefix="sipas-drill-"))
    dump_path = dump or workdir / f"{name}.dump"
    started = time.monotonic()
    try:
        # Fixed tool paths and arguments; the URL is the operator's own.
        subprocess.run([_tool("pg_dump"), "-Fc", "-d", source, "-f", str(dump_path)], check=True)  # noqa: S603
        dumped = time.monotonic() - started
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(scratch)))
        subprocess.run(  # noqa: S603
            [
                _tool("pg_restore"),
                "--exit-on-error",
                "--single-transaction",
                "--no-owner",
                "-d",
                target,
                str(dump_path),
            ],
            check=True,
        )
        restored = time.monotonic() - started - dumped
        before, after = inventory(source), inventory(target)
        differences = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
        rows = sum(v for k, v in before.items() if k.startswith("rows:") and isinstance(v, int))
        _report(
            f"restore drill: {name}: dump {dump_path.stat().st_size / 1e6:.1f} MB in {dumped:.1f} s, "
            f"restore in {restored:.1f} s; {sum(1 for k in before if k.startswith('rows:'))} tables, {rows:,} rows; "
            f"responses md5 {before.get('md5:responses')}, answers md5 {before.get('md5:answers')}"
        )
        for key in differences:
            _report(f"  MISMATCH {key}: source {before.get(key)!r}, restored {after.get(key)!r}")
        _report("restore drill: " + ("OK, the restore equals the source" if not differences else "FAILED"))
        return 1 if differences else 0
    except subprocess.CalledProcessError as exc:
        _report(f"restore drill: FAILED: {Path(str(exc.cmd[0])).name} exited with {exc.returncode}")
        return 1
    finally:
        if not keep:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(scratch)))
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database_url", nargs="?", default=os.environ.get("SIPAS_DATABASE_URL", ""))
    parser.add_argument("--dump", type=Path, default=None, help="Keep the dump at this path.")
    parser.add_argument("--keep", action="store_true", help="Keep the restored scratch database.")
    args = parser.parse_args()
    if not args.database_url.startswith(("postgresql", "postgres://")):
        parser.error("a postgresql:// URL is required (argument or SIPAS_DATABASE_URL)")
    return drill(args.database_url, args.dump, args.keep)


if __name__ == "__main__":
    sys.exit(main())
