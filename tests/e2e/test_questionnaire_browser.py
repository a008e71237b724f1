"""A province administrator authors a short form in a real browser, at desktop and phone widths: uploads the
XLSForm, reads the draft, previews it as citizens will see it, publishes it and gives it to a counter.

Every page passes axe (serious and critical), has one <h1> and, on a phone, no sideways scrolling; each is
saved as ``test-artifacts/staff-questionnaire-<page>-<width>.png`` (the staff pages' own check).
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from playwright.sync_api import expect

from survey.services.administration.instrument_documents import to_xlsform
from survey.services.administration.instruments import read_instrument_files
from survey.services.identity.users import create_user
from tests.e2e.live_server import LiveServer, app_for, live_server
from tests.e2e.test_staff_browser import WIDTHS, problems

EMAIL = "soan.e2e@test.sipas.vn"
PASSWORD = "mật khẩu soạn phiếu " + secrets.token_urlsafe(9)
AGENCY = "hoa-lu"
WARD = next(s for s in read_instrument_files() if s.code == "sipas-ward-2026")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("e2e-questionnaires"), responses=200) as live:
        app = app_for(live.database)
        with app.app_context():
            create_user(EMAIL, "Người soạn phiếu (kiểm thử)", PASSWORD, "province_admin", "ninh-binh")
        yield live


def _problems(page, name: str, width: str) -> list[str]:  # type: ignore[no-untyped-def]
    return problems(page, f"questionnaire-{name}", width)


@pytest.mark.parametrize("width", WIDTHS)
def test_a_province_administrator_authors_previews_publishes_and_assigns_a_short_form(
    browser, server: LiveServer, width: str, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    code = f"phieu-phuong-{width}"
    form_file = tmp_path / f"{code}.xlsx"
    form_file.write_bytes(to_xlsform(replace(WARD, code=code, name_vi=f"Phiếu phường rút gọn ({width})")))
    w, h = WIDTHS[width]
    context = browser.new_context(viewport={"width": w, "height": h}, bypass_csp=True, locale="vi-VN")
    page = context.new_page()
    page.goto(server.base_url + "/auth/sign-in")
    page.locator("#email").fill(EMAIL)
    page.locator("#password").fill(PASSWORD)
    page.locator("button[type=submit]").click()
    expect(page).to_have_url(server.base_url + "/agency/")

    page.goto(server.base_url + "/admin/questionnaires")
    found = _problems(page, "list", width)
    page.locator("input[type=file]").set_input_files(str(form_file))
    page.get_by_role("button", name="Kiểm tra và lưu thành bản nháp").click()
    expect(page.locator(".note[role=status]")).to_contain_text(f"Đã lưu bản nháp {code} v1")
    expect(page.locator("dl.facts")).to_contain_text("Bản nháp")
    found += _problems(page, "draft", width)

    page.get_by_role("link", name="Xem trước như người dân thấy").click()
    expect(page.locator("fieldset.q.scale")).to_have_count(9)
    found += _problems(page, "preview", width)
    page.go_back()

    page.get_by_role("button", name="Công bố").click()
    expect(page.locator(".note[role=status]")).to_contain_text("đã được công bố")
    expect(page.locator("dl.facts")).to_contain_text("Đã công bố")
    found += _problems(page, "published", width)

    with sqlite3.connect(server.database) as conn:
        counter_id, instrument_id = conn.execute(
            "SELECT c.id, (SELECT id FROM instruments WHERE code = ?) FROM counters c JOIN agencies a"
            " ON a.id = c.agency_id WHERE a.code = ? ORDER BY c.id",
            (code, AGENCY),
        ).fetchone()
    page.goto(f"{server.base_url}/agency/{AGENCY}/counters/{counter_id}")
    page.locator("select[name=instrument]").select_option(str(instrument_id))
    page.locator("form").filter(has=page.locator("select[name=instrument]")).locator("button[type=submit]").click()
    found += _problems(page, "assigned", width)
    with sqlite3.connect(server.database) as conn:
        assigned = conn.execute("SELECT instrument_id FROM counters WHERE id = ?", (counter_id,)).fetchone()[0]
        events = [
            row[0]
            for row in conn.execute(
                "SELECT action FROM audit_log WHERE target_id = ? OR target_id = ? ORDER BY id",
                (f"{code} v1", str(counter_id)),
            )
        ]
    assert assigned == instrument_id
    assert [e for e in events if e.startswith("instrument.")] == ["instrument.draft_saved", "instrument.published"]
    assert "counter.updated" in events
    context.close()
    assert found == [], "\n".join(found)
