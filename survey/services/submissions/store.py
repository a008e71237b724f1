"""Store a citizen's submission: one response row and its answers in one transaction, exactly once.

Also the forms sent back for corrections (:func:`keep_returned_form`): a form with answers to correct is
kept a few minutes, under a random key, for the redirect that shows it again (POST/redirect/GET).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Select, delete, func, literal_column, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from survey.db import db, utcnow
from survey.models import ProcedureField, Response, ReturnedForm
from survey.models.codes import COLLECTION_MODES
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
    #: "qr" (a phone, from the poster) or "kiosk" (the counter's tablet).
    collection_mode: str = "qr"
    #: The kiosk's one-tap overall rating (1 … the scale's top), or None.
    overall_score: int | None = None


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
    "keep_returned_form",
    "returned_form",
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
    kiosk_burst_rule: BurstRule | None = None,
    secret_key: str | None = None,
) -> StoredSubmission:
    """Write the response, its answers and its tallies atomically; a repeated submission id stores nothing new.

    Raises :class:`SubmissionError` for answers that do not fit the instrument and
    :class:`DuplicateDossierError` when the dossier code was already rated at this agency. With a
    ``burst_rule``, a new response that completes a burst at its counter flags the burst for review
    (in its own transaction, after the response is durable); a kiosk response is also held to
    ``kiosk_burst_rule``, which counts only the responses of the counter's tablet. The criteria of a rotated
    questionnaire are assigned from ``secret_key`` (the app's secret key when not given).
    """
    if data.dossier_hash and dossier_already_rated(counter.agency_id, data.dossier_hash):
        existing = find_response(data.submission_id)
        if existing is not None:  # the same submission again, not a second rating of the dossier
            return StoredSubmission(existing.id, created=False)
        raise DuplicateDossierError("dossier already rated at this agency")

    rules = counter.rules
    # A rotated questionnaire: the server, never the client, says which criteria were asked (the same for
    # every replay of the submission id); answers to any other criterion are refused.
    asked = None
    if rules.rotation is not None:
        asked = rules.rotation.assign(secret_key or current_app.config["SECRET_KEY"], data.submission_id)
    check_answers(rules, data.answers, asked.codes if asked is not None else None)
    if data.collection_mode not in COLLECTION_MODES:
        raise SubmissionError("unknown_collection_mode", "unknown collection mode")
    if data.overall_score is not None and not 1 <= data.overall_score <= rules.n_levels:
        raise SubmissionError("overall_outside_scale", "the overall rating is outside the scale")
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
        "collection_mode": data.collection_mode,
        "respondent_type": data.respondent_type,
        "field_id": field_id,
        "gender": data.gender,
        "age_band": data.age_band,
        "education": data.education,
        "occupation": data.occupation,
        "comment": clean_comment(data.comment),
        "dossier_hash": data.dossier_hash,
        "status": "valid",
        "asked_mask": asked.mask if asked is not None else None,
    }
    items = rules.items
    answers = [(items[code].id, score) for code, score in data.answers.items()]
    prepared = prepare(db.session.get_bind().dialect, row, rules.id, rules.satisfied_from, answers)
    burst = False
    kiosk_rule = kiosk_burst_rule if data.collection_mode == "kiosk" else None
    kiosk_burst = False
    try:
        with db.write() as session:
            # Plain SQL on the driver's cursor, in this transaction (see fast_sql.py), with every
            # parameter worked out before the write lock was taken. The unique submission id makes a repeat fail
            # on the first insert, before anything else is written, so a new submission needs no look-up first.
            sql = SubmissionStatements.on(session.connection())
            response_id = sql.write(prepared)
            if data.overall_score is not None:  # a tablet's one-tap rating (not a column of the fast path)
                session.execute(
                    update(Response).where(Response.id == response_id).values(overall_score=data.overall_score)
                )
            tallies.forget_changed_month(session, prepared.key)
            if burst_rule is not None:
                since = received_at - dt.timedelta(seconds=burst_rule.window_seconds)
                in_window = sql.responses_in_window(counter.id, since, received_at, burst_rule.threshold)
                burst = in_window >= burst_rule.threshold
            sql.close()
            if kiosk_rule is not None:
                kiosk_burst = _in_window(session, counter.id, received_at, kiosk_rule) >= kiosk_rule.threshold
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
    if kiosk_rule is not None and kiosk_burst:
        _check_burst(counter.id, received_at, kiosk_rule)
    return StoredSubmission(response_id, created=True)


def _in_window(session: Session, counter_id: int, until: dt.datetime, rule: BurstRule) -> int:
    """How many of the counter's responses of ``rule.collection_mode`` fall in the rule's window ending at
    ``until``, counting no further than the threshold (the (counter, received_at) index holds the window)."""
    since = until - dt.timedelta(seconds=rule.window_seconds)
    conditions = [Response.counter_id == counter_id, Response.received_at > since, Response.received_at <= until]
    if rule.collection_mode is not None:
        conditions.append(Response.collection_mode == rule.collection_mode)
    window: Select[tuple[Any]] = (
        select(literal_column("1")).select_from(Response).where(*conditions).limit(rule.threshold)
    )
    return int(session.scalar(select(func.count()).select_from(window.subquery())) or 0)


def _check_burst(counter_id: int, received_at: dt.datetime, rule: BurstRule) -> None:
    """The response is already committed: a failing burst check must not turn it into an error page."""
    try:
        flag_burst(counter_id, received_at, rule)
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("burst check failed at counter %s", counter_id)


# -- forms sent back for corrections (POST/redirect/GET) -------------------------------------------------------

#: Seconds a form sent back for corrections waits for the redirect that shows it.
RETURNED_FORM_SECONDS = 600
#: The most fields, and the longest value, kept of one posted form (longer values are cut: the page then
#: still says the comment is too long, and nothing larger than a real form is ever written).
RETURNED_FORM_MAX_FIELDS = 80
RETURNED_FORM_MAX_VALUE = 4100
#: The shape of a key in a redirect's address (``secrets.token_urlsafe(18)`` makes 24 of these).
_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("ascii")).hexdigest()


def keep_returned_form(
    counter_id: int, status: int, fields: Iterable[tuple[str, str]], now: dt.datetime | None = None
) -> str:
    """Keep a posted form with answers to correct; the random key of the redirect that shows it again.

    Kept in the database, so the redirect may reach any app node; only the key's digest is stored, and
    forms past their time are deleted here, by the next one kept.
    """
    now = now or utcnow()
    kept = [[name, value[:RETURNED_FORM_MAX_VALUE]] for name, value in fields][:RETURNED_FORM_MAX_FIELDS]
    key = secrets.token_urlsafe(18)
    with db.write() as session:
        session.execute(delete(ReturnedForm).where(ReturnedForm.expires_at <= now))
        session.add(
            ReturnedForm(
                key_digest=_digest(key),
                counter_id=counter_id,
                status=status,
                fields=json.dumps(kept, ensure_ascii=False),
                created_at=now,
                expires_at=now + dt.timedelta(seconds=RETURNED_FORM_SECONDS),
            )
        )
    return key


def returned_form(
    counter_id: int, key: str, consume: bool = True, now: dt.datetime | None = None
) -> tuple[int, list[tuple[str, str]]] | None:
    """The status and fields of the form kept under ``key`` for this counter, deleted as it is read
    (``consume``, which also deletes every expired form); None for a malformed, unknown, expired or already
    shown key, or another counter's."""
    if not _KEY.match(key):
        return None
    now = now or utcnow()
    digest = _digest(key)
    if not consume:
        row = db.session.get(ReturnedForm, digest)
        return _fields(row, counter_id, now)
    with db.write() as session:
        row = session.get(ReturnedForm, digest)
        found = _fields(row, counter_id, now)
        if found is not None:
            session.delete(row)
        # Forms past their time go too (each page that uses a key, and each form kept, clears them).
        session.execute(delete(ReturnedForm).where(ReturnedForm.expires_at <= now))
    return found


def _fields(row: ReturnedForm | None, counter_id: int, now: dt.datetime) -> tuple[int, list[tuple[str, str]]] | None:
    if row is None or row.counter_id != counter_id or row.expires_at <= now:
        return None
    return row.status, [(str(name), str(value)) for name, value in json.loads(row.fields)]
