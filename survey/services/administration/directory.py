"""Read-only look-ups of agencies, counters and fields for pages and the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Literal

from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload, selectinload

from survey.bounded_int import parse_id
from survey.db import db
from survey.models import Agency, Counter, Instrument, ProcedureField, Response
from survey.services.administration.instruments import InstrumentRules, cached_rules, instrument_rules
from survey.services.submissions.fast_sql import counter_row
from survey.services.submissions.tokens import CounterToken

#: Hierarchy order for listings: the province first, its service centre, departments, then communes.
KIND_ORDER = {"ministry": 0, "province": 1, "service_centre": 2, "department": 3, "commune": 4}


@dataclass(frozen=True)
class CounterRef:
    """A resolved counter, the one type every counter look-up returns: its ids and its questionnaire's rules
    as plain data (all a submission needs), and the mapped counter on demand for the pages that show it.
    """

    id: int
    agency_id: int
    instrument_id: int
    rules: InstrumentRules

    @cached_property
    def counter(self) -> Counter:
        """The mapped counter with its agency and instrument, for rendering (one query by primary key, made
        at most once per look-up; none when the session already holds them)."""
        counter = db.session.get(Counter, self.id, options=[joinedload(Counter.agency), joinedload(Counter.instrument)])
        assert counter is not None  # the look-up just read its row, in this transaction
        return counter


#: Why a token does not lead to a usable counter: "unknown" (404) or "revoked" (410).
Unavailable = Literal["unknown", "revoked"]


def resolve_counter(token: CounterToken | None) -> CounterRef | Unavailable:
    """The counter behind a QR token, or why it cannot be used.

    An unknown token is "unknown" (404); a rotated key or an inactive counter or agency is "revoked" (410).
    One row of plain columns, read on the driver's cursor, and the rules from the per-digest cache (the
    instrument itself is loaded only the first time a digest is seen). A token's ids are within the
    columns' range (``read_counter_token`` refuses others), so the look-up is safe.
    """
    if token is None:
        return "unknown"
    row = counter_row(db.session.connection(), token.counter_id)
    if row is None:
        return "unknown"
    counter_id, agency_id, key_version, active, agency_active, instrument_id, digest = row
    status = _token_status(token, key_version, active and agency_active)
    if status != "ok":
        return status
    return CounterRef(counter_id, agency_id, instrument_id, _rules(instrument_id, digest))


def _token_status(token: CounterToken, key_version: int, usable: bool) -> Literal["ok", "unknown", "revoked"]:
    """'unknown' for a key version never issued (404); 'revoked' for a rotated key or a closed counter or
    agency (410); else 'ok'."""
    if token.key_version > key_version:
        return "unknown"
    if token.key_version != key_version or not usable:
        return "revoked"
    return "ok"


def counter_ref(counter_id: int) -> CounterRef | None:
    """Counter ``counter_id``, active or not (None when there is no such counter): a look-up by id, no token."""
    row = counter_row(db.session.connection(), counter_id) if parse_id(counter_id) is not None else None
    if row is None:
        return None
    counter_id, agency_id, _key_version, _active, _agency_active, instrument_id, digest = row
    return CounterRef(counter_id, agency_id, instrument_id, _rules(instrument_id, digest))


def _rules(instrument_id: int, digest: str) -> InstrumentRules:
    rules = cached_rules(instrument_id, digest)
    if rules is None:
        instrument = db.session.get(Instrument, instrument_id)
        assert instrument is not None  # the counter's row joined it
        rules = instrument_rules(instrument)
    return rules


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
