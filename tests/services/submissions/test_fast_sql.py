"""The submission's plain-SQL statements write what the ORM would write, and fail as SQLAlchemy fails."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from survey.db import db
from survey.models import Answer, Counter, ProcedureField, Response
from survey.services.administration.directory import counter_ref
from survey.services.submissions import dossiers
from survey.services.submissions.fast_sql import SubmissionStatements, prepare
from survey.services.submissions.store import Submission, store_submission

pytestmark = pytest.mark.usefixtures("demo")

AT = dt.datetime(2026, 11, 20, 16, 59, 58, 123456, tzinfo=dt.UTC)  # 23:59 in Hà Nội: the local day is the 20th


def _counter() -> Counter:
    counter = db.session.scalars(select(Counter).order_by(Counter.id)).first()
    assert counter is not None
    return counter


def test_a_stored_submission_reads_back_through_the_orm_as_submitted(app: Flask) -> None:
    counter = _counter()
    field = db.session.scalars(select(ProcedureField).order_by(ProcedureField.id)).first()
    assert field is not None
    items = counter.instrument.items
    answers: dict[str, int | None] = {
        item.code: (None if item.allows_na else 1 + i % 5) for i, item in enumerate(items)
    }
    data = Submission(
        submission_id=uuid.uuid4(),
        answers=answers,
        respondent_type="organisation",
        field_code=field.code,
        gender="female",
        age_band="25-34",
        education="university",
        occupation="public_sector",
        comment="  Rất tốt\r\n",
        dossier_hash=dossiers.dossier_hash("k", "000.00.17.H43-250701-0001"),
    )
    stored = store_submission(counter_ref(counter.id), data, "Asia/Ho_Chi_Minh", now=AT)
    db.session.expire_all()
    response = db.session.get(Response, stored.response_id)
    assert response is not None
    assert response.submission_id == data.submission_id
    assert response.received_at == AT
    assert response.received_on == dt.date(2026, 11, 20)
    assert (response.agency_id, response.counter_id, response.instrument_id, response.field_id) == (
        counter.agency_id,
        counter.id,
        counter.instrument_id,
        field.id,
    )
    assert (response.respondent_type, response.gender, response.age_band) == ("organisation", "female", "25-34")
    assert (response.education, response.occupation, response.status) == ("university", "public_sector", "valid")
    assert (response.channel, response.collection_mode) == ("in_person", "qr")
    assert response.comment == "Rất tốt" and response.dossier_hash == data.dossier_hash
    stored_answers = dict(
        db.session.execute(select(Answer.item_id, Answer.score).where(Answer.response_id == response.id)).all()
    )
    assert stored_answers == {item.id: answers[item.code] for item in items}
    # The ORM finds it by the values it binds itself (the same text on SQLite, the same types on PostgreSQL).
    assert db.session.scalar(select(Response.id).where(Response.submission_id == data.submission_id)) == response.id
    assert db.session.scalar(select(Response.id).where(Response.received_at == AT)) == response.id


def test_the_raw_columns_equal_an_orm_written_row(app: Flask) -> None:
    counter = _counter()
    answers: dict[str, int | None] = {item.code: 3 for item in counter.instrument.items}
    raw_id = store_submission(
        counter_ref(counter.id), Submission(uuid.uuid4(), answers), "Asia/Ho_Chi_Minh", now=AT
    ).response_id
    with db.write() as session:
        orm = Response(
            submission_id=uuid.uuid4(),
            agency_id=counter.agency_id,
            counter_id=counter.id,
            instrument_id=counter.instrument_id,
            received_at=AT,
            received_on=dt.date(2026, 11, 20),
            status="valid",
        )
        session.add(orm)
        session.flush()
        orm_id = orm.id
    cursor = db.session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    columns = "received_at, received_on, length(CAST(submission_id AS TEXT)), channel, collection_mode, status"
    rows = {}
    for response_id in (raw_id, orm_id):
        cursor.execute(f"SELECT {columns} FROM responses WHERE id = {int(response_id)}")  # noqa: S608
        rows[response_id] = cursor.fetchone()
    assert rows[raw_id] == rows[orm_id]


def test_a_driver_error_arrives_as_sqlalchemys_and_writes_nothing(app: Flask) -> None:
    counter = _counter()
    before = db.session.scalar(select(Response.id).order_by(Response.id.desc()).limit(1))
    row = {
        "submission_id": uuid.uuid4(),
        "agency_id": 2_000_000_000,  # no such agency: the foreign key refuses it
        "counter_id": counter.id,
        "instrument_id": counter.instrument_id,
        "received_at": AT,
        "received_on": AT.date(),
        "channel": "in_person",
        "collection_mode": "qr",
        "respondent_type": "person",
        "field_id": None,
        "gender": None,
        "age_band": None,
        "education": None,
        "occupation": None,
        "comment": None,
        "dossier_hash": None,
        "status": "valid",
        "asked_mask": None,
    }
    with pytest.raises(IntegrityError), db.write() as session:
        SubmissionStatements.on(session.connection()).write(
            prepare(session.connection().dialect, row, counter.instrument_id, 4, [])
        )
    assert db.session.scalar(select(Response.id).order_by(Response.id.desc()).limit(1)) == before


def test_the_burst_window_is_half_open_and_counts_no_further_than_its_limit(app: Flask) -> None:
    counter = _counter()
    answers: dict[str, int | None] = {item.code: 4 for item in counter.instrument.items}
    times = [AT + dt.timedelta(seconds=s) for s in (0, 10, 20, 30)]
    for at in times:
        store_submission(counter_ref(counter.id), Submission(uuid.uuid4(), answers), "Asia/Ho_Chi_Minh", now=at)
    with db.write() as session:
        sql = SubmissionStatements.on(session.connection())
        assert sql.responses_in_window(counter.id, times[0], times[3], 100) == 3  # (since, until]
        assert sql.responses_in_window(counter.id, times[0] - dt.timedelta(microseconds=1), times[3], 100) == 4
        assert sql.responses_in_window(counter.id, times[0] - dt.timedelta(seconds=1), times[3], 2) == 2
        assert sql.responses_in_window(counter.id + 10_000, times[0], times[3], 100) == 0
        sql.close()
