"""The breakdowns' full-grain tally reads (Core statements, day numbers computed in SQL) against the ORM."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.exc import CompileError

from survey.db import db
from survey.models import AnswerTally, Instrument, ResponseTally
from survey.services.statistics import breakdowns, dashboard

EPOCH = dt.date(1970, 1, 1)
PERIOD = dashboard.Period("custom", dt.date(2026, 2, 3), dt.date(2026, 9, 17))


def _days(day: dt.date) -> int:
    return (day - EPOCH).days


def _sorted(rows: np.ndarray) -> list[tuple[float, ...]]:
    return sorted(tuple(row) for row in rows.tolist())


def test_tallies_equal_the_orm_rows(demo) -> None:  # type: ignore[no-untyped-def]
    instrument = db.session.scalars(select(Instrument).where(Instrument.code == "sipas-2017")).one()
    agency_ids = sorted(set(db.session.scalars(select(ResponseTally.agency_id).distinct())))
    chosen = agency_ids[: max(1, len(agency_ids) - 1)]  # not every agency: the filter must hold
    items = [item.id for item in instrument.items][:-2]  # nor every item
    answers, responses = breakdowns._tallies(db.session, chosen, instrument.id, items, PERIOD)

    in_period = (AnswerTally.day >= PERIOD.start, AnswerTally.day <= PERIOD.end)
    expected_answers = [
        (t.agency_id, _days(t.day), t.counter_key, t.field_key, _days(t.month), t.item_id)
        + (t.n_valid, t.n_satisfied, t.sum_score, t.sum_score_sq)
        for t in db.session.scalars(
            select(AnswerTally).where(
                *in_period, AnswerTally.n_valid > 0, AnswerTally.item_id.in_(items), AnswerTally.agency_id.in_(chosen)
            )
        )
    ]
    expected_responses = [
        (t.agency_id, _days(t.day), t.counter_key, t.field_key, _days(t.month), t.n)
        for t in db.session.scalars(
            select(ResponseTally).where(
                ResponseTally.day >= PERIOD.start,
                ResponseTally.day <= PERIOD.end,
                ResponseTally.n > 0,
                ResponseTally.instrument_id == instrument.id,
                ResponseTally.agency_id.in_(chosen),
            )
        )
    ]
    assert answers.dtype == responses.dtype == np.float64
    assert answers.shape == (len(expected_answers), 10) and responses.shape == (len(expected_responses), 6)
    assert len(expected_answers) > 100 and len(expected_responses) > 10
    assert _sorted(answers) == sorted(tuple(float(v) for v in row) for row in expected_answers)
    assert _sorted(responses) == sorted(tuple(float(v) for v in row) for row in expected_responses)


def test_no_rows_give_empty_arrays_of_the_right_width(demo) -> None:  # type: ignore[no-untyped-def]
    instrument = db.session.scalars(select(Instrument).where(Instrument.code == "sipas-2017")).one()
    period = dashboard.Period("year", dt.date(2001, 1, 1), dt.date(2001, 12, 31))
    answers, responses = breakdowns._tallies(
        db.session, [1], instrument.id, [item.id for item in instrument.items], period
    )
    assert answers.shape == (0, 10) and responses.shape == (0, 6)


@pytest.mark.parametrize(
    ("dialect", "day"),
    [
        (sqlite.dialect(), "CAST(julianday(stat_answer_tallies.day) - 2440587.5 AS INTEGER)"),
        (postgresql.dialect(), "(stat_answer_tallies.day - DATE '1970-01-01')"),
    ],
)
def test_day_numbers_are_written_per_dialect(dialect, day: str) -> None:  # type: ignore[no-untyped-def]
    sql = str(breakdowns._ANSWER_ROWS.compile(dialect=dialect))
    assert day in sql and "epoch_days(" not in sql


def test_other_dialects_are_refused() -> None:
    with pytest.raises(CompileError, match="SQLite and PostgreSQL"):
        breakdowns._RESPONSE_ROWS.compile(dialect=mysql.dialect())


def test_counter_and_field_comparisons_are_bonferroni_adjusted_within_each_table(staff_app) -> None:  # type: ignore[no-untyped-def]
    from scipy import stats

    from survey.models import Agency

    agency = db.session.scalars(select(Agency).where(Agency.code == "so-tu-phap")).one()
    year = dashboard.Period("year", dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    instrument = dashboard.instruments_in_use(db.session, [agency.id], year)[0]
    result = breakdowns.breakdown(db.session, [agency.id], instrument.id, year, "en")
    sizes = []
    for rows in (result.counters, result.fields):
        made = [r.vs_all for r in rows if r.vs_all.unavailable is None]
        k = len(made)
        sizes.append(k)
        for c in made:
            assert c.k == k and c.level == pytest.approx(1 - 0.05 / k) and c.contrast is not None
            assert c.ci is not None and c.delta is not None and c.p_value is not None
            # the verdict is whether the shown (adjusted) interval excludes zero
            assert c.significant == (c.ci[0] > 0 or c.ci[1] < 0)
            if c.method == "wald-t":
                t = stats.t.ppf(1 - 0.05 / (2 * k), c.contrast.df)
                assert c.ci == pytest.approx((c.delta - t * c.contrast.se, c.delta + t * c.contrast.se), rel=1e-9)
                assert c.p_adjusted == pytest.approx(min(1.0, k * c.p_value))
                assert (c.p_adjusted < 0.05) == c.significant
        assert all(r.vs_all.k is None for r in rows if r.vs_all.unavailable is not None)
    assert max(sizes) >= 2, sizes
