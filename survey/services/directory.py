"""Read-only look-ups of agencies, counters and fields for pages and the CLI."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload, selectinload

from survey.db import db
from survey.models import Agency, Counter, ProcedureField, Response
from survey.services.tokens import CounterToken

#: Hierarchy order for listings: the province first, its service centre, departments, then communes.
KIND_ORDER = {"ministry": 0, "province": 1, "service_centre": 2, "department": 3, "commune": 4}


@dataclass(frozen=True)
class CounterLookup:
    """The outcome of resolving a QR token: the counter, or why it cannot be used."""

    counter: Counter | None
    status: str  # "ok" | "unknown" | "revoked"


def resolve_counter(token: CounterToken | None) -> CounterLookup:
    """An unknown token is 'unknown' (404); a rotated key or inactive counter is 'revoked' (410)."""
    if token is None:
        return CounterLookup(None, "unknown")
    # One query for the counter, its agency (active?) and its instrument (the form).
    counter = db.session.get(
        Counter, token.counter_id, options=[joinedload(Counter.agency), joinedload(Counter.instrument)]
    )
    if counter is None or token.key_version > counter.key_version:
        return CounterLookup(None, "unknown")
    if token.key_version != counter.key_version or not counter.active or not counter.agency.active:
        return CounterLookup(None, "revoked")
    return CounterLookup(counter, "ok")


def agencies_with_counters(agency_code: str | None = None) -> list[Agency]:
    """Active agencies that have counters, in hierarchy order, with counters loaded."""
    query = (
        select(Agency)
        .where(Agency.active.is_(True), Agency.counters.any())
        .options(selectinload(Agency.counters).selectinload(Counter.instrument))
        .order_by(case(KIND_ORDER, value=Agency.kind, else_=len(KIND_ORDER)), Agency.name_vi)
    )
    if agency_code:
        query = query.where(Agency.code == agency_code)
    return list(db.session.scalars(query))


def all_counters(agency_code: str | None = None) -> list[Counter]:
    return [c for agency in agencies_with_counters(agency_code) for c in agency.counters if c.active]


def procedure_fields() -> list[ProcedureField]:
    return list(db.session.scalars(select(ProcedureField).order_by(ProcedureField.name_vi)))


def response_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Response)) or 0


def agency_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Agency)) or 0
