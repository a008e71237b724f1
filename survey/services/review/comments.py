"""Citizens' comments for staff: list them (scrubbed at storage), mark them handled or unhandled.

Listing is bounded: every query filters on the agency and a window of local receipt dates (the
``ix_responses_agency_day`` index) and reads one page with LIMIT, keyset-paginated. Marking writes or deletes a
:class:`~survey.models.CommentReview` and records ``comment.handled`` / ``comment.unhandled`` in the
audit log (ids only: the staff note is free text and stays out of the log).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from survey.auth import Scope
from survey.db import db, utcnow
from survey.models import CommentReview, Response, ResponseTally, User
from survey.services.administration.scope_queries import in_scope
from survey.services.identity import audit
from survey.services.submissions.scrub import scrub_personal_data

PAGE_SIZE = 25
MAX_NOTE_LENGTH = 500
MAX_SEARCH_LENGTH = 100
STATUSES = ("all", "unhandled", "handled")


class CommentError(ValueError):
    """``not_found`` (no comment with that id in the user's scope) or ``note_too_long``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class CommentFilter:
    status: str = "all"
    counter_id: int | None = None
    field_id: int | None = None
    search: str = ""


@dataclass(frozen=True)
class CommentRow:
    response_id: int
    received_on: dt.date
    counter_id: int | None
    field_id: int | None
    comment: str
    handled_at: dt.datetime | None
    handled_by: str | None
    note: str | None

    @property
    def handled(self) -> bool:
        return self.handled_at is not None


@dataclass(frozen=True)
class CommentPage:
    rows: list[CommentRow]
    #: Where the next (older) page starts, as ``(received_on, response id)`` of its first row; None at the end.
    older: tuple[dt.date, int] | None
    first_page: bool


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def parse_cursor(raw: str | None) -> tuple[dt.date, int] | None:
    """``YYYY-MM-DD.ID`` from a page link (None when absent or malformed: the newest page)."""
    day, _, ident = (raw or "").partition(".")
    try:
        return dt.date.fromisoformat(day), int(ident)
    except ValueError:
        return None


def comments(
    session: Session,
    agency_ids: Sequence[int],
    start: dt.date,
    end: dt.date,
    filters: CommentFilter,
    before: tuple[dt.date, int] | None = None,
) -> CommentPage:
    """One page of comments of valid responses received in [start, end], newest first, from ``before`` on.

    Reads backwards through growing date windows (7, 14, 28 … days) on the ``(agency_id, received_on)``
    index, so a page costs the rows of the last few weeks, not of the whole period (a rare search term
    may still walk the whole period). Pages are keyset-based: no OFFSET, no count of every match.
    """
    where = [
        Response.agency_id.in_(list(agency_ids)),
        Response.status == "valid",
        Response.comment.is_not(None),
        Response.comment != "",
    ]
    if filters.counter_id is not None:
        where.append(Response.counter_id == filters.counter_id)
    if filters.field_id is not None:
        where.append(Response.field_id == filters.field_id)
    search = filters.search.strip()[:MAX_SEARCH_LENGTH]
    if search:
        where.append(Response.comment.ilike(f"%{_escape_like(search)}%", escape="\\"))
    if filters.status == "handled":
        where.append(CommentReview.response_id.is_not(None))
    elif filters.status == "unhandled":
        where.append(CommentReview.response_id.is_(None))
    high = end
    if before is not None:
        high = min(end, before[0])
        where.append(
            or_(Response.received_on < before[0], and_(Response.received_on == before[0], Response.id < before[1]))
        )
    query = (
        select(
            Response.id,
            Response.received_on,
            Response.counter_id,
            Response.field_id,
            Response.comment,
            CommentReview.handled_at,
            User.display_name,
            CommentReview.note,
        )
        .outerjoin(CommentReview, CommentReview.response_id == Response.id)
        .outerjoin(User, User.id == CommentReview.handled_by_id)
        .where(*where)
        .order_by(Response.received_on.desc(), Response.id.desc())
    )
    # Start at the last day with any response: an open period's empty future weeks cost nothing then.
    last = session.scalar(
        select(func.max(ResponseTally.day)).where(
            ResponseTally.agency_id.in_(list(agency_ids)), ResponseTally.day <= high, ResponseTally.day >= start
        )
    )
    high = min(high, last) if last is not None else start - dt.timedelta(days=1)
    found: list[CommentRow] = []
    span = 7
    while high >= start and len(found) <= PAGE_SIZE:
        low = max(start, high - dt.timedelta(days=span - 1))
        window = query.where(Response.received_on >= low, Response.received_on <= high)
        window_rows = session.execute(window.limit(PAGE_SIZE + 1 - len(found)))
        found += [CommentRow(*row) for row in window_rows]  # type: ignore[arg-type]  # only rows with a comment
        high, span = low - dt.timedelta(days=1), span * 2
    rows = found[:PAGE_SIZE]
    older = (rows[-1].received_on, rows[-1].response_id) if len(found) > PAGE_SIZE else None
    return CommentPage(rows, older, before is None)


def set_handled(allowed: Scope, response_id: int, handled: bool, note: str | None, actor_user_id: int) -> bool:
    """Mark the comment of a response of any agency in ``allowed`` handled (with an optional note) or unhandled.

    ``allowed`` is the user's ``handle_comments`` scope, not the agency of the page the form was on: a province's
    page lists its departments' comments too. A comment outside the scope is ``not_found`` (the view's 404).
    Returns whether anything changed; marking an already handled comment again updates its note.
    """
    note = scrub_personal_data((note or "").strip()) or None
    if note is not None and len(note) > MAX_NOTE_LENGTH:
        raise CommentError("note_too_long")
    with db.write() as session:
        where = [
            Response.id == response_id,
            Response.comment.is_not(None),
            Response.comment != "",
            *in_scope(Response.agency_id, allowed),
        ]
        agency_id = session.scalar(select(Response.agency_id).where(*where))
        if agency_id is None:
            raise CommentError("not_found")
        review = session.get(CommentReview, response_id)
        if handled:
            if review is None:
                session.add(
                    CommentReview(response_id=response_id, handled_by_id=actor_user_id, note=note, handled_at=utcnow())
                )
            else:
                review.note, review.handled_by_id, review.handled_at = note, actor_user_id, utcnow()
            action = "comment.handled"
        else:
            if review is None:
                return False
            session.delete(review)
            action = "comment.unhandled"
        audit.record(
            session,
            action,
            actor_user_id=actor_user_id,
            target_type="response",
            target_id=response_id,
            details={"agency_id": agency_id, "with_note": note is not None},
        )
    return True
