"""Liveness of the things a node needs."""

from __future__ import annotations

from sqlalchemy import text

from survey.db import db
from survey.migrate import current_revision, head_revision


def database_reachable() -> dict[str, str]:
    """'ok' when the database answers ``SELECT 1``, else 'error' with the exception class (liveness: cheap, so
    probes every few seconds cost next to nothing; the migration check is readiness's, :func:`database_status`)."""
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
    except Exception as exc:  # noqa: BLE001  (any failure means "not reachable")
        db.session.rollback()
        return {"status": "error", "error": type(exc).__name__}
    return {"status": "ok"}


def database_status() -> dict[str, str]:
    """'ok' with the schema revision, or 'error' with the exception class (never its text: it may hold a URL)."""
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
        assert db.engine is not None
        revision = current_revision(db.engine)
    except Exception as exc:  # noqa: BLE001  (any failure means "not reachable")
        db.session.rollback()
        return {"status": "error", "error": type(exc).__name__}
    if revision != head_revision():
        return {"status": "error", "error": "schema not at the latest migration", "revision": str(revision)}
    return {"status": "ok", "revision": str(revision)}
