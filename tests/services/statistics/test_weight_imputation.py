"""Agency-months without transaction volumes: imputed weights confined to their own cells, stated with every figure.

The demo province has volumes for 2025-11 … 2026-10; a response in 2026-11 falls in a month without them.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid

import numpy as np
import pytest
from sqlalchemy import func, select

from analytics import composite_specs, estimate_from_rows
from survey.db import db
from survey.models import Agency, Counter, Instrument, PsuMonthSums, Response, TransactionVolume
from survey.services.statistics import dashboard, indices, tallies
from survey.services.statistics.indices import TOTAL, WEIGHTED, IndexQuery, cell_weights, compute_indices
from tests.services.statistics.raw_rows import raw_rows

PERIOD = (dt.date(2025, 11, 1), dt.date(2026, 11, 30))
OCT, NOV = dt.date(2026, 10, 1), dt.date(2026, 11, 1)


def _close(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def _instrument() -> Instrument:
    return db.session.scalars(select(Instrument).where(Instrument.code == "sipas-2017")).one()


def _agency_with_responses(instrument: Instrument, skip: int = 0) -> Agency:
    ids = db.session.scalars(
        select(Response.agency_id)
        .where(Response.instrument_id == instrument.id, Response.status == "valid")
        .group_by(Response.agency_id)
        .order_by(Response.agency_id)
    ).all()
    agency = db.session.get(Agency, ids[skip])
    assert agency is not None
    return agency


def _add_response(agency: Agency, instrument: Instrument, day: dt.date, score: int = 5) -> Response:
    """One valid response at one of the agency's counters, in the field its responses are most often in."""
    counter = db.session.scalars(
        select(Counter).where(Counter.agency_id == agency.id, Counter.instrument_id == instrument.id)
    ).first()
    assert counter is not None
    field_id = db.session.scalars(
        select(Response.field_id)
        .where(Response.agency_id == agency.id, Response.field_id.is_not(None))
        .group_by(Response.field_id)
        .order_by(func.count().desc(), Response.field_id)
    ).first()
    response = Response(
        submission_id=uuid.uuid4(),
        agency_id=agency.id,
        counter_id=counter.id,
        instrument_id=instrument.id,
        received_at=dt.datetime(day.year, day.month, day.day, 3, 0, tzinfo=dt.UTC),
        received_on=day,
        field_id=field_id,
    )
    from survey.models import Answer

    for item in instrument.items:
        response.answers.append(Answer(item_id=item.id, score=score))
    db.session.add(response)
    db.session.flush()
    tallies.add_response(db.session, response, instrument)
    db.session.commit()
    return response


def _own_figures(report: indices.IndexReport, skip: set[int]) -> dict[tuple[object, str, str], str]:
    """Every agency's own estimates (not the province's, not ``skip``'s), to the last bit (repr of the dataclass)."""
    return {
        (e.domain, e.target, e.kind): repr(e)
        for e in report.estimates.estimates
        if e.domain != TOTAL and e.domain not in skip
    }


def _transactions(agency_id: int, month: dt.date) -> int:
    return int(
        db.session.scalar(
            select(func.sum(TransactionVolume.transactions)).where(
                TransactionVolume.agency_id == agency_id, TransactionVolume.month == month
            )
        )
        or 0
    )


def _raw_total(instrument: Instrument, factors: dict) -> object:  # type: ignore[type-arg]
    """The province's overall index straight from the response rows with these cell weights."""
    rows = raw_rows(instrument, PERIOD)
    weights = np.array([factors[cell] for cell in rows.cells()])
    raw = estimate_from_rows(
        weights,
        rows.scores,
        rows.items,
        strata=rows.strata(),
        psu=rows.psu(),
        lonely_psu="certainty",
        composites=composite_specs(rows.groups),
        kinds=("share",),
        ci="beta",
        composite_ci="xlogit",
    )
    return raw.get(None, "overall")


