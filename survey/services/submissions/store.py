"""Store a citizen's submission: one response row and its answers in one transaction, exactly once."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from survey.db import db, utcnow
from survey.models import ProcedureField, Response
from survey.services.administration.directory import CounterRef
from survey.services.statistics import tallies
from survey.services.submissions.bursts import BurstRule, flag_burst
from survey.services.submissions.fast_sql import SubmissionStatements, prepare
from survey.services.submissions.form_rules import SubmissionError, check_answers
from survey.services.submissions.scrub import clean_comment

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Submission:
    """A validated form, in codes. ``answers`` maps item code → score 1–5, or None for "not applicable"."""

    submission_id: uuid.UUID
    answers: dict[str, int | None]
    respondent_type: str = "person"
    field_code: str | None = None
    gender: str | None = None
    age_band: str | None = None
    education: str | None = None
    occupation: str | None = None
    comment: str | None = None
    #: Keyed hash of the dossier code (see ``services.dossiers``); never the code itself.
    dossier_hash: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StoredSubmission:
    response_id: int
    created: bool


__all__ = [
    "DuplicateDossierError",
    "StoredSubmission",
    "Submission",
    "SubmissionError",
    "check_answers",
    "store_submission",
]


class DuplicateDossierError(ValueError):
    """This agency already has a rating for the dossier code (one rating per dossier per agency)."""


def dossier_already_rated(agency_id: int, dossier_hash: str) -> bool:
    return (
        db.session.scalar(
            select(Response.id).where(Response.agency_id == agency_id, Response.dossier_hash == dossier_hash)
        )
        is not None
    )


def find_response(submission_id: uuid.UUID) -> Response | None:
    return db.session.scalar(select(Response).where(Response.submission_id == submission_id))


def store_submission(
    counter: CounterRef,
    data: Submission,
    timezone: str,
    now: dt.datetime | None = None,
    burst_rule: BurstRule | None = None,
) -> StoredSubmission:
    """Write the response, its answers and its tallies atomically; a repeated submission id stores nothing new.

    Raises :class:`SubmissionError` for answers that do not fit the instrument and
    :class:`DuplicateDossierError` when the dossier code was already rated at this agency. With a
    ``burst_rule``, a new response that completes a burst at its counter flags the burst for review
    (in its own transaction, after the response is durable).
    """
    if data.dossier_hash and dossier_already_rated(counter.agency_id, data.dossier_hash):
        existing = find_response(data.submission_id)
        if existing is not None:  # the same submission again, not a second rating of the dossier
            return StoredSubmission(existing.id, created=False)
        raise DuplicateDossierError("dossier already rated at this agency")

    rules = counter.rules
    check_answers(rules, data.answers)
    received_at = now or utcnow()
    field_id = None
    if data.field_code:
        field_id = db.session.scalar(select(ProcedureField.id).where(ProcedureField.code == data.field_code))
        if field_id is None:
            # The posted value is citizen-supplied text (up to the request size): never in a message or a log.
            raise SubmissionError("unknown_field", "unknown field of procedure")

    row = {
        "submission_id": data.submission_id,
        "agency_id": counter.agency_id,
        "counter_id": counter.id,
        "instrument_id": rules.id,
        "received_at": received_at,
        "received_on": received_at.astimezone(ZoneInfo(timezone)).date(),
        "channel": "in_person",
        "collection_mode": "qr",
        "respondent_type": data.respondent_type,
        "field_id": field_id,
        "gender": data.gender,
        "age_band": data.age_band,
        "education": data.education,
        "occupation": data.occupation,
        "comment": clean_comment(data.comment),
        "dossier_hash": data.dossier_hash,
        "status": "valid",
    }
    items = rules.items
    answers = [(items[code].id, score) for code, score in data.answers.items()]
    prepared = prepare(db.session.get_bind().dialect, row, rules.id, rules.satisfied_from, answers)
    burst = False
    try:
        with db.write() as session:
            # Plain SQL on the driver's cursor, in this transaction (see fast_sql.py), with every
            # parameter worked out before the write lock was taken. The unique submission id makes a repeat fail
            # on the first insert, before anything else is written, so a new submission needs no look-up first.
            sql = SubmissionStatements.on(session.connection())
            response_id = sql.write(prepared)
            tallies.forget_changed_month(session, prepared.key)
            if burst_rule is not None:
                since = received_at - dt.timedelta(seconds=burst_rule.window_seconds)
                in_window = sql.responses_in_window(counter.id, since, received_at, burst_rule.threshold)
                burst = in_window >= burst_rule.threshold
            sql.close()
    except IntegrityError:
        # The same submission again (double tap, retry, offline replay), or two ratings of one dossier raced.
        existing = find_response(data.submission_id)
        if existing is not None:
            return StoredSubmission(existing.id, created=False)
        if data.dossier_hash and dossier_already_rated(counter.agency_id, data.dossier_hash):
            raise DuplicateDossierError("dossier already rated at this agency") from None
        raise
    if burst_rule is not None and burst:
        _check_burst(counter.id, received_at, burst_rule)
    return StoredSubmission(response_id, created=True)


def _check_burst(counter_id: int, received_at: dt.datetime, rule: BurstRule) -> None:
    """The response is already committed: a failing burst check must not turn it into an error page."""
    try:
        flag_burst(counter_id, received_at, rule)
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("burst check failed at counter %s", counter_id)
