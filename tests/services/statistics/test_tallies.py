"""The sufficient-statistics tallies: kept incrementally they equal a rebuild from raw responses."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import delete, func, select

from survey.db import db, utcnow
from survey.models import Answer, AnswerTally, Counter, Instrument, Response, ResponseTally
from survey.services.statistics import tallies as tallies_service


def _snapshot() -> tuple[set[tuple], set[tuple]]:  # type: ignore[type-arg]
    responses = {
        tuple(r)
        for r in db.session.execute(
            select(
                ResponseTally.agency_id,
                ResponseTally.day,
                ResponseTally.counter_key,
                ResponseTally.field_key,
                ResponseTally.month,
                ResponseTally.instrument_id,
                ResponseTally.n,
            ).where(ResponseTally.n != 0)
        )
    }
    answers = {
        tuple(r)
        for r in db.session.execute(
            select(
                AnswerTally.agency_id,
                AnswerTally.day,
                AnswerTally.counter_key,
                AnswerTally.field_key,
                AnswerTally.month,
                AnswerTally.item_id,
                AnswerTally.n_valid,
                AnswerTally.n_satisfied,
                AnswerTally.sum_score,
                AnswerTally.sum_score_sq,
                AnswerTally.n_not_applicable,
                AnswerTally.n_score_1,
                AnswerTally.n_score_2,
                AnswerTally.n_score_3,
                AnswerTally.n_score_4,
                AnswerTally.n_score_5,
            ).where((AnswerTally.n_valid != 0) | (AnswerTally.n_not_applicable != 0))
        )
    }
    return responses, answers


def _new_response(counter: Counter, scores: list[int | None], day: dt.date, field_id: int | None) -> Response:
    response = Response(
        submission_id=uuid.uuid4(),
        agency_id=counter.agency_id,
        counter_id=counter.id,
        instrument_id=counter.instrument_id,
        received_at=utcnow(),
        received_on=day,
        field_id=field_id,
        status="valid",
    )
    response.answers = [
        Answer(item_id=item.id, score=score) for item, score in zip(counter.instrument.items, scores, strict=False)
    ]
    db.session.add(response)
    db.session.flush()
    return response


def test_seeded_tallies_count_every_valid_response_and_answer(demo) -> None:  # type: ignore[no-untyped-def]
    responses, answers = _snapshot()
    valid = db.session.scalars(select(Response).where(Response.status == "valid")).all()
    assert sum(r[-1] for r in responses) == len(valid)
    n_valid_answers = sum(1 for r in valid for a in r.answers if a.score is not None)
    assert sum(a[6] for a in answers) == n_valid_answers
    assert sum(a[10] for a in answers) == sum(1 for r in valid for a in r.answers if a.score is None)


def test_incremental_updates_equal_a_rebuild(demo) -> None:  # type: ignore[no-untyped-def]
    counters = db.session.scalars(select(Counter).order_by(Counter.id)).all()
    existing = db.session.scalars(select(Response).order_by(Response.id)).first()
    # One response landing in an existing cell, one in a new cell (new day, no field), one with N/A answers.
    added = [
        _new_response(
            counters[0],
            [5] * 22,
            existing.received_on if existing.counter_id == counters[0].id else dt.date(2026, 10, 5),
            existing.field_id,
        ),
        _new_response(counters[1], [1, 2, 3, 4, 5] * 5, dt.date(2026, 10, 30), None),
        _new_response(counters[2], [None, 4, None, 3] * 6, dt.date(2026, 10, 30), None),
    ]
    for response in added:
        tallies_service.add_response(db.session, response, db.session.get(Instrument, response.instrument_id))
    incremental = _snapshot()
    tallies_service.rebuild(db.session)
    assert _snapshot() == incremental


def test_removing_a_response_undoes_its_contribution(demo) -> None:  # type: ignore[no-untyped-def]
    before = _snapshot()
    counter = db.session.scalars(select(Counter).order_by(Counter.id)).first()
    response = _new_response(counter, [4] * 22, dt.date(2026, 10, 7), None)
    tallies_service.add_response(db.session, response, counter.instrument)
    assert _snapshot() != before
    tallies_service.add_response(db.session, response, counter.instrument, sign=-1)
    assert _snapshot() == before


def test_a_submission_updates_the_tallies_in_its_transaction(demo, app) -> None:  # type: ignore[no-untyped-def]
    from survey.services.administration.directory import counter_ref
    from survey.services.submissions.store import Submission, store_submission

    counter = db.session.scalars(select(Counter).order_by(Counter.id)).first()
    answers = {item.code: (None if item.allows_na else 5) for item in counter.instrument.items}
    ref = counter_ref(counter.id)
    assert ref is not None
    stored = store_submission(ref, Submission(uuid.uuid4(), answers), app.config["TIMEZONE"])
    assert stored.created
    incremental = _snapshot()
    tallies_service.rebuild(db.session)
    assert _snapshot() == incremental
    # A replay of the same submission id adds nothing.
    response = db.session.get(Response, stored.response_id)
    again = store_submission(ref, Submission(response.submission_id, answers), app.config["TIMEZONE"])
    assert not again.created and _snapshot() == incremental


def test_a_rebuild_in_steps_equals_a_rebuild(demo) -> None:  # type: ignore[no-untyped-def]
    """One agency-month per transaction gives the same tallies as one rebuild, and drops what no response backs."""
    tallies_service.rebuild(db.session)
    expected = _snapshot()
    counter = db.session.scalars(select(Counter).order_by(Counter.id)).first()
    # Damage: one agency-month's answer tallies gone, one cell counted twice, a month nobody answered in.
    first = db.session.scalars(select(ResponseTally).order_by(ResponseTally.day)).first()
    db.session.execute(
        delete(AnswerTally).where(AnswerTally.agency_id == first.agency_id, AnswerTally.month == first.month)
    )
    first.n += 1
    ghost = tallies_service.TallyKey(counter.agency_id, dt.date(2025, 1, 15), counter.id, 0)
    tallies_service.add_tallies(db.session, ghost, counter.instrument, [(i.id, 4) for i in counter.instrument.items])
    db.session.flush()
    assert _snapshot() != expected
    steps: list[int] = []
    counts = tallies_service.rebuild_in_steps(db.session, db.write, progress=steps.append, budget=100, pause=0)
    assert _snapshot() == expected
    assert dt.date(2025, 1, 15) not in {d for _, d, _ in tallies_service.agency_days(db.session)}
    assert sum(steps) == len({(a, d) for a, d, _, _, _, _, _ in expected[0]}) + 1  # + the ghost day
    assert 1 < len(steps) < sum(steps)  # several months per step, within the budget
    assert counts == (
        db.session.scalar(select(func.count()).select_from(ResponseTally)),
        db.session.scalar(select(func.count()).select_from(AnswerTally)),
    )


def test_rebuild_steps_keep_to_one_agency_and_the_budget() -> None:
    d1, d2, d3 = dt.date(2026, 1, 30), dt.date(2026, 1, 31), dt.date(2026, 2, 1)
    days = [(1, d1, 40), (1, d2, 50), (1, d3, 30), (2, d1, 500), (2, d2, 0), (3, d3, 10)]
    steps = tallies_service.rebuild_steps(days, budget=100)
    assert [(s.agency_id, s.first_day, s.last_day, s.agency_days) for s in steps] == [
        (1, d1, d2, 2),
        (1, d3, d3, 1),
        (2, d1, d1, 1),  # one agency-day over the budget is a step of its own
        (2, d2, d2, 1),
        (3, d3, d3, 1),
    ]
