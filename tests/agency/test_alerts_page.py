"""The alerts page: the stored drops of the agency's scope, the false-alarm rate stated, bad months refused."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from survey.db import db
from survey.models import Agency, Instrument
from survey.services.statistics import alerts
from survey.services.statistics.alerts import SeriesTest

MONTH = dt.date(2026, 10, 1)


def _drop(code: str, share: float) -> None:
    agency = db.session.scalar(select(Agency).where(Agency.code == code))
    province = db.session.scalar(select(Agency).where(Agency.code == "ninh-binh"))
    instrument = db.session.scalar(select(Instrument.id).order_by(Instrument.id))
    assert agency is not None and province is not None and instrument is not None
    existing = [
        (SeriesTest(a.instrument_id, a.series_key, a.agency_id, a.counter_id, a.target, a.share, a.previous_share,
                    a.delta, (a.ci_low, a.ci_high), a.p_value), a.q_value)
        for a in alerts.agency_alerts(db.session, province, _everything(), MONTH, "vi").rows
        for a in [a.alert]
    ]  # fmt: skip
    test = SeriesTest(instrument, f"agency:{agency.id}:overall", agency.id, None, "overall", share, 0.9,
                      share - 0.9, (share - 1.0, share - 0.8), 1e-6)  # fmt: skip
    alerts.store_alerts(province.id, MONTH, 50, [*existing, (test, 1e-4)])


def _everything() -> Any:
    from survey.auth import Scope

    return Scope(True, frozenset())


def test_alerts_page_lists_own_drops_and_states_the_false_alarm_rate(signed_in: Any, logins: dict[str, Any]) -> None:
    code = logins["agency_manager"].agency
    _drop(code, 0.6123)
    _drop("so-tai-chinh", 0.4567)
    page = signed_in("agency_manager").get(f"/agency/{code}/alerts")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count("<h1") == 1
    assert "1 trên 20" in html and "Bonferroni" in html and "Benjamini" in html
    assert "61,23" in html  # this agency's drop, in the Vietnamese number format
    assert "45,67" not in html  # the sibling's drop is not this agency's
    assert "50" in html  # series tested


def test_a_bad_month_is_a_400_with_an_error_summary(signed_in: Any, logins: dict[str, Any]) -> None:
    code = logins["agency_manager"].agency
    page = signed_in("agency_manager").get(f"/agency/{code}/alerts?month=2026-13")
    assert page.status_code == 400 and "error-summary" in page.get_data(as_text=True)
    empty = signed_in("agency_manager").get(f"/agency/{code}/alerts?month=2031-01")
    assert empty.status_code == 200


def test_another_agencys_alerts_page_is_not_found(signed_in: Any) -> None:
    assert signed_in("agency_manager").get("/agency/so-tai-chinh/alerts").status_code == 404
