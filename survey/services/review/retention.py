"""Comment retention: free text older than the retention period is blanked; the ratings stay.

Comments are the only free text a citizen gives, scrubbed of phone, ID and e-mail numbers before
storage, but still possibly identifying. After ``SIPAS_COMMENT_RETENTION_DAYS`` the comment (and any
staff note written about it) is set to NULL; the response, its answers and the tallies are untouched,
so indices do not change. Running it again changes nothing (idempotent); each run is audit-logged.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, Update, func, select, update
from sqlalchemy.orm import Session

from survey.db import db, utcnow
from survey.models import Response
from survey.models.review import CommentReview
from survey.services.identity import audit


@dataclass(frozen=True)
class PurgeReport:
    cutoff: dt.datetime
    comments: int
    notes: int
    dry_run: bool


def _old_with_text(cutoff: dt.datetime):  # type: ignore[no-untyped-def]  # a Select of the response ids, built for two callers
    return select(Response.id).where(Response.received_at < cutoff, Response.comment.is_not(None))


def purge_comments(retention_days: int, *, dry_run: bool = False, now: dt.datetime | None = None) -> PurgeReport:
    """Blank comments received more than ``retention_days`` ago (count them only, with ``dry_run``)."""
    if retention_days < 1:
        raise ValueError("retention_days must be at least 1")
    cutoff = (now or utcnow()) - dt.timedelta(days=retention_days)
    old = _old_with_text(cutoff)
    notes_of_old = select(CommentReview.response_id).where(
        CommentReview.note.is_not(None),
        CommentReview.response_id.in_(select(Response.id).where(Response.received_at < cutoff)),
    )
    if dry_run:
        session = db.session
        comments = session.scalar(select(func.count()).select_from(old.subquery())) or 0
        notes = session.scalar(select(func.count()).select_from(notes_of_old.subquery())) or 0
        session.rollback()
        return PurgeReport(cutoff, comments, notes, dry_run=True)
    with db.write() as session:
        notes = _rows_changed(
            session,
            update(CommentReview)
            .where(CommentReview.response_id.in_(notes_of_old.scalar_subquery()))
            .values(note=None)
            .execution_options(synchronize_session=False),
        )
        comments = _rows_changed(
            session,
            update(Response)
            .where(Response.id.in_(old.scalar_subquery()))
            .values(comment=None)
            .execution_options(synchronize_session=False),
        )
        audit.record(
            session,
            "comments.purged",
            details={
                "retention_days": retention_days,
                "cutoff": cutoff.isoformat(),
                "comments": comments,
                "notes": notes,
            },
        )
    return PurgeReport(cutoff, comments, notes, dry_run=False)


def _rows_changed(session: Session, statement: Update) -> int:
    """Rows an UPDATE changed (a DML statement's result is a CursorResult, which counts them)."""
    return cast(CursorResult[Any], session.execute(statement)).rowcount
