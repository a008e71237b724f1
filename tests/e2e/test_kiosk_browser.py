"""A counter's tablet end to end in Chromium: staff switch kiosk mode on and read its setup code, then citizens
answer one after another on the tablet. Each sees a fresh form; nothing of the one before remains in storage,
in the form or in the tab's history; an unsent submission stays queued until it is delivered. axe on every
new state. The tablet's timers run on Playwright's clock, so the test waits for no real time.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import sqlite3
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from survey.services.identity.users import create_user
from tests.e2e.conftest import THANKS, answer_everything, shot
from tests.e2e.live_server import LiveServer, app_for, live_server
from tests.e2e.test_survey_browser import axe_violations

AGENCY = "hoa-lu"
EMAIL = "quay.e2e@test.sipas.vn"
PASSWORD = "mật khẩu máy tính bảng " + secrets.token_urlsafe(9)
RESET = 12  # seconds, as staff set it below
TABLET = {"width": 800, "height": 1280}

#: Everything the tablet keeps for the page's origin, read from the page.
STORAGE_JS = """() => new Promise(ok => {
  const out = {local: Object.keys(localStorage), session: sessionStorage.length, history: history.length, queue: []};
  const req = indexedDB.open('sipas', 1);
  req.onupgradeneeded = () => req.result.createObjectStore('queue', {keyPath: 'id'});
  req.onerror = () => ok(out);
  req.onsuccess = () => {
    const all = req.result.transaction('queue').objectStore('queue').getAll();
    all.onsuccess = () => { req.result.close(); out.queue = all.result; ok(out); };
  };
})"""
#: The form's state: checked inputs, filled text, the submission id.
FORM_JS = """() => {
  const f = document.getElementById('survey');
  return {checked: [...f.querySelectorAll('input:checked')].map(i => i.name),
          text: [...f.querySelectorAll('textarea, input[type=text]')].map(i => i.value).filter(v => v),
          id: f.elements.submission_id.value};
}"""


@pytest.fixture(scope="module")
def kiosk_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("e2e-kiosk")) as live:
        app = app_for(live.database)
        with app.app_context():
            create_user(EMAIL, "Quản lý quầy (kiểm thử)", PASSWORD, "agency_manager", AGENCY)
        yield live


def _stored(server: LiveServer, submission_id: str) -> tuple[str, int | None, str | None]:
    with sqlite3.connect(server.database) as conn:
        row = conn.execute(
            "SELECT collection_mode, overall_score, comment FROM responses WHERE submission_id = ?",
            (submission_id.replace("-", ""),),
        ).fetchone()
    assert row is not None, submission_id
    return row


def _set_up_kiosk(browser, server: LiveServer) -> str:  # type: ignore[no-untyped-def]
    """Staff switch kiosk mode on from the counters page; the tablet's link, as the setup code carries it."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()
    page.goto(server.base_url + "/auth/sign-in")
    page.locator("#email").fill(EMAIL)
    page.locator("#password").fill(PASSWORD)
    page.locator("button[type=submit]").click()
    page.goto(server.base_url + f"/agency/{AGENCY}/counters")
    page.locator("td.row-actions a", has_text="Máy tính bảng").first.click()
    page.locator("#enabled").check()
    page.locator("#reset_seconds").fill(str(RESET))
    page.get_by_role("button", name="Lưu chế độ kiosk").click()
    expect(page.locator(".kiosk-setup .qr svg")).to_be_visible()
    link = page.locator(".kiosk-setup code.url").inner_text().strip()
    assert link.startswith(server.base_url + "/s/")
    page.locator("#kiosk").scroll_into_view_if_needed()
    shot(page, "kiosk-staff-setup")
    violations = axe_violations(page)
    context.close()
    assert violations == []
    return link


def _tablet(browser, **options):  # type: ignore[no-untyped-def]
    """A tablet whose timers stand still until the test moves the clock (``run_for``)."""
    context = browser.new_context(viewport=TABLET, is_mobile=True, has_touch=True, **options)
    start = dt.datetime.now(dt.UTC)
    context.clock.install(time=start)
    context.clock.pause_at(start + dt.timedelta(seconds=1))
    return context


def _axe(page) -> list[dict]:  # type: ignore[no-untyped-def]
    """axe's serious and critical findings; axe needs running timers, so the clock runs while it checks (for
    about a second: no timer of the tablet, all ten seconds or more away, falls due)."""
    page.clock.resume()
    try:
        return axe_violations(page)
    finally:
        now = dt.datetime.fromtimestamp(page.evaluate("Date.now()") / 1000, dt.UTC)
        page.clock.pause_at(now + dt.timedelta(milliseconds=50))


def _first_screen(page) -> None:  # type: ignore[no-untyped-def]
    """Only the overall rating shows, nothing chosen; the questions wait below it."""
    expect(page.locator("#overall")).to_be_visible()
    expect(page.locator("fieldset.scale").first).to_be_hidden()
    assert page.locator("input:checked").count() == 0
    assert page.locator("label.face").count() == 5


