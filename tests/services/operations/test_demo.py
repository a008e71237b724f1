"""The demo province: realistic structure, plausible satisfaction, deterministic for a seed."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import func, select

from survey.db import db
from survey.models import (
    AdminUnit,
    AdminUnitSuccession,
    Agency,
    Answer,
    Counter,
    Instrument,
    Response,
    TransactionVolume,
    User,
)
from survey.services.operations.demo import _generate_chunk, _plans, _working_days, last_complete_month
from survey.services.submissions.store import find_response


def _count(model, *where) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_demo_structure_matches_the_brief(demo) -> None:  # type: ignore[no-untyped-def]
    assert _count(Agency, Agency.kind == "department") == 10
    assert _count(Agency, Agency.kind == "commune") == 12
    per_agency = db.session.execute(select(Counter.agency_id, func.count()).group_by(Counter.agency_id)).all()
    assert all(2 <= n <= 6 for _, n in per_agency)  # 2–5, and a short-form counter at each pilot agency
    assert {i.code for i in db.session.scalars(select(Instrument))} == {
        "sipas-2017",
        "sipas-2022-services",
        "sipas-2022-short",
        "sipas-ward-2026",
    }
    assert {c.instrument.code for c in db.session.scalars(select(Counter))} == {
        "sipas-2017",
        "sipas-2022-services",
        "sipas-2022-short",
    }
    months = db.session.scalars(select(TransactionVolume.month).distinct()).all()
    assert len(months) == 12 and max(months) == dt.date(2026, 10, 1)
    assert _count(User) == 6
    assert demo.responses == _count(Response) == 300


def test_demo_units_are_effective_dated_with_the_2025_merger(demo) -> None:  # type: ignore[no-untyped-def]
    reorganisation = dt.date(2025, 7, 1)
    provinces = db.session.scalars(select(AdminUnit).where(AdminUnit.level == "province")).all()
    current = [p for p in provinces if p.valid_on(dt.date(2026, 1, 1))]
    assert [p.name for p in current] == ["Tỉnh Ninh Bình"]
    old = [p for p in provinces if p.valid_on(dt.date(2024, 1, 1))]
    assert sorted(p.name for p in old) == ["Tỉnh Hà Nam", "Tỉnh Nam Định", "Tỉnh Ninh Bình"]
    districts = db.session.scalars(select(AdminUnit).where(AdminUnit.level == "district")).all()
    assert districts and all(d.valid_to == reorganisation for d in districts)
    successors = db.session.scalars(
        select(AdminUnitSuccession).where(AdminUnitSuccession.successor_id == current[0].id)
    ).all()
    assert len(successors) == 3 and {s.kind for s in successors} == {"merge"}


def test_demo_answers_are_plausible(demo) -> None:  # type: ignore[no-untyped-def]
    scores = np.array(db.session.scalars(select(Answer.score)).all(), dtype=object)
    valid = np.array([s for s in scores if s is not None])
    assert valid.min() >= 1 and valid.max() <= 5
    satisfied = (valid >= 4).mean()
    assert 0.8 < satisfied < 0.98
    assert 0 < sum(s is None for s in scores) < len(scores) * 0.2  # some "not applicable"
    answered = db.session.execute(select(Answer.response_id, func.count()).group_by(Answer.response_id)).all()
    assert {n for _, n in answered} <= set(range(1, 23))


def test_seeded_rows_read_back_through_the_orm(demo) -> None:  # type: ignore[no-untyped-def]
    response = db.session.scalars(select(Response).order_by(Response.id)).first()
    assert isinstance(response.submission_id, uuid.UUID)
    assert find_response(response.submission_id) is response
    assert response.received_at.tzinfo is not None
    local = response.received_at.astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
    assert local.date() == response.received_on
    assert 7 <= local.hour < 17 and response.received_on.weekday() < 5


def test_generator_is_deterministic_for_a_seed(demo) -> None:  # type: ignore[no-untyped-def]
    plans, instruments = _plans(db.session, 42)
    days = _working_days(dt.date(2026, 10, 1))
    tz = ZoneInfo("Asia/Ho_Chi_Minh")

    def chunk(seed: int):  # type: ignore[no-untyped-def]
        return _generate_chunk(np.random.default_rng(seed), 1, 500, plans, instruments, days, tz)

    a, b, c = chunk(1), chunk(1), chunk(2)
    assert a.submission_ids == b.submission_ids and a.received_at == b.received_at
    assert np.array_equal(a.answer_score, b.answer_score)
    assert a.submission_ids != c.submission_ids


def test_last_complete_month() -> None:
    assert last_complete_month(dt.date(2026, 11, 21)) == dt.date(2026, 10, 1)
    assert last_complete_month(dt.date(2026, 1, 1)) == dt.date(2025, 12, 1)
