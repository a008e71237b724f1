"""Provinces author their own questionnaire versions: upload a draft, preview it, publish it, retire it.

A version is a **draft** until published: it can be replaced by another upload of the same code and version,
and it is never offered to counters, so it has no responses. **Publishing** freezes it: its wording never
changes again (a change is a new version). Assigning a published version to counters is the counters page's
own, audited step. **Retiring** keeps the version with its responses and reports and stops offering it to
counters (refused while an open counter still uses it). Every step is audited.

A province administrator works within the province: the versions it authored (``owner_agency_id``), and
the shipped versions, which every province may read and assign but only a system administrator retires.
Uploads go through the one validator of the data files (``instrument_documents.read_document``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey.auth import Scope
from survey.db import db
from survey.models import Agency, Counter, Instrument, Response
from survey.services.administration.instrument_documents import read_document
from survey.services.administration.instruments import build_instrument, replace_instrument
from survey.services.identity import audit

STATUSES = ("draft", "published", "retired")


class AuthoringError(Exception):
    """A step that cannot be taken. ``code`` picks the translated message; ``count`` fills it."""

    def __init__(self, code: str, count: int = 0) -> None:
        super().__init__(code)
        self.code, self.count = code, count


@dataclass(frozen=True)
class VersionRow:
    instrument: Instrument
    responses: int
    counters: int  # open counters that use it
    manageable: bool


def owner_province(session: Session, scope: Scope) -> int | None:
    """The province a user authors for: the province agency at the top of their scope; None for a system
    administrator (their uploads are shipped-like versions every province may use)."""
    if scope.everything:
        return None
    return session.scalar(
        select(Agency.id).where(Agency.id.in_(scope.agency_ids), Agency.kind == "province").order_by(Agency.id)
    )


def manageable(instrument: Instrument, scope: Scope) -> bool:
    """May this user publish, retire or replace the version: their province's own, or anything for a system
    administrator."""
    return scope.everything or (
        instrument.owner_agency_id is not None and instrument.owner_agency_id in scope.agency_ids
    )


def visible(instrument: Instrument, scope: Scope) -> bool:
    return scope.everything or instrument.owner_agency_id is None or instrument.owner_agency_id in scope.agency_ids


def versions(session: Session, scope: Scope) -> list[VersionRow]:
    """Every version the user may see, newest first within each questionnaire, with its use."""
    responses = dict(
        session.execute(select(Response.instrument_id, func.count()).group_by(Response.instrument_id)).all()
    )
    counters = dict(
        session.execute(
            select(Counter.instrument_id, func.count()).where(Counter.active).group_by(Counter.instrument_id)
        ).all()
    )
    rows = []
    for instrument in session.scalars(select(Instrument).order_by(Instrument.code, Instrument.version.desc())):
        if visible(instrument, scope):
            rows.append(
                VersionRow(
                    instrument,
                    int(responses.get(instrument.id, 0)),
                    int(counters.get(instrument.id, 0)),
                    manageable(instrument, scope),
                )
            )
    return rows


def version_for(session: Session, scope: Scope, instrument_id: int) -> Instrument | None:
    """The version if the user may see it (None: shown as not found, never as another province's)."""
    instrument = session.get(Instrument, instrument_id)
    return instrument if instrument is not None and visible(instrument, scope) else None


def save_draft(scope: Scope, actor_user_id: int | None, file_name: str, data: bytes) -> tuple[Instrument, bool]:
    """Store an uploaded questionnaire as a draft: a new version, or a replacement of the same draft.

    Returns the draft and whether it replaced one. Raises InstrumentFileError (with every problem) for a bad
    file, AuthoringError("frozen") for a version already published or retired, ("not_yours") for another
    province's draft.
    """
    spec = read_document(file_name, data)
    with db.write() as session:
        existing = session.scalar(
            select(Instrument).where(Instrument.code == spec.code, Instrument.version == spec.version)
        )
        if existing is not None:
            if existing.status != "draft":
                raise AuthoringError("frozen", existing.version + 1)
            if not manageable(existing, scope):
                raise AuthoringError("not_yours")
            replace_instrument(session, existing, spec)
            instrument, replaced = existing, True
        else:
            instrument = Instrument(code=spec.code, version=spec.version, status="draft")
            instrument.owner_agency_id = owner_province(session, scope)
            build_instrument(spec, instrument)
            session.add(instrument)
            session.flush()
            replaced = False
        audit.record(
            session,
            "instrument.draft_replaced" if replaced else "instrument.draft_saved",
            actor_user_id=actor_user_id,
            target_type="instrument",
            target_id=instrument.label,
            agency_id=instrument.owner_agency_id,
            details={"file": file_name[:120], "criteria": len(spec.items), "digest": spec.digest()},
        )
    return instrument, replaced


def _step(scope: Scope, actor_user_id: int, instrument_id: int, wanted: str) -> Instrument:
    """Publish, retire or delete one version in its own transaction (``wanted``: the step)."""
    with db.write() as session:
        instrument = session.get(Instrument, instrument_id, with_for_update=True)
        if instrument is None or not visible(instrument, scope):
            raise AuthoringError("not_found")
        if not manageable(instrument, scope):
            raise AuthoringError("not_yours")
        needs = {"publish": "draft", "retire": "published", "delete": "draft"}[wanted]
        if instrument.status != needs:
            raise AuthoringError(f"not_{needs}")
        if wanted == "retire":
            in_use = session.scalar(
                select(func.count()).select_from(Counter).where(Counter.instrument_id == instrument.id, Counter.active)
            )
            if in_use:
                raise AuthoringError("in_use", int(in_use))
        label, owner = instrument.label, instrument.owner_agency_id
        if wanted == "delete":
            if session.scalar(
                select(func.count()).select_from(Response).where(Response.instrument_id == instrument.id)
            ):
                raise AuthoringError("has_responses")  # never for a draft (no counter offers one); kept as a guard
            session.delete(instrument)
        else:
            instrument.status = "published" if wanted == "publish" else "retired"
        audit.record(
            session,
            {"publish": "instrument.published", "retire": "instrument.retired", "delete": "instrument.draft_deleted"}[
                wanted
            ],
            actor_user_id=actor_user_id,
            target_type="instrument",
            target_id=label,
            agency_id=owner,
        )
    return instrument


def publish(scope: Scope, actor_user_id: int, instrument_id: int) -> Instrument:
    """Freeze a draft: from now on it can be assigned to counters and never changes."""
    return _step(scope, actor_user_id, instrument_id, "publish")


def retire(scope: Scope, actor_user_id: int, instrument_id: int) -> Instrument:
    """Stop offering a published version to counters; its responses and reports stay."""
    return _step(scope, actor_user_id, instrument_id, "retire")


def delete_draft(scope: Scope, actor_user_id: int, instrument_id: int) -> None:
    """Delete a draft (it never had responses)."""
    _step(scope, actor_user_id, instrument_id, "delete")
