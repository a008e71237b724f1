"""Export weights when a month has no transaction volumes yet: imputed like the indices', never 1 beside N/n.

The demo's volumes end with 2026-10; one more response at hoa-lu on 2026-11-10 lies in a month without them.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import func, select

from survey.db import db
from survey.models import Agency, Answer, Counter, Instrument, Response, TransactionVolume
from survey.services.statistics import tallies
from survey.services.statistics.indices import IndexQuery, compute_indices
from tests.services.exports_files.conftest import INSTRUMENT, PERIOD, read_back

NOVEMBER_DAY = dt.date(2026, 11, 10)


def _november_response(agency_code: str = "hoa-lu") -> int:
    session = db.session
    agency = session.scalars(select(Agency).where(Agency.code == agency_code)).one()
    counter = session.scalars(
        select(Counter).join(Instrument).where(Counter.agency_id == agency.id, Instrument.code == INSTRUMENT)
    ).first()
    assert counter is not None
    response = Response(
        submission_id=uuid.uuid4(),
        agency_id=agency.id,
        counter_id=counter.id,
        instrument_id=counter.instrument_id,
        received_at=dt.datetime(2026, 11, 10, 3, 0, tzinfo=dt.UTC),
        received_on=NOVEMBER_DAY,
    )
    for item in counter.instrument.items:
        response.answers.append(Answer(item_id=item.id, score=2))
    session.add(response)
    session.flush()
    tallies.add_response(session, response, counter.instrument)
    session.commit()
    return response.id


def _weights(rows: list[dict[str, object]]) -> dict[int, float]:
    return {int(str(r["response_id"])): float(str(r["weight"])) for r in rows if r["weight"] not in ("", None)}


def test_a_month_without_volumes_carries_the_latest_volumes_never_weight_1(export_demo, export_cli) -> None:  # type: ignore[no-untyped-def]
    added = _november_response()
    result, out = export_cli("csv", "--from", PERIOD[0], "--to", "2026-11-30", "--instrument", INSTRUMENT, period=False)
    assert result.exit_code == 0, result.output
    rows = read_back("csv", out)
    weights = _weights(rows)
    assert added in weights and len(weights) > 250
    assert 1.0 not in weights.values()  # no row at weight 1 beside rows weighted transactions ÷ responses
    # hoa-lu's one November respondent (no field: the pooled cell) stands for its October transactions
    hoa_lu = db.session.scalars(select(Agency).where(Agency.code == "hoa-lu")).one()
    october = db.session.scalar(
        select(func.sum(TransactionVolume.transactions)).where(
            TransactionVolume.agency_id == hoa_lu.id, TransactionVolume.month == dt.date(2026, 10, 1)
        )
    )
    assert weights[added] == pytest.approx(float(october or 0), rel=1e-12)
    # the file reproduces the engine, whose report says the same as the codebook
    instrument = db.session.scalars(select(Instrument).where(Instrument.code == INSTRUMENT)).one()
    report = compute_indices(
        db.session,
        IndexQuery(instrument.id, dt.date.fromisoformat(PERIOD[0]), dt.date(2026, 11, 30), agency_ids=[hoa_lu.id]),
    )
    mine = [r for r in rows if r["agency"] == "hoa-lu" and int(str(r["q02"])) <= 5]
    share = sum(float(str(r["weight"])) for r in mine if int(str(r["q02"])) >= 4) / sum(
        float(str(r["weight"])) for r in mine
    )
    assert share == pytest.approx(report.get(hoa_lu.id, "q02").estimate, abs=1e-12)
    book = out.with_name(out.name + ".codebook.md").read_text(encoding="utf-8")
    assert "- Note: weights imputed for 1 agency-month (" in book
    assert "agency hoa-lu 2026-11: no transaction volumes, weights imputed" in book
    assert "volumes of 2026-10 carried forward to 2026-11" in book


def test_without_an_end_date_the_export_ends_at_the_last_month_with_volumes(export_demo, export_cli) -> None:  # type: ignore[no-untyped-def]
    added = _november_response()
    result, out = export_cli("csv", "--from", PERIOD[0], "--instrument", INSTRUMENT, period=False)
    assert result.exit_code == 0, result.output
    weights = _weights(read_back("csv", out))
    assert added not in weights and 1.0 not in weights.values()
    last = db.session.scalar(
        select(func.max(Response.received_on)).where(
            Response.status == "valid", Response.received_on < dt.date(2026, 11, 1)
        )
    )
    assert last is not None
    book = out.with_name(out.name + ".codebook.md").read_text(encoding="utf-8")
    assert f"- Period (local date received, inclusive): {PERIOD[0]} to {last.isoformat()}" in book
    assert f"- Note: period ends {last.isoformat()}, the last response in a month with transaction volumes" in book
    assert "weights imputed" not in book
