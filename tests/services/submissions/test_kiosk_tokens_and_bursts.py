"""Kiosk links (a counter's tablet): signed under their own salt, revocable alone; a tablet's own burst rule."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select

from survey.db import db
from survey.models import AuditEvent, Counter, Response
from survey.models.review import ResponseFlag
from survey.services.administration import counters as counter_service
from survey.services.administration.directory import counter_ref
from survey.services.submissions.bursts import AUDIT_ACTION, BurstRule, flagged_response_ids
from survey.services.submissions.store import Submission, SubmissionError, store_submission
from survey.services.submissions.tokens import read_counter_token, read_kiosk_token, sign_counter, sign_kiosk

SECRET = "a test secret key that is long enough to sign with"
COUNTER_RULE = BurstRule(window_seconds=300, threshold=10)
KIOSK_RULE = BurstRule(window_seconds=120, threshold=3, collection_mode="kiosk")
T0 = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)


def test_a_qr_token_is_no_kiosk_link_and_a_kiosk_link_no_qr_token() -> None:
    kiosk, qr = sign_kiosk(SECRET, 7, 3), sign_counter(SECRET, 7, 3)
    assert kiosk != qr
    assert read_kiosk_token(SECRET, kiosk) is not None and read_counter_token(SECRET, kiosk) is None
    assert read_counter_token(SECRET, qr) is not None and read_kiosk_token(SECRET, qr) is None
    token = read_kiosk_token(SECRET, kiosk)
    assert token is not None and (token.counter_id, token.key_version) == (7, 3)


@pytest.mark.parametrize(("counter_id", "key_version"), [(2**63, 1), (2**31, 1), (1, 2**31), (0, 1), (1, -1)])
def test_kiosk_links_with_ids_out_of_range_are_no_link(counter_id: int, key_version: int) -> None:
    assert read_kiosk_token(SECRET, sign_kiosk(SECRET, counter_id, key_version)) is None
    assert read_kiosk_token(SECRET, "x" * 201) is None


def _counters() -> list[Counter]:
    return [c for c in db.session.scalars(select(Counter).order_by(Counter.id)) if c.instrument.code == "sipas-2017"]


@pytest.mark.usefixtures("demo")
def test_kiosk_counter_follows_kiosk_mode_the_link_version_and_the_counter() -> None:
    counter = _counters()[0]
    token = read_kiosk_token(SECRET, sign_kiosk(SECRET, counter.id, counter.kiosk_key_version))
    assert counter_service.kiosk_counter(db.session, token) == "revoked"  # kiosk mode is off by default
    counter.kiosk_enabled = True
    db.session.commit()
    ref = counter_service.kiosk_counter(db.session, token)
    assert not isinstance(ref, str) and ref.id == counter.id
    newer = read_kiosk_token(SECRET, sign_kiosk(SECRET, counter.id, counter.kiosk_key_version + 1))
    assert counter_service.kiosk_counter(db.session, newer) == "unknown"
    assert (
        counter_service.kiosk_counter(db.session, read_kiosk_token(SECRET, sign_kiosk(SECRET, 999_999, 1))) == "unknown"
    )
    assert counter_service.kiosk_counter(db.session, None) == "unknown"
    counter.agency.active = False
    db.session.commit()
    assert counter_service.kiosk_counter(db.session, token) == "revoked"


def _submit(counter: Counter, at: dt.datetime, mode: str, overall: int | None = None) -> int:
    answers: dict[str, int | None] = {item.code: 4 for item in counter.instrument.items}
    data = Submission(uuid.uuid4(), answers, collection_mode=mode, overall_score=overall)
    stored = store_submission(
        counter_ref(counter.id), data, "Asia/Ho_Chi_Minh", now=at, burst_rule=COUNTER_RULE, kiosk_burst_rule=KIOSK_RULE
    )
    return stored.response_id


@pytest.mark.usefixtures("demo")
def test_a_tablet_has_a_burst_rule_of_its_own_which_phones_do_not_trigger() -> None:
    counter = _counters()[0]
    # Phones at the same counter, as many as the tablet will send: the counter's rule (10 in 5 min) is not met.
    phones = [_submit(counter, T0 + dt.timedelta(seconds=5 * i), "qr") for i in range(4)]
    assert flagged_response_ids(counter.id) == []
    # Three complete forms from one tablet within two minutes: more than a queue of citizens can give.
    tablet = [_submit(counter, T0 + dt.timedelta(seconds=30 + 40 * i), "kiosk", overall=5) for i in range(3)]
    assert flagged_response_ids(counter.id) == tablet  # only the tablet's, never the phones'
    assert not set(phones) & set(flagged_response_ids(counter.id))
    (event,) = db.session.scalars(select(AuditEvent).where(AuditEvent.action == AUDIT_ACTION))
    assert event.details["collection_mode"] == "kiosk" and event.details["threshold"] == 3
    assert event.details["newly_flagged"] == 3
    stored = db.session.scalars(select(Response).where(Response.id.in_(tablet)))
    assert {(r.collection_mode, r.overall_score, r.status) for r in stored} == {("kiosk", 5, "valid")}
    assert db.session.scalar(select(ResponseFlag.reason).where(ResponseFlag.response_id == tablet[0])) == "burst"


@pytest.mark.usefixtures("demo")
def test_a_tablet_at_a_citizens_pace_is_not_flagged() -> None:
    counter = _counters()[0]
    for i in range(6):
        _submit(counter, T0 + dt.timedelta(seconds=90 * i), "kiosk", overall=4)
    assert flagged_response_ids(counter.id) == []


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize(
    ("mode", "overall", "reason"),
    [
        ("robot", None, "unknown_collection_mode"),
        ("kiosk", 6, "overall_outside_scale"),
        ("kiosk", 0, "overall_outside_scale"),
    ],
)
def test_a_submission_outside_the_codes_is_refused(mode: str, overall: int | None, reason: str) -> None:
    counter = _counters()[0]
    with pytest.raises(SubmissionError) as refused:
        _submit(counter, T0, mode, overall)
    assert refused.value.reason == reason
