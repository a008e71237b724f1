"""Alerts: every series of a province tested against its previous month, drops kept under BH at q = 0.05."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from sqlalchemy import func, select

from survey.db import db
from survey.models import Agency, Alert, AlertRun
from survey.services.statistics import alerts
from survey.services.statistics.alerts import SeriesTest, significant_drops

MONTH = dt.date(2026, 10, 1)


def _test(key: str, p: float, delta: float) -> SeriesTest:
    return SeriesTest(1, key, 1, None, "overall", 0.7 + delta, 0.7, delta, (delta - 0.05, delta + 0.05), p)


def test_benjamini_hochberg_keeps_only_drops_under_q() -> None:
    tests = [_test("a", 0.001, -0.2), _test("b", 0.04, -0.1), _test("c", 0.5, -0.01), _test("d", 0.0001, 0.3)]
    # Adjusted: d 0.0004, a 0.002, b 0.0533, c 0.5 — b would pass alone at 0.05 but not among four series.
    kept = significant_drops(tests)
    assert [(t.series_key, round(q, 4)) for t, q in kept] == [("a", 0.002)]
    assert significant_drops([_test("b", 0.04, -0.1)])[0][0].series_key == "b"
    assert significant_drops([]) == []


def _province() -> Agency:
    province = db.session.scalar(select(Agency).where(Agency.code == "ninh-binh"))
    assert province is not None
    return province


def test_compute_alerts_is_idempotent_and_never_uses_a_suppressed_figure(staff_app: Flask) -> None:
    province = _province()
    tests = alerts.province_series(db.session, province, MONTH)
    assert tests, "the seeded province has series with figures in both months"
    keys = {t.series_key for t in tests}
    assert len(keys) == len(tests)
    assert "total:overall" in keys
    # An agency's series is tested exactly when both months have a presented (not suppressed) figure.
    from survey.services.statistics.dashboard import _get, _indices, agency_subtree_ids, period_containing
    from survey.services.statistics.indices import IndexQuery

    ids = agency_subtree_ids(db.session, province)
    now, before = period_containing("month", MONTH), period_containing("month", MONTH).previous()
    instrument = tests[0].instrument_id
    report, _ = _indices(db.session, IndexQuery(instrument, now.start, now.end, agency_ids=ids))
    previous, _ = _indices(db.session, IndexQuery(instrument, before.start, before.end, agency_ids=ids))
    suppressed = 0
    for agency_id in ids:
        a, b = _get(report, agency_id, "overall", "share"), _get(previous, agency_id, "overall", "share")
        shown = a is not None and b is not None and not a.suppressed and not b.suppressed
        suppressed += a is not None and a.suppressed
        assert (f"agency:{agency_id}:overall" in keys) == shown
    assert suppressed > 0, "the seeded months have agencies with too few answers"
    first = alerts.compute_alerts(db.session, province, MONTH)
    assert first.tested == len(tests)
    stored = list(db.session.scalars(select(Alert).where(Alert.province_id == province.id)))
    assert len(stored) == first.alerts == first.new_alerts
    for alert in stored:
        assert alert.delta < 0 and alert.q_value <= alerts.FDR_Q and alert.ci_high >= alert.delta
    again = alerts.compute_alerts(db.session, _province(), MONTH)
    assert (again.tested, again.alerts, again.new_alerts) == (first.tested, first.alerts, 0)
    assert db.session.scalar(select(func.count()).select_from(AlertRun)) == 1


def test_store_alerts_updates_in_place_and_keeps_the_mailed_mark(staff_app: Flask) -> None:
    province = _province()
    drop = SeriesTest(
        _instrument_id(),
        f"agency:{province.id}:overall",
        province.id,
        None,
        "overall",
        0.5,
        0.8,
        -0.3,
        (-0.4, -0.2),
        1e-6,
    )
    summary = alerts.store_alerts(province.id, MONTH, 10, [(drop, 1e-5)])
    assert summary.new_alerts == 1
    alert = db.session.scalar(select(Alert).where(Alert.province_id == province.id))
    assert alert is not None
    alert.notified_at = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    db.session.commit()
    again = alerts.store_alerts(province.id, MONTH, 10, [(drop, 2e-5)])
    assert again.new_alerts == 0
    db.session.expire_all()
    kept = db.session.scalars(select(Alert).where(Alert.province_id == province.id)).one()
    assert kept.id == alert.id and kept.notified_at is not None and kept.q_value == pytest.approx(2e-5)
    alerts.store_alerts(province.id, MONTH, 10, [])
    assert db.session.scalar(select(func.count()).select_from(Alert)) == 0


def _instrument_id() -> int:
    from survey.models import Instrument

    found = db.session.scalar(select(Instrument.id).order_by(Instrument.id))
    assert found is not None
    return found


def test_compute_alerts_command(staff_app: Flask) -> None:
    runner = staff_app.test_cli_runner()
    result = runner.invoke(args=["compute-alerts", "--month", "2026-10", "--no-mail"])
    assert result.exit_code == 0, result.output
    assert "ninh-binh 2026-10:" in result.output and "series tested" in result.output
    bad = runner.invoke(args=["compute-alerts", "--month", "10-2026"])
    assert bad.exit_code != 0 and "YYYY-MM" in bad.output
