"""Responses of an agency for review, and excluding one (it leaves the indices, stays in the data).

Excluding a response removes its contribution from the sufficient-statistics tallies in the same
transaction (``tallies.add_response(..., sign=-1)``), so every index stays exact, and records
``response.excluded`` in the audit log (with the reason code, never free text).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from survey.db import db
from survey.models import Instrument, Response
from survey.services.identity import audit
from survey.services.statistics import index_cache, tallies

#: Why a response may be excluded (stored as the code, with an optional short note).
EXCLUSION_REASONS = ("staff_self_rating", "test_or_training", "duplicate", "wrong_counter", "other")
MAX_NOTE_LENGTH = 200
PAGE_SIZE = 50


class ExclusionError(ValueError):
    """``not_found``, ``already_excluded``, ``bad_reason`` or ``note_required``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class ResponsePage:
    responses: list[Response]
    total: int
    page: int
    pages: int


def agency_responses(session: Session, agency_id: int, page: int = 1, status: str | None = None) -> ResponsePage:
    """The agency's responses, newest first, one page at a time (with their counters)."""
    where = [Response.agency_id == agency_id]
    if status in ("valid", "excluded"):
        where.append(Response.status == status)
    total = int(session.scalar(select(func.count()).select_from(Response).where(*where)) or 0)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    rows = session.scalars(
        select(Response)
        .where(*where)
        .options(selectinload(Response.answers))
        .order_by(Response.received_at.desc(), Response.id.desc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    return ResponsePage(list(rows), total, page, pages)


def response_of(session: Session, agency_id: int, response_id: int) -> Response | None:
    return session.scalar(select(Response).where(Response.id == response_id, Response.agency_id == agency_id))


def exclude_response(agency_id: int, response_id: int, reason: str, note: str | None, actor_user_id: int) -> Response:
    """Mark a valid response excluded with a reason; take it out of the tallies; audit it."""
    if reason not in EXCLUSION_REASONS:
        raise ExclusionError("bad_reason")
    note = (note or "").strip()[:MAX_NOTE_LENGTH] or None
    if reason == "other" and not note:
        raise ExclusionError("note_required")
    with db.write() as session:
        response = session.scalar(
            select(Response)
            .where(Response.id == response_id, Response.agency_id == agency_id)
            .options(selectinload(Response.answers))
            .with_for_update()
        )
        if response is None:
            raise ExclusionError("not_found")
        if response.status != "valid":
            raise ExclusionError("already_excluded")
        instrument = session.get(Instrument, response.instrument_id)
        assert instrument is not None
        tallies.add_response(session, response, instrument, sign=-1)
        response.status = "excluded"
        response.exclusion_reason = f"{reason}: {note}" if note else reason
        audit.record(
            session,
            "response.excluded",
            actor_user_id=actor_user_id,
            target_type="response",
            target_id=response.id,
            details={"agency_id": agency_id, "reason": reason},
        )
    index_cache.invalidate()
    return response
