"""Staff pages in a real browser, at desktop and phone widths: axe, one <h1>, no sideways scrolling.

One server with a year of seeded responses for the whole module; two staff users with known passwords
are added through ``create_user``; each (user, width) signs in once and its browser context is reused.
Every page is saved as a full-page screenshot ``test-artifacts/staff-<page>-<width>.png``.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from survey.services.identity.users import create_user
from tests.e2e.conftest import ARTIFACTS, AXE
from tests.e2e.live_server import LiveServer, app_for, live_server

WIDTHS = {"desktop": (1280, 900), "phone": (360, 740)}
#: Where a role lands after signing in when it has no dashboards (survey.auth.LANDING_PAGES); "/agency/" otherwise.
LANDING = {"auditor": "/admin/audit"}
PROVINCE = "ninh-binh"
AGENCY = "hoa-lu"  # a commune with counters and responses, in the province administrator's scope
YEAR = "?period=year&year=2026"
PASSWORD = "đúng là mật khẩu " + secrets.token_urlsafe(9)
USERS = {
    "province_admin": ("tinh.e2e@test.sipas.vn", "Quản trị tỉnh (kiểm thử)", PROVINCE),
    "auditor": ("kiemtra.e2e@test.sipas.vn", "Kiểm tra viên (kiểm thử)", PROVINCE),
}


def _add_users(database: Path) -> None:
    app = app_for(database)
    with app.app_context():
        for role, (email, name, agency) in USERS.items():
            create_user(email, name, PASSWORD, role, agency)


@pytest.fixture(scope="module")
def staff_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("e2e-staff"), responses=4000) as live:
        _add_users(live.database)
        yield live


def _one_of(server: LiveServer, sql: str) -> int:
    with sqlite3.connect(server.database) as conn:
        row = conn.execute(sql, (AGENCY,)).fetchone()
    assert row is not None, sql
    return int(row[0])


def _pages(server: LiveServer) -> dict[str, str]:
    counter_id = _one_of(
        server, "SELECT c.id FROM counters c JOIN agencies a ON a.id = c.agency_id WHERE a.code = ? ORDER BY c.id"
    )
    response_id = _one_of(
        server,
        "SELECT r.id FROM responses r JOIN counters c ON c.id = r.counter_id JOIN agencies a ON a.id = c.agency_id"
        " WHERE a.code = ? AND r.status = 'valid' ORDER BY r.id DESC",
    )
    return {
        "overview": f"/agency/{AGENCY}/{YEAR}",
        "province-overview": f"/agency/{PROVINCE}/{YEAR}",
        "province": f"/agency/{PROVINCE}/province{YEAR}",
        "trends": f"/agency/{AGENCY}/trends{YEAR}",
        "trends-element": f"/agency/{PROVINCE}/trends{YEAR}&element=procedures",
        "breakdowns": f"/agency/{AGENCY}/breakdowns{YEAR}",
        "province-breakdowns": f"/agency/{PROVINCE}/breakdowns{YEAR}",
        "answers": f"/agency/{AGENCY}/answers{YEAR}",
        "response-rate": f"/agency/{AGENCY}/response-rate{YEAR}",
        "comments": f"/agency/{AGENCY}/comments{YEAR}",
        "period-custom": f"/agency/{AGENCY}/?period=custom&date_from=2026-07-01&date_to=2026-09-30",
        "counters": f"/agency/{AGENCY}/counters",
        "counter": f"/agency/{AGENCY}/counters/{counter_id}",
        "responses": f"/agency/{AGENCY}/responses",
        "exclude": f"/agency/{AGENCY}/responses/{response_id}/exclude",
        "password": "/auth/password",
    }


@pytest.fixture(scope="module")
def contexts(browser, staff_server: LiveServer) -> Iterator[dict]:  # type: ignore[no-untyped-def]
    """Browser contexts by (role or "anonymous", width), created on first use and closed with the module.

    ``bypass_csp`` lets axe's script in; the pages themselves need no script."""
    made: dict = {}

    def get(role: str, width: str):  # type: ignore[no-untyped-def]
        if (role, width) not in made:
            w, h = WIDTHS[width]
            context = browser.new_context(viewport={"width": w, "height": h}, bypass_csp=True, locale="vi-VN")
            if role != "anonymous":
                page = context.new_page()
                page.goto(staff_server.base_url + "/auth/sign-in")
                page.locator("#email").fill(USERS[role][0])
                page.locator("#password").fill(PASSWORD)
                page.locator("button[type=submit]").click()
                expect(page).to_have_url(staff_server.base_url + LANDING.get(role, "/agency/"))
                page.close()
            made[role, width] = context
        return made[role, width]

    yield get  # type: ignore[misc]
    for context in made.values():
        context.close()


