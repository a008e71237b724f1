"""Counter administration within an agency: rename, (de)activate, rotate the QR key, choose the instrument,
and kiosk mode (a tablet on the counter's desk taking answers through a link of its own).

Every change runs in one transaction with its audit event. Callers pass the agency the user may manage
(checked against the user's scope by ``survey.auth``); a counter of another agency is "not found".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from survey.db import db
from survey.models import Agency, Counter, Instrument, ProcedureField
from survey.models.agency import KIOSK_RESET_MAX, KIOSK_RESET_MIN
from survey.services.administration.directory import CounterRef, Unavailable, counter_ref
from survey.services.identity import audit
from survey.services.submissions.tokens import CounterToken

MAX_NAME_LENGTH = 255


class CounterError(ValueError):
    """A counter change was refused; ``code`` names why (``not_found``, ``name_required``, ``no_instrument``,
    ``no_field``, ``bad_reset``)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def counters_of(session: Session, agency_id: int) -> list[Counter]:
    """The agency's counters (active and not), by code, with their instruments."""
    return list(
        session.scalars(
            select(Counter)
            .where(Counter.agency_id == agency_id)
            .options(selectinload(Counter.instrument))
            .order_by(Counter.code)
        )
    )


def counters_of_agencies(session: Session, agency_ids: Sequence[int]) -> list[Counter]:
    """The counters of these agencies (active and not), by code, with their agencies."""
    return list(
        session.scalars(
            select(Counter)
            .where(Counter.agency_id.in_(agency_ids))
            .options(selectinload(Counter.agency))
            .order_by(Counter.code)
        )
    )


def counter_of(session: Session, agency_id: int, counter_id: int) -> Counter | None:
    return session.scalar(select(Counter).where(Counter.id == counter_id, Counter.agency_id == agency_id))


def instrument_choices(session: Session, agency_id: int | None = None) -> list[Instrument]:
    """Instruments a counter may use: the latest published version of each questionnaire, among the shipped
    ones and those authored by the counter's province (``agency_id``: the counter's agency). Drafts and retired
    versions are never offered."""
    owners: list[int] = []
    node = session.get(Agency, agency_id) if agency_id is not None else None
    while node is not None and node.id not in owners:
        owners.append(node.id)
        node = node.parent
    offered = (Instrument.status == "published") & or_(
        Instrument.owner_agency_id.is_(None), Instrument.owner_agency_id.in_(owners)
    )
    latest = (
        select(Instrument.code, func.max(Instrument.version).label("version"))
        .where(offered)
        .group_by(Instrument.code)
        .subquery()
    )
    return list(
        session.scalars(
            select(Instrument)
            .join(latest, (Instrument.code == latest.c.code) & (Instrument.version == latest.c.version))
            .order_by(Instrument.code)
        )
    )


def _load(session: Session, agency_id: int, counter_id: int) -> Counter:
    counter = session.scalar(
        select(Counter).where(Counter.id == counter_id, Counter.agency_id == agency_id).with_for_update()
    )
    if counter is None:
        raise CounterError("not_found")
    return counter


def _record_changes(
    session: Session, event: str, counter: Counter, agency_id: int, changed: dict[str, Any], actor_user_id: int
) -> None:
    """Audit what an update changed, as one event; an update that changed nothing leaves no event."""
    if changed:
        audit.record(
            session,
            event,
            actor_user_id=actor_user_id,
            target_type="counter",
            target_id=counter.id,
            details={"agency_id": agency_id, **changed},
        )


def update_counter(
    agency_id: int,
    counter_id: int,
    name_vi: str,
    name_en: str | None,
    instrument_id: int,
    actor_user_id: int,
    field_code: str | None = None,
) -> Counter:
    """Rename a counter, choose its instrument and the field it serves (the QR code stays valid). Audited as
    ``counter.updated``."""
    name_vi = name_vi.strip()
    name_en = (name_en or "").strip() or None
    field_code = (field_code or "").strip() or None
    if not name_vi or len(name_vi) > MAX_NAME_LENGTH or (name_en and len(name_en) > MAX_NAME_LENGTH):
        raise CounterError("name_required")
    with db.write() as session:
        counter = _load(session, agency_id, counter_id)
        if instrument_id not in {i.id for i in instrument_choices(session, agency_id)}:
            raise CounterError("no_instrument")
        if (
            field_code is not None
            and session.scalar(select(ProcedureField.id).where(ProcedureField.code == field_code)) is None
        ):
            raise CounterError("no_field")
        changed: dict[str, Any] = {}
        if counter.name_vi != name_vi or counter.name_en != name_en:
            changed["name"] = True
            counter.name_vi, counter.name_en = name_vi, name_en
        if counter.instrument_id != instrument_id:
            changed["instrument"] = {"from": counter.instrument_id, "to": instrument_id}
            counter.instrument_id = instrument_id
        if counter.field_code != field_code:
            changed["field"] = {"from": counter.field_code, "to": field_code}
            counter.field_code = field_code
        _record_changes(session, "counter.updated", counter, agency_id, changed, actor_user_id)
    return counter


