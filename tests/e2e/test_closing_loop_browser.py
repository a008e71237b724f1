"""The alerts page and the public results page in Chromium at 1280 and 360 px: axe, one <h1>, no sideways
scrolling. Screenshots: ``test-artifacts/staff-alerts-<width>.png``, ``staff-results-…-<width>.png``."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from survey.db import db
from survey.models import Agency, Instrument
from survey.services.identity.users import create_user
from survey.services.statistics import alerts, public_results
from survey.services.statistics.alerts import SeriesTest
from tests.e2e.live_server import LiveServer, app_for, live_server
from tests.e2e.test_staff_browser import WIDTHS, problems

PROVINCE = "ninh-binh"
AGENCY = "hoa-lu"
EMAIL = "tinh.vong.e2e@test.sipas.vn"
PASSWORD = "mật khẩu kiểm thử " + secrets.token_urlsafe(9)


def _prepare(database: Path) -> None:
    """A province administrator, this month's alerts (computed, plus one known drop), the province opted in."""
    app = app_for(database)
    with app.app_context():
        user = create_user(EMAIL, "Quản trị tỉnh (vòng phản hồi)", PASSWORD, "province_admin", PROVINCE)
        province = db.session.scalar(select(Agency).where(Agency.code == PROVINCE))
        agency = db.session.scalar(select(Agency).where(Agency.code == AGENCY))
        instrument = db.session.scalar(select(Instrument.id).order_by(Instrument.id))
        assert province is not None and agency is not None and instrument is not None
        month = dt.date(2026, 10, 1)
        summary = alerts.compute_alerts(db.session, province, month)
        known = SeriesTest(instrument, f"agency:{agency.id}:overall", agency.id, None, "overall", 0.62, 0.86, -0.24,
                           (-0.35, -0.13), 1e-6)  # fmt: skip
        kept = [
            (SeriesTest(a.instrument_id, a.series_key, a.agency_id, a.counter_id, a.target, a.share,
                        a.previous_share, a.delta, (a.ci_low, a.ci_high), a.p_value), a.q_value)
            for row in alerts.agency_alerts(db.session, province, _all(), month, "vi").rows
            for a in [row.alert]
        ]  # fmt: skip
        alerts.store_alerts(province.id, month, summary.tested, [*kept, (known, 1e-4)])
        province = db.session.scalar(select(Agency).where(Agency.code == PROVINCE))
        assert province is not None
        public_results.set_published(province, True, user.id)
        db.session.remove()


def _all():  # type: ignore[no-untyped-def]
    from survey.auth import Scope

    return Scope(True, frozenset())


@pytest.fixture(scope="module")
def loop_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("e2e-loop"), responses=3000) as live:
        _prepare(live.database)
        yield live


@pytest.mark.parametrize("width", WIDTHS)
def test_alerts_page(browser, loop_server: LiveServer, width: str) -> None:  # type: ignore[no-untyped-def]
    w, h = WIDTHS[width]
    context = browser.new_context(viewport={"width": w, "height": h}, bypass_csp=True, locale="vi-VN")
    page = context.new_page()
    page.goto(loop_server.base_url + "/auth/sign-in")
    page.locator("#email").fill(EMAIL)
    page.locator("#password").fill(PASSWORD)
    page.locator("button[type=submit]").click()
    page.wait_for_url(loop_server.base_url + "/agency/")
    reply = page.goto(f"{loop_server.base_url}/agency/{PROVINCE}/alerts")
    assert reply is not None and reply.status == 200
    expect(page.locator("table.data")).to_contain_text("62,00")
    expect(page.locator("main")).to_contain_text("1 trên 20")
    found = problems(page, "alerts", width)
    reply = page.goto(f"{loop_server.base_url}/agency/{PROVINCE}/alerts?month=2026-13")
    assert reply is not None and reply.status == 400
    found += problems(page, "alerts-bad-month", width)
    context.close()
    assert found == [], "\n".join(found)


@pytest.mark.parametrize("width", WIDTHS)
def test_public_results_pages(browser, loop_server: LiveServer, width: str) -> None:  # type: ignore[no-untyped-def]
    w, h = WIDTHS[width]
    context = browser.new_context(viewport={"width": w, "height": h}, bypass_csp=True, locale="vi-VN")
    page = context.new_page()
    found = []
    for name, path in (("results-index", "/results/"), ("results-province", f"/results/{PROVINCE}"),
                       ("results-agency", f"/results/{AGENCY}")):  # fmt: skip
        reply = page.goto(loop_server.base_url + path)
        assert reply is not None and reply.status == 200, path
        assert reply.headers["cache-control"].startswith("public")
        found += problems(page, name, width)
    expect(page.locator("table.data tbody tr")).to_have_count(12)
    context.close()
    assert found == [], "\n".join(found)