def test_one_response_in_a_month_without_volumes_changes_nothing_of_the_other_agencies(demo) -> None:  # type: ignore[no-untyped-def]
    instrument = _instrument()
    agency = _agency_with_responses(instrument)
    query = IndexQuery(instrument.id, *PERIOD)
    before = compute_indices(db.session, query)
    factors_before, _ = cell_weights(db.session, query)
    province = dashboard.province_of(db.session, agency)
    period = dashboard.Period("custom", *PERIOD)
    table_before = dashboard.province_table(db.session, province, period, instrument.id, "index", True, "en")
    assert before.imputation is None and before.weighting == WEIGHTED

    _add_response(agency, instrument, dt.date(2026, 11, 10))
    after = compute_indices(db.session, query)

    # The province stays weighted; every other agency's own figures, CIs and flags are bit-identical.
    assert after.weighting == WEIGHTED
    others = _own_figures(before, {agency.id})
    assert len(others) > 100
    assert _own_figures(after, {agency.id}) == others
    # Only the new cell has a new weight: every other cell keeps its own, to the bit.
    factors_after, _ = cell_weights(db.session, query)
    assert {key: factors_after[key] for key in factors_before} == factors_before
    new = {key: w for key, w in factors_after.items() if key not in factors_before}
    assert len(new) == 1 and next(iter(new))[0::2] == (agency.id, NOV)
    # … the agency's October volumes (its latest month with volumes) for its one respondent, never 1
    weight = next(iter(new.values()))
    assert weight == pytest.approx(_transactions(agency.id, OCT), rel=1e-12) and weight > 1
    # The province's figures move only through that cell: they equal the raw rows with exactly these weights.
    expected = _raw_total(instrument, factors_after)
    got = after.get(TOTAL, "overall")
    assert math.isclose(got.estimate, expected.estimate, rel_tol=1e-9)  # type: ignore[attr-defined]
    assert math.isclose(got.se, expected.se, rel_tol=1e-9)  # type: ignore[attr-defined]
    # Ranks among the other agencies are unchanged; their figures in the province table are identical.
    table_after = dashboard.province_table(db.session, province, period, instrument.id, "index", True, "en")
    lines_before = [(line.agency.id, repr(line.share)) for line in table_before.lines if line.agency.id != agency.id]
    lines_after = [(line.agency.id, repr(line.share)) for line in table_after.lines if line.agency.id != agency.id]
    assert lines_after == lines_before and len(lines_before) > 3

    # Every figure states the rule applied and the share of the weight it touches.
    imputation = after.imputation
    assert imputation is not None
    assert imputation.carried == ((agency.id, NOV, OCT),) and imputation.typical == ()
    total_weight = sum(w * _cell_count(instrument, a, f, m) for (a, f, m), w in factors_after.items())
    assert imputation.share(TOTAL) == pytest.approx(weight / total_weight, rel=1e-9)
    assert 0 < imputation.share(TOTAL) < imputation.share(agency.id) < 1
    assert all(imputation.share(a) == 0 for a in {k[0] for k in factors_before} - {agency.id})
    texts = [n.text({agency.id: agency.code}) for n in after.notes]
    assert texts[0].startswith("weights imputed for 1 agency-month (") and "of the weight): latest known" in texts[0]
    assert f"agency {agency.code} 2026-11: no transaction volumes, weights imputed (" in "\n".join(texts)
    assert "volumes of 2026-10 carried forward to 2026-11" in "\n".join(texts)
    assert after.merged_cells == before.merged_cells  # an imputation is not reported as merged cells


def _cell_count(instrument: Instrument, agency_id: int, field_key: int, month: dt.date) -> int:
    from survey.models import ResponseTally

    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(ResponseTally.n), 0)).where(
                ResponseTally.instrument_id == instrument.id,
                ResponseTally.agency_id == agency_id,
                ResponseTally.field_key == field_key,
                ResponseTally.month == month,
                ResponseTally.day >= PERIOD[0],
                ResponseTally.day <= PERIOD[1],
            )
        )
        or 0
    )


