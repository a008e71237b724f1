"""A split questionnaire's estimates: definition A only; with k = all criteria, today's results bit for bit.

Also the export side of "not asked": code 7 in the rows of a rotated version, in its value labels and codebook.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid

import pytest
from sqlalchemy import select

from analytics import EstimationError, composite_specs
from survey.db import db
from survey.models import Answer, Instrument, Response
from survey.services.administration.directory import counter_ref
from survey.services.administration.instruments import (
    INSTRUMENTS_DIR,
    parse_instrument,
    rotation_design,
    sync_instruments,
)
from survey.services.exports.codebook import instrument_codebook
from survey.services.exports.responses import ExportRequest, plan_export, stream_rows
from survey.services.statistics import tallies
from survey.services.statistics.indices import IndexQuery, compute_indices
from survey.services.submissions.store import Submission, store_submission

pytestmark = pytest.mark.usefixtures("demo")
PERIOD = (dt.date(2025, 11, 1), dt.date(2026, 10, 31))


def _instrument(code: str) -> Instrument:
    return db.session.scalars(select(Instrument).where(Instrument.code == code)).one()


def _all_criteria_rotated() -> Instrument:
    """sipas-2017 declared as a split questionnaire that asks all 22 criteria (k = 22)."""
    text = (INSTRUMENTS_DIR / "sipas-2017.toml").read_text(encoding="utf-8")
    text = text.replace('code = "sipas-2017"', 'code = "sipas-2017-all"', 1).replace(
        "[scale]", "[rotation]\nk = 22\n\n[scale]", 1
    )
    sync_instruments(db.session, [parse_instrument(text, "all.toml")])
    return _instrument("sipas-2017-all")


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def test_rotation_with_every_criterion_gives_todays_results_bit_for_bit() -> None:
    today, rotated = _instrument("sipas-2017"), _all_criteria_rotated()
    design = rotation_design(rotated)
    assert design is not None and design.allocation == (4, 5, 6, 3, 4)
    every = design.mask([item.code for item in rotated.items])
    item_of = {item.code: item.id for item in rotated.items}
    code_of = {item.id: item.code for item in today.items}
    originals = list(db.session.scalars(select(Response).where(Response.instrument_id == today.id)))
    assert len(originals) > 200
    for r in originals:
        copy = Response(
            **{c.name: getattr(r, c.name) for c in Response.__table__.c if c.name not in ("id", "submission_id")},
        )
        copy.submission_id, copy.instrument_id, copy.dossier_hash, copy.asked_mask = (
            uuid.uuid4(),
            rotated.id,
            None,
            every,
        )
        copy.answers = [Answer(item_id=item_of[code_of[a.item_id]], score=a.score) for a in r.answers]
        db.session.add(copy)
    db.session.flush()
    tallies.rebuild(db.session)
    for weighted in (True, False):
        base = compute_indices(db.session, IndexQuery(today.id, *PERIOD, weighted=weighted))
        split = compute_indices(db.session, IndexQuery(rotated.id, *PERIOD, weighted=weighted))
        ours = {(e.domain, e.target, e.kind): e for e in split.estimates.estimates}
        theirs = {(e.domain, e.target, e.kind): e for e in base.estimates.estimates}
        assert set(ours) == set(theirs) and len(ours) > 100
        for key, expected in theirs.items():
            got = ours[key]
            assert (got.n, got.df) == (expected.n, expected.df), key
            assert _same(got.estimate, expected.estimate) and _same(got.se, expected.se), key
            assert all(_same(a, b) for a, b in zip(got.ci, expected.ci, strict=True)), key
        assert split.definition == base.definition == "A"


def test_respondent_level_definitions_are_refused_for_a_split_questionnaire() -> None:
    groups = {"e1": ["a", "b"], "e2": ["c"]}
    assert composite_specs(groups, definition="A", rotated=True)
    for definition in ("B", "C"):
        with pytest.raises(EstimationError, match="not available for a split questionnaire"):
            composite_specs(groups, definition=definition, rotated=True)
        assert composite_specs(groups, definition=definition)  # without rotation they stay available


def test_exports_carry_code_7_for_criteria_not_asked(app) -> None:  # type: ignore[no-untyped-def]
    short = _instrument("sipas-2022-short")
    counter = next(c for c in short_counters(short))
    ref = counter_ref(counter.id)
    assert ref is not None and ref.rules.rotation is not None
    sid = uuid.uuid4()
    asked = ref.rules.rotation.assign(app.config["SECRET_KEY"], sid).codes
    answers: dict[str, int | None] = dict.fromkeys(asked, 5)
    store_submission(ref, Submission(sid, answers), app.config["TIMEZONE"])
    plan = plan_export(db.session, ExportRequest(agency_ids=frozenset({counter.agency_id}), instrument=short.code))
    rows = [row for chunk in stream_rows(db.session, plan, sanitise=False) for row in chunk]
    assert len(rows) == 1
    names = [c.name for c in plan.columns]
    values = dict(zip(names, rows[0], strict=True))
    for item in short.items:
        assert values[item.code] == (5 if item.code in asked else 7), item.code
    column = next(c for c in plan.columns if c.name == short.items[0].code)
    assert 7 in column.value_labels("en") and "not asked" in (column.note or "")
    book = instrument_codebook(short)
    assert 7 in {code.code for code in book.answer_codes} and book.stata_missing[7] == "c"
    plain = instrument_codebook(_instrument("sipas-2017"))
    assert 7 not in {code.code for code in plain.answer_codes} and 7 not in plain.stata_missing


def short_counters(instrument: Instrument):  # type: ignore[no-untyped-def]
    from survey.models import Counter

    return db.session.scalars(select(Counter).where(Counter.instrument_id == instrument.id).order_by(Counter.id))
