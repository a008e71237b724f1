"""Indices from the tallies equal a recomputation from raw responses with the same weights and design."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from sqlalchemy import select

from analytics import collapsed_cell_factors, composite_specs, estimate_from_rows
from survey.db import db
from survey.models import Instrument, Response, TransactionVolume
from survey.services.statistics.indices import TOTAL, UNWEIGHTED, WEIGHTED, IndexQuery, compute_indices
from tests.services.statistics.raw_rows import raw_rows

PERIOD = (dt.date(2025, 11, 1), dt.date(2026, 10, 31))


def _instrument(code: str = "sipas-2017") -> Instrument:
    return db.session.scalars(select(Instrument).where(Instrument.code == code)).one()


def _raw_estimates(instrument: Instrument, weighted: bool):  # type: ignore[no-untyped-def]
    """The same indices straight from response rows: per-response weights, counter-day PSUs."""
    rows = raw_rows(instrument, PERIOD)
    cells = rows.cells()
    weights = np.ones(len(rows.responses))
    if weighted:
        counts: dict = {}  # type: ignore[type-arg]
        for cell in cells:
            counts[cell] = counts.get(cell, 0) + 1
        totals: dict = {}  # type: ignore[type-arg]
        for volume in db.session.scalars(select(TransactionVolume)):
            key = (volume.agency_id, volume.field_id, volume.month)
            totals[key] = totals.get(key, 0) + volume.transactions
        factors = collapsed_cell_factors(counts, totals).factors
        weights = np.array([factors[cell] for cell in cells])
    return estimate_from_rows(
        weights,
        rows.scores,
        rows.items,
        strata=rows.strata(),
        psu=rows.psu(),
        by=rows.strata(),
        lonely_psu="certainty",
        composites=composite_specs(rows.groups),
        kinds=("share", "mean"),
        ci="beta",
        composite_ci="xlogit",
    )


def _close(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


@pytest.mark.parametrize("weighted", [True, False], ids=["weighted", "unweighted"])
def test_table_based_indices_equal_raw_recomputation(demo, weighted: bool) -> None:  # type: ignore[no-untyped-def]
    instrument = _instrument()
    report = compute_indices(db.session, IndexQuery(instrument.id, *PERIOD, weighted=weighted))
    assert report.weighting == (WEIGHTED if weighted else UNWEIGHTED)
    raw = {
        (e.domain if e.domain is not None else TOTAL, e.target, e.kind): e
        for e in _raw_estimates(instrument, weighted).estimates
    }
    ours = {(e.domain, e.target, e.kind): e for e in report.estimates.estimates}
    assert set(ours) == set(raw)
    assert len(ours) > 100
    for key, expected in raw.items():
        got = ours[key]
        assert got.n == expected.n, key
        assert got.df == expected.df, key
        for name in ("estimate", "se"):
            assert _close(getattr(got, name), getattr(expected, name)), (key, name)
        assert all(_close(a, b) for a, b in zip(got.ci, expected.ci, strict=True)), key
        assert [f.code for f in got.flags] == [f.code for f in expected.flags], key


def test_report_says_how_it_was_made(demo) -> None:  # type: ignore[no-untyped-def]
    instrument = _instrument()
    report = compute_indices(db.session, IndexQuery(instrument.id, *PERIOD))
    assert report.instrument == "sipas-2017 v1"
    assert report.period == PERIOD
    assert report.definition == "A"
    assert "counter-days as PSUs" in report.design
    assert set(report.ci_methods) == {"item share", "composite", "mean score"}
    overall = report.get(TOTAL, "overall")
    assert 0.8 < overall.estimate < 0.99 and overall.ci[0] < overall.estimate < overall.ci[1]
    answered = sum(
        1
        for r in db.session.scalars(select(Response).where(Response.status == "valid"))
        for a in r.answers
        if a.item_id == instrument.items[0].id and a.score is not None
    )
    assert report.get(TOTAL, "q01", "mean").n == answered


def test_one_agency_equals_its_domain_in_the_full_run(demo) -> None:  # type: ignore[no-untyped-def]
    instrument = _instrument()
    full = compute_indices(db.session, IndexQuery(instrument.id, *PERIOD))
    agency = next(e.domain for e in full.estimates.estimates if e.domain != TOTAL)
    alone = compute_indices(db.session, IndexQuery(instrument.id, *PERIOD, agency_ids=[agency], include_total=False))
    for target in ("overall", "access", "q05"):
        a, b = full.get(agency, target), alone.get(agency, target)
        assert _close(a.estimate, b.estimate) and _close(a.se, b.se) and a.df == b.df


def test_missing_volumes_fall_back_to_unweighted_with_a_note(demo) -> None:  # type: ignore[no-untyped-def]
    instrument = _instrument()
    db.session.query(TransactionVolume).delete()
    report = compute_indices(db.session, IndexQuery(instrument.id, *PERIOD))
    assert report.weighting == UNWEIGHTED
    assert any("no transaction volumes" in note.message for note in report.notes)


def test_empty_scope_is_a_clear_lookup_error(demo) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(LookupError, match="no valid responses"):
        compute_indices(db.session, IndexQuery(_instrument().id, dt.date(2001, 1, 1), dt.date(2001, 12, 31)))


def test_a_criterion_answered_only_not_applicable_is_left_out_with_a_note(demo) -> None:  # type: ignore[no-untyped-def]
    from survey.models import Answer, AnswerTally
    from survey.services.statistics import tallies

    instrument = _instrument()
    q18 = next(item for item in instrument.items if item.code == "q18")
    db.session.query(Answer).filter(Answer.item_id == q18.id).update({Answer.score: None})
    tallies.rebuild(db.session)
    assert db.session.query(AnswerTally).filter(AnswerTally.item_id == q18.id, AnswerTally.n_valid > 0).count() == 0
    report = compute_indices(db.session, IndexQuery(instrument.id, *PERIOD))
    assert any("q18" in note.message for note in report.notes)
    results = report.get(TOTAL, "results")
    q16, q17 = report.get(TOTAL, "q16"), report.get(TOTAL, "q17")
    assert math.isclose(results.estimate, (q16.estimate + q17.estimate) / 2, rel_tol=1e-12)
    assert 0 < report.get(TOTAL, "overall").estimate < 1


def test_cached_reports_are_shared_until_invalidated(demo) -> None:  # type: ignore[no-untyped-def]
    from survey.services.statistics import index_cache

    query = IndexQuery(_instrument().id, *PERIOD)
    index_cache.invalidate()
    first = index_cache.cached_indices(db.session, query, ttl_seconds=60)
    assert index_cache.cached_indices(db.session, query, ttl_seconds=60) is first
    assert index_cache.cached_indices(db.session, query, ttl_seconds=0) is not first
    index_cache.invalidate()
    assert index_cache.cached_indices(db.session, query, ttl_seconds=60) is not first
    index_cache.invalidate()


def test_an_exclusion_clears_the_cache(demo) -> None:  # type: ignore[no-untyped-def]
    from survey.services.review.exclusions import exclude_response
    from survey.services.statistics import index_cache

    query = IndexQuery(_instrument().id, *PERIOD)
    cached = index_cache.cached_indices(db.session, query, ttl_seconds=60)
    response = db.session.scalars(
        select(Response).where(Response.status == "valid", Response.instrument_id == query.instrument_id)
    ).first()
    exclude_response(response.agency_id, response.id, "test_or_training", None, actor_user_id=1)
    fresh = index_cache.cached_indices(db.session, query, ttl_seconds=60)
    assert fresh is not cached
    assert fresh.get(TOTAL, "overall").n == cached.get(TOTAL, "overall").n - 1
    index_cache.invalidate()


def test_a_weighting_cell_emptied_by_exclusions_is_ignored(demo) -> None:  # type: ignore[no-untyped-def]
    from survey.services.review.exclusions import exclude_response

    instrument = _instrument()
    first = db.session.scalars(
        select(Response).where(Response.status == "valid", Response.instrument_id == instrument.id)
    ).first()
    cell = db.session.scalars(
        select(Response).where(
            Response.status == "valid",
            Response.agency_id == first.agency_id,
            Response.field_id.is_(first.field_id) if first.field_id is None else Response.field_id == first.field_id,
            Response.received_on >= first.received_on.replace(day=1),
            Response.instrument_id == instrument.id,
        )
    ).all()
    cell = [r for r in cell if r.received_on.replace(day=1) == first.received_on.replace(day=1)]
    for response in cell:
        exclude_response(response.agency_id, response.id, "test_or_training", None, actor_user_id=1)
    report = compute_indices(db.session, IndexQuery(instrument.id, *PERIOD))
    raw = _raw_estimates(instrument, weighted=True)
    assert math.isclose(report.get(TOTAL, "overall").estimate, raw.get(None, "overall").estimate, rel_tol=1e-9)


def _same_report(a, b) -> None:  # type: ignore[no-untyped-def]
    left = {(e.domain, e.target, e.kind): e for e in a.estimates.estimates}
    right = {(e.domain, e.target, e.kind): e for e in b.estimates.estimates}
    assert left.keys() == right.keys() and len(left) > 100
    for key, e in left.items():
        f = right[key]
        assert (e.n, e.df, [x.code for x in e.flags]) == (f.n, f.df, [x.code for x in f.flags]), key
        assert _close(e.estimate, f.estimate) and _close(e.se, f.se), key


def _stored_months() -> dict:  # type: ignore[type-arg]
    from survey.models import PsuMonthSums

    return {(r.agency_id, r.month, r.weighted): r for r in db.session.scalars(select(PsuMonthSums))}


def test_closed_months_are_stored_and_reused_with_identical_results(demo) -> None:  # type: ignore[no-untyped-def]
    from survey.services.statistics.indices import closed_months

    assert closed_months(dt.date(2025, 11, 15), dt.date(2026, 10, 31), dt.date(2026, 11, 21))[0] == dt.date(2025, 12, 1)
    assert closed_months(*PERIOD, dt.date(2026, 11, 1)) == closed_months(*PERIOD, dt.date(2026, 11, 21))[:-1]
    query = IndexQuery(_instrument().id, *PERIOD)
    first = compute_indices(db.session, query)
    stored = _stored_months()
    assert stored and {month for _, month, _ in stored} <= set(closed_months(*PERIOD, dt.date.today()))
    second = compute_indices(db.session, query)  # every closed month read back from its stored roll-up
    _same_report(first, second)
    # the stored months are not rewritten by a reader that finds them valid
    assert {k: r.computed_at for k, r in _stored_months().items()} == {k: r.computed_at for k, r in stored.items()}


def test_an_exclusion_or_new_volumes_make_a_stored_month_stale(demo) -> None:  # type: ignore[no-untyped-def]
    from survey.services.review.exclusions import exclude_response
    from survey.services.statistics.tallies import forget_months

    query = IndexQuery(_instrument().id, *PERIOD)
    compute_indices(db.session, query)
    valid = db.session.scalars(
        select(Response)
        .where(Response.status == "valid", Response.instrument_id == query.instrument_id)
        .order_by(Response.id)
    ).all()
    months = [(r.agency_id, r.received_on.replace(day=1)) for r in valid]
    # a response whose agency-month keeps other responses after the exclusion (so it is stored again)
    response = next(r for r, month in zip(valid, months, strict=True) if months.count(month) > 1)
    key = (response.agency_id, response.received_on.replace(day=1), True)
    assert key in _stored_months()
    exclude_response(response.agency_id, response.id, "test_or_training", None, actor_user_id=1)
    assert key not in _stored_months()  # the exclusion dropped the stale month
    compute_indices(db.session, query)
    digest = _stored_months()[key].weights_digest
    # new transaction volumes change the month's weights: the digest no longer matches, the month is redone
    same_month = (TransactionVolume.agency_id == response.agency_id, TransactionVolume.month == key[1])
    volume = db.session.scalars(
        select(TransactionVolume).where(*same_month).order_by(TransactionVolume.field_id != response.field_id)
    ).first()  # the response's own field when it has volumes: a cell with respondents
    volume.transactions += 500
    db.session.commit()
    reweighted = compute_indices(db.session, query)
    assert _stored_months()[key].weights_digest != digest
    forget_months(db.session)
    db.session.commit()
    _same_report(reweighted, compute_indices(db.session, query))


def test_a_reader_inside_a_write_transaction_stores_nothing(demo) -> None:  # type: ignore[no-untyped-def]
    query = IndexQuery(_instrument().id, *PERIOD)
    with db.write() as session:
        compute_indices(session, query)
        assert _stored_months() == {}


def test_months_missing_between_stored_ones_are_rolled_up_once(demo) -> None:  # type: ignore[no-untyped-def]
    from survey.services.statistics.tallies import forget_months

    query = IndexQuery(_instrument().id, *PERIOD)
    first = compute_indices(db.session, query)
    stored = sorted(_stored_months())
    assert len(stored) > 4
    gone = [stored[0], stored[len(stored) // 2], stored[-1]]  # hits lie between the months to redo
    for agency_id, month, _ in gone:
        forget_months(db.session, agency_id, month)
    db.session.commit()
    _same_report(first, compute_indices(db.session, query))
    assert sorted(_stored_months()) == stored


def test_an_exclusion_clears_dashboard_breakdowns_too(demo, app) -> None:  # type: ignore[no-untyped-def]
    from survey.services.review.exclusions import exclude_response
    from survey.services.statistics import breakdowns, dashboard

    app.config["INDEX_CACHE_SECONDS"] = 60
    try:
        response = db.session.scalars(
            select(Response).where(Response.status == "valid", Response.instrument_id == _instrument().id)
        ).first()
        period = dashboard.parse_period({"period": "year", "year": "2026"}, dt.date(2026, 1, 1))
        args = (db.session, [response.agency_id], response.instrument_id, period, "vi")
        before = breakdowns.breakdown(*args, by_counter=True)
        assert breakdowns.breakdown(*args, by_counter=True) is before  # cached
        exclude_response(response.agency_id, response.id, "test_or_training", None, actor_user_id=1)
        assert breakdowns.breakdown(*args, by_counter=True) is not before
    finally:
        app.config["INDEX_CACHE_SECONDS"] = 0
        from survey.services.statistics import index_cache

        index_cache.invalidate()