@pytest.mark.parametrize(("today", "open_months"), [(dt.date(2026, 11, 20), (NOV,)), (dt.date(2027, 1, 10), ())])
def test_the_open_month_without_volumes_is_flagged(demo, monkeypatch, today, open_months) -> None:  # type: ignore[no-untyped-def]
    instrument = _instrument()
    _add_response(_agency_with_responses(instrument), instrument, dt.date(2026, 11, 10))
    monkeypatch.setattr(indices, "utcnow", lambda: dt.datetime.combine(today, dt.time(8), tzinfo=dt.UTC))
    report = compute_indices(db.session, IndexQuery(instrument.id, *PERIOD))
    assert report.imputation is not None and report.imputation.open_months == open_months
    flagged = [n.message for n in report.notes if "not over yet" in n.message]
    assert flagged == (["2026-11 not over yet: no transaction volumes, weights imputed"] if open_months else [])


def test_a_stored_imputed_month_goes_stale_when_the_volumes_it_carries_change(demo, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    instrument = _instrument()
    agency = _agency_with_responses(instrument)
    _add_response(agency, instrument, dt.date(2026, 11, 10))
    # November is over: its roll-up is stored like any closed month's.
    monkeypatch.setattr(indices, "utcnow", lambda: dt.datetime(2027, 1, 10, 8, tzinfo=dt.UTC))
    query = IndexQuery(instrument.id, *PERIOD)
    compute_indices(db.session, query)

    def stored_digest() -> str:
        row = db.session.scalars(
            select(PsuMonthSums).where(
                PsuMonthSums.agency_id == agency.id, PsuMonthSums.month == NOV, PsuMonthSums.weighted.is_(True)
            )
        ).one()
        return row.weights_digest

    first = stored_digest()
    # October's volumes are what November carries: a change to them makes November's stored roll-up stale,
    # even in a field nobody answered for in November.
    volumes = db.session.scalars(
        select(TransactionVolume)
        .where(TransactionVolume.agency_id == agency.id, TransactionVolume.month == OCT)
        .order_by(TransactionVolume.id)
    ).all()
    volumes[-1].transactions += 500
    db.session.commit()
    reweighted = compute_indices(db.session, query)
    assert stored_digest() != first
    tallies.forget_months(db.session)
    db.session.commit()
    fresh = {(e.domain, e.target, e.kind): e for e in compute_indices(db.session, query).estimates.estimates}
    assert len(fresh) == len(reweighted.estimates.estimates) > 100
    for e in reweighted.estimates.estimates:  # stored and fresh sums add up in another order: equal to 1e-9
        f = fresh[(e.domain, e.target, e.kind)]
        assert (e.n, e.df, [x.code for x in e.flags]) == (f.n, f.df, [x.code for x in f.flags])
        assert _close(e.estimate, f.estimate) and _close(e.se, f.se)


def test_an_agency_without_any_volumes_weighs_each_respondent_at_the_median_weight(demo) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import delete

    instrument = _instrument()
    agency = _agency_with_responses(instrument, skip=1)
    query = IndexQuery(instrument.id, *PERIOD)
    factors_before, _ = cell_weights(db.session, query)
    before = compute_indices(db.session, query)
    db.session.execute(delete(TransactionVolume).where(TransactionVolume.agency_id == agency.id))
    db.session.commit()
    factors, _ = cell_weights(db.session, query)
    report = compute_indices(db.session, query)

    assert report.weighting == WEIGHTED
    assert {k: w for k, w in factors.items() if k[0] != agency.id} == {
        k: w for k, w in factors_before.items() if k[0] != agency.id
    }
    imputation = report.imputation
    assert imputation is not None and imputation.carried == ()
    assert {a for a, _ in imputation.typical} == {agency.id}
    own = {w for k, w in factors.items() if k[0] == agency.id}
    assert own == {imputation.typical_weight}
    # the median over the other agency-months of transactions ÷ respondents
    per_respondent: dict[tuple[int, dt.date], list[float]] = {}
    for (a, f, m), w in factors_before.items():
        if a != agency.id:
            n = _cell_count(instrument, a, f, m)
            totals = per_respondent.setdefault((a, m), [0.0, 0.0])
            totals[0] += w * n
            totals[1] += n
    assert imputation.typical_weight == pytest.approx(np.median([t / n for t, n in per_respondent.values()]))
    assert imputation.share(agency.id) == 1.0
    # a constant weight leaves the agency's own figures as unweighted; the others' are untouched
    unweighted = compute_indices(db.session, IndexQuery(instrument.id, *PERIOD, weighted=False))
    for target in ("overall", "access", "q05"):
        a, b = report.get(agency.id, target), unweighted.get(agency.id, target)
        assert math.isclose(a.estimate, b.estimate, rel_tol=1e-12) and math.isclose(a.se, b.se, rel_tol=1e-9)
    assert _own_figures(report, {agency.id}) == _own_figures(before, {agency.id})
    texts = "\n".join(n.text({agency.id: agency.code}) for n in report.notes)
    assert "no volumes within 12 months: median weight per respondent" in texts


def test_default_periods_end_at_the_last_month_with_volumes(demo) -> None:  # type: ignore[no-untyped-def]
    instrument = _instrument()
    agency = _agency_with_responses(instrument)
    ids = dashboard.agency_subtree_ids(db.session, dashboard.province_of(db.session, agency))
    last_october = dashboard.last_response_day(db.session, ids)
    assert last_october is not None and last_october.replace(day=1) == OCT
    own_last = dashboard.last_response_day(db.session, [agency.id])
    _add_response(agency, instrument, dt.date(2026, 11, 10))
    assert dashboard.last_response_day(db.session, ids) == dt.date(2026, 11, 10)
    # the default is chosen around the last response in a month with volumes, not around November
    assert dashboard.latest_day(db.session, ids) == last_october
    assert dashboard.latest_day(db.session, [agency.id]) == own_last
    month = dashboard.parse_period({"period": "month"}, dashboard.latest_day(db.session, ids) or dt.date.today())
    assert (month.start, month.end) == (OCT, dt.date(2026, 10, 31))
    # asked for explicitly, November is computed as asked, its weights imputed and said so
    asked = dashboard.parse_period({"period": "month", "month": "2026-11"}, last_october)
    report = compute_indices(db.session, IndexQuery(instrument.id, asked.start, asked.end))
    assert report.period == (NOV, dt.date(2026, 11, 30)) and report.imputation is not None
    assert report.imputation.share(TOTAL) == 1.0


@pytest.mark.parametrize(
    ("lang", "phrases"),
    [
        (
            "en",
            [
                "Imputed weights",
                "Agency-months without transaction volumes: 1 (Nov 2026)",
                "For this agency:",
                "latest earlier month with volumes",
                "Not over yet: Nov 2026.",
            ],
        ),
        (
            "vi",
            [
                "Trọng số ước tính bổ sung",
                "Số cơ quan-tháng chưa có số liệu hồ sơ: 1 (11/2026)",
                "Riêng cơ quan này:",
                "tháng gần nhất trước đó",
                "Chưa kết thúc: 11/2026.",
            ],
        ),
    ],
)
def test_the_method_block_states_the_imputation_and_the_open_month(demo, app, monkeypatch, lang, phrases) -> None:  # type: ignore[no-untyped-def]
    from flask import render_template_string

    instrument = _instrument()
    agency = _agency_with_responses(instrument)
    _add_response(agency, instrument, dt.date(2026, 11, 10))
    monkeypatch.setattr(indices, "utcnow", lambda: dt.datetime(2026, 11, 20, 8, tzinfo=dt.UTC))
    report = compute_indices(db.session, IndexQuery(instrument.id, *PERIOD))
    choice = dashboard.InstrumentChoice(instrument.id, instrument.label, instrument.name(lang), 1)
    page = '{% from "agency/_estimates.html" import method with context %}{{ method(report, instrument, domain) }}'
    with app.test_request_context(f"/?lang={lang}"):
        html = render_template_string(page, report=report, instrument=choice, domain=agency.id)
        province = render_template_string(page, report=report, instrument=choice, domain=None)
    for phrase in phrases:
        assert phrase in html, phrase
    assert phrases[-2] in province and phrases[2] not in province  # the province page gives no agency's share
