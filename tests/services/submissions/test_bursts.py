"""Burst detection flags (never deletes) many responses from one counter in a short window."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import func, select

from survey.db import db
from survey.models import AuditEvent, Counter, Response
from survey.services.administration.directory import counter_ref
from survey.services.submissions.bursts import AUDIT_ACTION, BurstRule, flagged_response_ids
from survey.services.submissions.store import Submission, store_submission

pytestmark = pytest.mark.usefixtures("demo")

RULE = BurstRule(window_seconds=300, threshold=4)
T0 = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)


def _counters() -> list[Counter]:
    return [c for c in db.session.scalars(select(Counter).order_by(Counter.id)) if c.instrument.code == "sipas-2017"]


def _submit(counter: Counter, at: dt.datetime) -> int:
    answers: dict[str, int | None] = {item.code: 4 for item in counter.instrument.items}
    stored = store_submission(
        counter_ref(counter.id), Submission(uuid.uuid4(), answers), "Asia/Ho_Chi_Minh", now=at, burst_rule=RULE
    )
    return stored.response_id


def _audit_events() -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == AUDIT_ACTION).order_by(AuditEvent.id)))


def test_responses_spread_over_time_are_not_flagged() -> None:
    counter = _counters()[0]
    for minutes in (0, 6, 12, 18, 24):
        _submit(counter, T0 + dt.timedelta(minutes=minutes))
    assert flagged_response_ids(counter.id) == []
    assert _audit_events() == []


def test_a_burst_is_flagged_for_review_and_audited_but_kept() -> None:
    counter, other = _counters()[:2]
    responses_before = db.session.scalar(select(func.count()).select_from(Response))
    ids = [_submit(counter, T0 + dt.timedelta(seconds=20 * i)) for i in range(3)]
    _submit(other, T0 + dt.timedelta(seconds=30))
    assert flagged_response_ids(counter.id) == []
    ids.append(_submit(counter, T0 + dt.timedelta(seconds=70)))
    assert flagged_response_ids(counter.id) == ids
    assert flagged_response_ids(other.id) == []
    (event,) = _audit_events()
    assert (event.target_type, event.target_id) == ("counter", str(counter.id))
    assert event.details["responses_in_window"] == 4 and event.details["newly_flagged"] == 4
    assert event.details["window_seconds"] == 300 and event.details["threshold"] == 4
    # Nothing deleted or excluded: flags only.
    assert db.session.scalar(select(func.count()).select_from(Response)) == responses_before + 5
    assert {r.status for r in db.session.scalars(select(Response).where(Response.id.in_(ids)))} == {"valid"}
    # The burst goes on: the next response is flagged too, in a second audit event.
    ids.append(_submit(counter, T0 + dt.timedelta(seconds=90)))
    assert flagged_response_ids(counter.id) == ids
    assert [e.details["newly_flagged"] for e in _audit_events()] == [4, 1]
