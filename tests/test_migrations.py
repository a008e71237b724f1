"""The schema comes from the migrations alone, and they agree with the models."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import DBAPIError

import survey.models  # noqa: F401
from survey.db import Base, db, make_engine
from survey.migrate import current_revision, downgrade, head_revision, upgrade


def test_test_database_is_at_the_latest_migration(migrated_engine: Engine) -> None:
    assert current_revision(migrated_engine) == head_revision()


def test_migrations_and_models_agree(migrated_engine: Engine) -> None:
    with migrated_engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_every_model_table_exists(migrated_engine: Engine) -> None:
    assert set(Base.metadata.tables) <= set(inspect(migrated_engine).get_table_names())


def test_downgrade_to_base_and_upgrade_again(scratch_database_url: str) -> None:
    engine = make_engine(scratch_database_url)
    upgrade(engine)
    downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_upgrade_to_0005_counts_existing_answers_per_scale_point(scratch_database_url: str) -> None:
    """Tallies made before 0005 get their per-point counts from the raw answers, equal to a rebuild."""
    import datetime as dt

    from survey import create_app
    from survey.services.operations.demo import seed_demo
    from tests.conftest import environ_for

    engine = make_engine(scratch_database_url)
    upgrade(engine)
    app = create_app(environ=environ_for(scratch_database_url))
    with app.app_context():
        seed_demo(
            db.session, 200, seed=3, append=False, end_month=dt.date(2026, 10, 1), timezone=app.config["TIMEZONE"]
        )
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    query = text(
        "SELECT agency_id, day, counter_key, field_key, item_id, n_score_1, n_score_2, n_score_3, n_score_4, "
        "n_score_5, n_valid FROM stat_answer_tallies ORDER BY agency_id, day, counter_key, field_key, item_id"
    )
    with engine.connect() as conn:
        rebuilt = conn.execute(query).all()
    downgrade(engine, "0004")
    upgrade(engine)
    with engine.connect() as conn:
        backfilled = conn.execute(query).all()
    engine.dispose()
    assert backfilled == rebuilt
    assert sum(sum(row[5:10]) for row in rebuilt) == sum(row[10] for row in rebuilt) > 0


@pytest.mark.usefixtures("app")
@pytest.mark.parametrize("statement", ["UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"])
def test_audit_log_is_append_only(statement: str) -> None:
    db.session.execute(
        text("INSERT INTO audit_log (occurred_at, action, details) VALUES (CURRENT_TIMESTAMP, 'a', '{}')")
    )
    nested = db.session.begin_nested()
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text(statement))
    nested.rollback()
    assert db.session.execute(text("SELECT count(*) FROM audit_log WHERE action = 'a'")).scalar() == 1


def test_sqlite_runs_with_wal_foreign_keys_and_busy_timeout(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'pragmas.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
    engine.dispose()