def test_two_citizens_in_a_row_on_the_counters_tablet(browser, kiosk_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    link = _set_up_kiosk(browser, kiosk_server)
    context = _tablet(browser, bypass_csp=True)
    page = context.new_page()
    page.goto(link)
    found: dict[str, list[dict]] = {}
    baseline = page.evaluate("history.length")
    _first_screen(page)
    shot(page, "kiosk-first-screen")
    found["first-screen"] = _axe(page)

    # The first citizen: one tap on a face, then the questions.
    page.get_by_role("radio", name="4 Hài lòng").first.check()
    expect(page.locator("fieldset.scale").first).to_be_visible()
    answer_everything(page)
    page.locator("#comment").fill("Người thứ nhất: cán bộ tận tình")
    first_id = page.evaluate(FORM_JS)["id"]
    shot(page, "kiosk-form")
    found["form"] = _axe(page)
    page.locator("button[type=submit]").click()
    expect(page).to_have_url(THANKS)
    assert "Xin cảm ơn" in page.locator("h1").inner_text()
    expect(page.locator("#fresh")).to_be_visible()
    shot(page, "kiosk-thanks")
    found["thanks"] = _axe(page)
    assert _stored(kiosk_server, first_id) == ("kiosk", 4, "Người thứ nhất: cán bộ tận tình")

    # N seconds after the thank-you page the tablet shows a fresh form by itself.
    page.clock.run_for(RESET * 1000 + 500)
    expect(page).to_have_url(re.compile(re.escape(link) + r"\?lang=vi$"))
    _first_screen(page)
    state = page.evaluate(STORAGE_JS)
    form = page.evaluate(FORM_JS)
    assert state["local"] == [] and state["session"] == 0
    assert [e for e in state["queue"] if e.get("state") == "sent" or "body" in e] == []
    assert form["checked"] == [] and form["text"] == [] and form["id"] != first_id
    assert state["history"] == baseline  # every step replaced the page: Back leads to none of it
    assert "Người thứ nhất" not in page.content()

    # The second citizen, with "Start a new form" this time.
    page.get_by_role("radio", name="2 Không hài lòng").first.check()
    answer_everything(page, label_index=2)
    second_id = page.evaluate(FORM_JS)["id"]
    page.locator("button[type=submit]").click()
    expect(page).to_have_url(THANKS)
    assert _stored(kiosk_server, second_id) == ("kiosk", 2, None) and second_id != first_id
    page.locator("#fresh").click()
    expect(page).to_have_url(re.compile(re.escape(link) + r"\?lang=vi$"))
    _first_screen(page)
    state = page.evaluate(STORAGE_JS)
    assert state["local"] == [] and state["session"] == 0 and state["history"] == baseline
    assert page.evaluate(FORM_JS)["id"] not in (first_id, second_id)

    # A third citizen starts, then walks away: a warning, then a fresh form with nothing of theirs.
    page.get_by_role("radio", name="5 Rất hài lòng").first.check()
    page.locator("fieldset.scale").first.locator("label.o").nth(4).click()
    page.locator("#comment").fill("Bỏ dở")
    page.clock.run_for(RESET * 1000 + 500)
    dialog = page.locator("dialog#idle")
    expect(dialog).to_be_visible()
    shot(page, "kiosk-still-there")
    found["still-there"] = _axe(page)
    # "Continue answering" keeps the answers …
    page.locator("#idle-continue").click()
    expect(dialog).to_be_hidden()
    assert page.locator("#comment").input_value() == "Bỏ dở"
    # … and without a touch the warning comes back and the form starts again.
    page.clock.run_for(RESET * 1000 + 500)
    expect(dialog).to_be_visible()
    page.clock.run_for(20_500)
    expect(page).to_have_url(re.compile(re.escape(link) + r"\?lang=vi$"))
    _first_screen(page)
    assert page.evaluate(FORM_JS)["text"] == [] and page.evaluate("history.length") == baseline
    context.close()
    assert {name: v for name, v in found.items() if v} == {}


def test_an_unsent_submission_stays_queued_through_the_reset_and_is_delivered_once(
    browser, kiosk_server: LiveServer
) -> None:  # type: ignore[no-untyped-def]
    link = _set_up_kiosk(browser, kiosk_server)
    # Without a service worker the page keeps the queue itself (sipas:queue in localStorage).
    context = _tablet(browser, service_workers="block")
    page = context.new_page()
    page.goto(link)
    page.get_by_role("radio", name="3 Bình thường").first.check()
    answer_everything(page, label_index=3)
    page.locator("#comment").fill("Gửi khi mất mạng")
    queued_id = page.evaluate(FORM_JS)["id"]
    context.set_offline(True)
    page.locator("button[type=submit]").click()
    expect(page.locator("#status")).to_contain_text("đã được lưu trên máy tính bảng này")
    shot(page, "kiosk-offline-queued")
    # N seconds later the form starts afresh where it is (offline, a new page might not load) … On a loaded
    # machine the failed send (and so the reset timer) can settle after the first clock step: step again.
    for _ in range(4):
        page.clock.run_for(RESET * 1000 + 500)
        if page.evaluate(FORM_JS)["id"] != queued_id:
            break
    expect(page.locator("fieldset.scale").first).to_be_hidden()
    _first_screen(page)
    form = page.evaluate(FORM_JS)
    assert form["checked"] == [] and form["text"] == [] and form["id"] != queued_id
    state = page.evaluate(STORAGE_JS)
    # … keeping only the queue of what is not sent yet.
    assert state["local"] == ["sipas:queue"] and state["session"] == 0
    queue = page.evaluate("JSON.parse(localStorage.getItem('sipas:queue'))")
    assert [entry["id"] for entry in queue] == [queued_id]
    assert kiosk_server.count_responses(queued_id) == 0
    context.set_offline(False)
    page.wait_for_function("() => localStorage.getItem('sipas:queue') === '[]'", timeout=15_000)
    assert kiosk_server.count_responses(queued_id) == 1
    assert _stored(kiosk_server, queued_id) == ("kiosk", 3, "Gửi khi mất mạng")
    context.close()