def set_active(agency_id: int, counter_id: int, active: bool, actor_user_id: int) -> Counter:
    """Open or close a counter: a closed counter's QR code shows "no longer in use". Audited."""
    with db.write() as session:
        counter = _load(session, agency_id, counter_id)
        if counter.active != active:
            counter.active = active
            audit.record(
                session,
                "counter.activated" if active else "counter.deactivated",
                actor_user_id=actor_user_id,
                target_type="counter",
                target_id=counter.id,
                details={"agency_id": agency_id},
            )
    return counter


def rotate_key(agency_id: int, counter_id: int, actor_user_id: int) -> Counter:
    """Bump the key version: every printed poster of this counter stops working. Audited."""
    with db.write() as session:
        counter = _load(session, agency_id, counter_id)
        counter.key_version += 1
        audit.record(
            session,
            "counter.key_rotated",
            actor_user_id=actor_user_id,
            target_type="counter",
            target_id=counter.id,
            details={"agency_id": agency_id, "key_version": counter.key_version},
        )
    return counter


def set_kiosk(agency_id: int, counter_id: int, enabled: bool, reset_seconds: int, actor_user_id: int) -> Counter:
    """Switch the counter's kiosk mode on or off and set its reset delay. Audited as ``counter.kiosk_updated``.

    Switching it off also retires the kiosk link (its key version goes up), so a tablet taken away or lost
    never works again, even once kiosk mode is back on: staff then set the tablet up with the new link.
    """
    if not KIOSK_RESET_MIN <= reset_seconds <= KIOSK_RESET_MAX:
        raise CounterError("bad_reset")
    with db.write() as session:
        counter = _load(session, agency_id, counter_id)
        changed: dict[str, Any] = {}
        if counter.kiosk_enabled != enabled:
            changed["enabled"] = enabled
            counter.kiosk_enabled = enabled
            if not enabled:
                counter.kiosk_key_version += 1
                changed["kiosk_key_version"] = counter.kiosk_key_version
        if counter.kiosk_reset_seconds != reset_seconds:
            changed["reset_seconds"] = {"from": counter.kiosk_reset_seconds, "to": reset_seconds}
            counter.kiosk_reset_seconds = reset_seconds
        _record_changes(session, "counter.kiosk_updated", counter, agency_id, changed, actor_user_id)
    return counter


def new_kiosk_link(agency_id: int, counter_id: int, actor_user_id: int) -> Counter:
    """Retire the counter's kiosk link and make a new one (the tablet must be set up again). Audited."""
    with db.write() as session:
        counter = _load(session, agency_id, counter_id)
        counter.kiosk_key_version += 1
        audit.record(
            session,
            "counter.kiosk_key_rotated",
            actor_user_id=actor_user_id,
            target_type="counter",
            target_id=counter.id,
            details={"agency_id": agency_id, "kiosk_key_version": counter.kiosk_key_version},
        )
    return counter


def kiosk_counter(session: Session, token: CounterToken | None) -> CounterRef | Unavailable:
    """The counter behind a kiosk link, or why it cannot be used: "unknown" (404) for a key version never
    issued or no such counter; "revoked" (410) for an old link, kiosk mode off, or a closed counter or agency.

    A tablet sends a form a minute at most, so this is an ordinary query, not the QR path's cursor read.
    """
    if token is None:
        return "unknown"
    row = session.execute(
        select(Counter.kiosk_key_version, Counter.kiosk_enabled, Counter.active, Agency.active)
        .join(Agency, Agency.id == Counter.agency_id)
        .where(Counter.id == token.counter_id)
    ).first()
    if row is None:
        return "unknown"
    key_version, enabled, active, agency_active = row
    if token.key_version > key_version:
        return "unknown"
    if token.key_version != key_version or not (enabled and active and agency_active):
        return "revoked"
    ref = counter_ref(token.counter_id)
    return "unknown" if ref is None else ref


#: Counter and agency codes: lowercase letters, digits and single hyphens (they appear in URLs and files).
CODE_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_CODE_LENGTH = 40


def create_counter(
    agency_id: int, code: str, name_vi: str, name_en: str | None, instrument_id: int, actor_user_id: int
) -> Counter:
    """Add an open counter to an agency (key version 1). Refused codes: ``bad_code``, ``code_taken``,
    ``name_required``, ``no_instrument``. Audited as ``counter.created``."""
    code = code.strip().lower()
    name_vi = name_vi.strip()
    name_en = (name_en or "").strip() or None
    if not CODE_PATTERN.match(code) or len(code) > MAX_CODE_LENGTH:
        raise CounterError("bad_code")
    if not name_vi or len(name_vi) > MAX_NAME_LENGTH or (name_en and len(name_en) > MAX_NAME_LENGTH):
        raise CounterError("name_required")
    with db.write() as session:
        if instrument_id not in {i.id for i in instrument_choices(session, agency_id)}:
            raise CounterError("no_instrument")
        taken = session.scalar(select(Counter.id).where(Counter.agency_id == agency_id, Counter.code == code))
        if taken is not None:
            raise CounterError("code_taken")
        counter = Counter(agency_id=agency_id, code=code, name_vi=name_vi, name_en=name_en, instrument_id=instrument_id)
        session.add(counter)
        session.flush()
        audit.record(
            session,
            "counter.created",
            actor_user_id=actor_user_id,
            target_type="counter",
            target_id=counter.id,
            details={"agency_id": agency_id, "code": code, "instrument_id": instrument_id},
        )
    return counter
