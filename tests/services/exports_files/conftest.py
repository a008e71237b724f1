"""Fixtures for the export tests: the demo province plus a few hand-made responses with tricky text."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from survey.db import db
from survey.models import Agency, Answer, Counter, Instrument, Response
from survey.services.statistics import tallies

PERIOD = ("2025-11-01", "2026-10-31")
INSTRUMENT = "sipas-2017"

#: Hand-made comments and exclusion reasons: Vietnamese, line breaks, formula triggers, a negative-looking text.
TRICKY_COMMENTS = (
    "Cán bộ nhiệt tình,\nchu đáo; thủ tục nhanh — rất hài lòng!",
    '=HYPERLINK("http://evil.example","bấm vào đây")',
    "+84 điểm cho bộ phận một cửa",
    "-5 là điểm của quầy số 3",
    "@SUM(1+1)",
    "\tTab đầu dòng",
    "\rCR đầu dòng\r\nvà xuống dòng",
)


@dataclass(frozen=True)
class Crafted:
    ids: tuple[int, ...]
    excluded_id: int
    agency_code: str
    #: response id → {item code: score or None (not applicable)}; items missing = not answered.
    answers: dict[int, dict[str, int | None]]


@pytest.fixture
def export_demo(demo) -> Crafted:  # type: ignore[no-untyped-def]
    """The demo province (300 responses) plus seven crafted valid responses and one excluded one at hoa-lu."""
    session = db.session
    agency = session.scalars(select(Agency).where(Agency.code == "hoa-lu")).one()
    counter = session.scalars(
        select(Counter).join(Instrument).where(Counter.agency_id == agency.id, Instrument.code == INSTRUMENT)
    ).first()
    assert counter is not None
    instrument = counter.instrument
    items = list(instrument.items)
    ids, answers = [], {}
    for i, comment in enumerate(TRICKY_COMMENTS):
        chosen: dict[str, int | None] = {}
        response = Response(
            submission_id=uuid.uuid4(),
            agency_id=agency.id,
            counter_id=counter.id,
            instrument_id=instrument.id,
            received_at=dt.datetime(2026, 5, 4 + i, 3, 0, tzinfo=dt.UTC),
            received_on=dt.date(2026, 5, 4 + i),
            gender="female",
            education="university",
            comment=comment,
        )
        for k, item in enumerate(items):
            if k == 0 and i % 2 == 0:
                continue  # not answered
            score = None if (k == 7 and item.allows_na) else 1 + (i + k) % 5
            response.answers.append(Answer(item_id=item.id, score=score))
            chosen[item.code] = score
        session.add(response)
        session.flush()
        tallies.add_response(session, response, instrument)
        ids.append(response.id)
        answers[response.id] = chosen
    excluded = Response(
        submission_id=uuid.uuid4(),
        agency_id=agency.id,
        counter_id=counter.id,
        instrument_id=instrument.id,
        received_at=dt.datetime(2026, 5, 20, 3, 0, tzinfo=dt.UTC),
        received_on=dt.date(2026, 5, 20),
        status="excluded",
        exclusion_reason="=cmd|' /C calc'!A0 — phiếu thử của cán bộ",
    )
    excluded.answers.append(Answer(item_id=items[1].id, score=2))
    session.add(excluded)
    session.flush()
    return Crafted(tuple(ids), excluded.id, "hoa-lu", answers)


@pytest.fixture
def export_cli(runner, tmp_path: Path) -> Callable[..., tuple[object, Path]]:  # type: ignore[no-untyped-def]
    """Run ``export-responses`` with the standard period and instrument; returns (result, output path)."""

    def run(fmt: str, *extra: str, name: str | None = None, period: bool = True, instrument: bool = True):  # type: ignore[no-untyped-def]
        out = tmp_path / (name or f"export.{fmt}")
        args = ["export-responses", "--format", fmt, "--output", str(out)]
        if period:
            args += ["--from", PERIOD[0], "--to", PERIOD[1]]
        if instrument:
            args += ["--instrument", INSTRUMENT]
        result = runner.invoke(args=[*args, *extra])
        return result, out

    return run


def read_back(fmt: str, path: Path) -> list[dict[str, object]]:
    """The rows of an export file as dicts, the way a statistician's tool reads them."""
    if fmt == "csv":
        import csv

        with path.open(encoding="utf-8-sig", newline="") as fh:
            return list(csv.DictReader(fh))
    if fmt == "xlsx":
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True)
        rows = book["data"].iter_rows(values_only=True)
        header = next(rows)
        out = [dict(zip(header, row, strict=True)) for row in rows]
        book.close()
        return out
    import pyreadstat

    reader = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
    frame, _meta = reader(str(path), user_missing=True)
    return frame.to_dict("records")  # type: ignore[no-any-return]


def expected_answers(instrument_code: str = INSTRUMENT) -> dict[int, dict[str, int]]:
    """Answer codes per valid response straight from the database: 1–5, 8 not applicable, 9 not answered."""
    session = db.session
    instrument = session.scalars(select(Instrument).where(Instrument.code == instrument_code)).one()
    codes = {item.id: item.code for item in instrument.items}
    out: dict[int, dict[str, int]] = {}
    responses = session.scalars(
        select(Response).where(
            Response.instrument_id == instrument.id,
            Response.status == "valid",
            Response.received_on >= dt.date.fromisoformat(PERIOD[0]),
            Response.received_on <= dt.date.fromisoformat(PERIOD[1]),
        )
    )
    for response in responses:
        row = dict.fromkeys(codes.values(), 9)
        for answer in response.answers:
            row[codes[answer.item_id]] = 8 if answer.score is None else answer.score
        out[response.id] = row
    return out