def problems(page, name: str, width: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Screenshot the page, then list what is wrong: axe's serious or critical violations, not exactly one
    <h1>, sideways scrolling on a phone."""
    label = f"staff-{name}-{width}"
    page.screenshot(path=str(ARTIFACTS / f"{label}.png"), full_page=True)
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    found = [
        f"{label}: axe {v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:5]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    headings = page.locator("h1").count()
    if headings != 1:
        found.append(f"{label}: {headings} <h1> elements, expected exactly one")
    if width == "phone":
        scroll_width, inner_width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        if scroll_width > inner_width:
            found.append(f"{label}: scrolls sideways ({scroll_width} px > {inner_width} px)")
    return found


@pytest.mark.parametrize("width", WIDTHS)
def test_sign_in_with_a_wrong_password(contexts, staff_server: LiveServer, width: str) -> None:  # type: ignore[no-untyped-def]
    page = contexts("anonymous", width).new_page()
    page.goto(staff_server.base_url + "/auth/sign-in")
    found = problems(page, "sign-in", width)
    page.locator("#email").fill(USERS["province_admin"][0])
    page.locator("#password").fill("không phải mật khẩu này")
    page.locator("button[type=submit]").click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    assert page.title().startswith("Lỗi: ")
    found += problems(page, "sign-in-error", width)
    page.close()
    assert found == [], "\n".join(found)


@pytest.mark.parametrize("width", WIDTHS)
def test_province_administrator_pages(contexts, staff_server: LiveServer, width: str) -> None:  # type: ignore[no-untyped-def]
    page = contexts("province_admin", width).new_page()
    found = []
    for name, path in _pages(staff_server).items():
        response = page.goto(staff_server.base_url + path)
        assert response is not None and response.status == 200, f"{path}: {response and response.status}"
        found += problems(page, name, width)
    page.close()
    assert found == [], "\n".join(found)


@pytest.mark.parametrize("width", WIDTHS)
def test_auditor_sees_the_audit_log(contexts, staff_server: LiveServer, width: str) -> None:  # type: ignore[no-untyped-def]
    page = contexts("auditor", width).new_page()
    response = page.goto(staff_server.base_url + "/admin/audit")
    assert response is not None and response.status == 200
    assert page.locator("table.data tbody tr").count() > 0
    found = problems(page, "audit", width)
    page.close()
    assert found == [], "\n".join(found)


@pytest.mark.parametrize("width", WIDTHS)
def test_mark_a_comment_handled_without_script(contexts, staff_server: LiveServer, width: str) -> None:  # type: ignore[no-untyped-def]
    """Open the note, write what was done, mark the comment handled: it leaves the "not handled" list."""
    page = contexts("province_admin", width).new_page()
    page.goto(f"{staff_server.base_url}/agency/{AGENCY}/comments{YEAR}&status=unhandled")
    first = page.locator("li.comment").first
    comment_id = first.get_attribute("id")
    first.locator("summary").click()
    first.locator("input[name=note]").fill("Đã chuyển bộ phận phụ trách")
    first.locator("button[type=submit]").click()
    expect(page.locator(".note[role=status]")).to_contain_text("đã được đánh dấu là đã xử lý")
    assert page.locator(f"#{comment_id}").count() == 0  # back on the "not handled" list, without it
    found = problems(page, "comments-handled", width)
    page.goto(f"{staff_server.base_url}/agency/{AGENCY}/comments{YEAR}&status=handled")
    expect(page.locator(f"#{comment_id}")).to_contain_text("Đã chuyển bộ phận phụ trách")
    page.close()
    assert found == [], "\n".join(found)
