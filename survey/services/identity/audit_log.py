"""Reading the audit log: filter by action, agency, user and local date range, newest first, one page at a time.

Scoped: ``agency_ids`` (from ``scope("view_audit")``) limits the events to those concerning agencies in the
auditor's subtree; None means every event, including those that concern no agency.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from survey.models import Agency, AuditEvent, User

PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]
    actors: dict[int, str]
    total: int
    page: int
    pages: int
    #: Names of the agencies the events on this page concern (by id), in the reader's language.
    agencies: dict[int, str] | None = None


def _in_scope(agency_ids: Iterable[int] | None) -> list[ColumnElement[bool]]:
    if agency_ids is None:
        return []
    return [AuditEvent.agency_id.in_(sorted(agency_ids))]


def actions(session: Session, agency_ids: Iterable[int] | None = None) -> list[str]:
    """Every action recorded so far among the events in scope (for the filter)."""
    query = select(AuditEvent.action).where(*_in_scope(agency_ids)).distinct().order_by(AuditEvent.action)
    return list(session.scalars(query))


def audit_events(
    session: Session,
    timezone: str,
    action: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    page: int = 1,
    agency_ids: Iterable[int] | None = None,
    agency_id: int | None = None,
    actor_user_id: int | None = None,
    locale: str = "vi",
) -> AuditPage:
    """Events in scope matching the filters; dates are local days (``SIPAS_TIMEZONE``), both ends inclusive.

    ``agency_id`` and ``actor_user_id`` narrow the events further (an agency outside the scope finds none)."""
    tz = ZoneInfo(timezone)
    where = _in_scope(agency_ids)
    if action:
        where.append(AuditEvent.action == action)
    if agency_id is not None:
        where.append(AuditEvent.agency_id == agency_id)
    if actor_user_id is not None:
        where.append(AuditEvent.actor_user_id == actor_user_id)
    if date_from:
        where.append(AuditEvent.occurred_at >= dt.datetime.combine(date_from, dt.time(), tz).astimezone(dt.UTC))
    if date_to:
        end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time(), tz).astimezone(dt.UTC)
        where.append(AuditEvent.occurred_at < end)
    total = int(session.scalar(select(func.count()).select_from(AuditEvent).where(*where)) or 0)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    events = list(
        session.scalars(
            select(AuditEvent)
            .where(*where)
            .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
            .limit(PAGE_SIZE)
            .offset((page - 1) * PAGE_SIZE)
        )
    )
    ids = {e.actor_user_id for e in events if e.actor_user_id is not None}
    actors = dict(session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())
    about = {e.agency_id for e in events if e.agency_id is not None}
    about |= {int(e.details["agency_id"]) for e in events if isinstance((e.details or {}).get("agency_id"), int)}
    agencies = {a.id: a.name(locale) for a in session.scalars(select(Agency).where(Agency.id.in_(about)))}
    return AuditPage(events, actors, total, page, pages, agencies)


def actors(session: Session, agency_ids: Iterable[int] | None = None) -> list[tuple[int, str]]:
    """The users who recorded events in scope, by name (for the filter)."""
    query = (
        select(User.id, User.display_name)
        .where(User.id.in_(select(AuditEvent.actor_user_id).where(*_in_scope(agency_ids)).distinct()))
        .order_by(User.display_name, User.id)
    )
    return [(int(i), str(n)) for i, n in session.execute(query)]
