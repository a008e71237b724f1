"""The citizen's survey in a real browser: phone viewport, both languages, no JavaScript, offline, axe."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import AXE, shot
from tests.e2e.live_server import LiveServer

# A 303 keeps the fragment of the page it answers (e.g. #q_q02-0 after following an error link).
THANKS = re.compile(r"/s/[^/]+/thanks(#[\w-]*)?$")


def answer_everything(page, label_index: int = 4) -> None:  # type: ignore[no-untyped-def]
    """Tap one option of every rating item (the 4th, "satisfied") and confirm 18+."""
    groups = page.locator("fieldset.scale")
    for i in range(groups.count()):
        groups.nth(i).locator("label.o").nth(label_index - 1).click()
    page.locator("#adult").check()


def axe_violations(page) -> list[dict]:  # type: ignore[no-untyped-def]
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize(
    ("lang", "heading", "thanks"),
    [("vi", "Ông/bà hài lòng như thế nào?", "Xin cảm ơn"), ("en", "How satisfied were you?", "Thank you")],
    ids=["vietnamese", "english"],
)
def test_full_submission_on_a_phone(phone, server: LiveServer, lang: str, heading: str, thanks: str) -> None:  # type: ignore[no-untyped-def]
    page = phone.new_page()
    page.goto(server.survey_url() + f"?lang={lang}")
    assert page.locator("h1").inner_text() == heading
    assert page.locator("html").get_attribute("lang") == lang
    progress = page.locator(".prog span")
    assert "0" in progress.inner_text() and "22" in progress.inner_text()
    answer_everything(page)
    assert "22/22" in progress.inner_text() or "22 of 22" in progress.inner_text()
    page.locator("#gender-0").check()
    page.locator("#comment").fill("Cán bộ nhiệt tình")
    submission_id = page.locator("#submission_id").input_value()
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('sipas:draft:')).length") == 1
    shot(page, f"survey-{lang}-filled")
    page.locator("button[type=submit]").click()
    expect(page).to_have_url(THANKS)
    assert thanks in page.locator("h1").inner_text()
    shot(page, f"thanks-{lang}")
    assert server.count_responses(submission_id) == 1
    # The draft kept for reloads is gone once the answers are received.
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('sipas:draft:')).length") == 0


def test_answers_survive_a_reload_with_the_same_submission_id(phone, server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    page = phone.new_page()
    page.goto(server.survey_url())
    submission_id = page.locator("#submission_id").input_value()
    page.locator("fieldset.scale").nth(0).locator("label.o").nth(1).click()
    page.locator("#comment").fill("Chờ hơi lâu")
    page.reload()
    assert page.locator("fieldset.scale").nth(0).locator("input").nth(1).is_checked()
    assert page.locator("#comment").input_value() == "Chờ hơi lâu"
    assert page.locator("#submission_id").input_value() == submission_id
    assert "1" in page.locator(".prog span").inner_text()


def test_without_javascript_errors_then_submission(browser, server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 360, "height": 740}, java_script_enabled=False)
    page = context.new_page()
    page.goto(server.survey_url())
    assert page.locator(".prog").count() == 0
    page.locator("fieldset.scale").nth(0).locator("label.o").nth(2).click()
    page.locator("button[type=submit]").click()
    assert page.title().startswith("Lỗi: ")
    summary = page.locator(".error-summary")
    assert summary.is_visible()
    shot(page, "nojs-errors")
    # The summary links to the first unanswered item's first option, and the kept answer is still checked.
    summary.locator("a").first.click()
    assert page.evaluate("document.activeElement.id") == "q_q02-0"
    assert page.locator("fieldset.scale").nth(0).locator("input").nth(2).is_checked()
    submission_id = page.locator("#submission_id").input_value()
    answer_everything(page)
    page.locator("button[type=submit]").click()
    expect(page).to_have_url(THANKS)
    assert server.count_responses(submission_id) == 1
    context.close()


def test_offline_submission_is_queued_and_sent_once_when_back_online(phone, server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    page = phone.new_page()
    page.goto(server.survey_url())
    answer_everything(page, label_index=5)
    submission_id = page.locator("#submission_id").input_value()
    phone.set_offline(True)
    page.locator("button[type=submit]").click()
    status = page.locator("#status")
    status.wait_for(state="visible")
    assert "mất kết nối" in status.inner_text()
    queue = json.loads(page.evaluate("localStorage.getItem('sipas:queue')"))
    assert [entry["id"] for entry in queue] == [submission_id]
    shot(page, "offline-queued")
    assert server.count_responses(submission_id) == 0
    phone.set_offline(False)
    expect(page).to_have_url(THANKS, timeout=15_000)
    assert server.count_responses(submission_id) == 1
    assert page.evaluate("localStorage.getItem('sipas:queue')") == "[]"
    # A later visit (and its queue flush) sends nothing again.
    page.goto(server.survey_url())
    page.wait_for_timeout(300)
    assert server.count_responses(submission_id) == 1


def test_stale_session_is_recovered_by_the_script(phone, server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    page = phone.new_page()
    page.goto(server.survey_url())
    answer_everything(page)
    submission_id = page.locator("#submission_id").input_value()
    phone.clear_cookies()
    page.locator("button[type=submit]").click()
    expect(page).to_have_url(THANKS)
    assert server.count_responses(submission_id) == 1


def test_stale_session_without_javascript_keeps_the_answers(browser, server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 360, "height": 740}, java_script_enabled=False)
    page = context.new_page()
    page.goto(server.survey_url())
    answer_everything(page)
    submission_id = page.locator("#submission_id").input_value()
    context.clear_cookies()
    page.locator("button[type=submit]").click()
    assert page.title().startswith("Lỗi: ")
    assert "Phiên làm việc đã hết hạn" in page.locator(".error-summary").inner_text()
    assert page.locator("fieldset.scale").nth(21).locator("input").nth(3).is_checked()
    shot(page, "nojs-session-expired")
    page.locator("button[type=submit]").click()
    expect(page).to_have_url(THANKS)
    assert server.count_responses(submission_id) == 1
    context.close()


@pytest.mark.parametrize(("width", "scale"), [(320, 1), (640, 2)], ids=["320px", "zoom-200"])
def test_no_horizontal_scrolling_at_320px_or_200_percent_zoom(
    browser, server: LiveServer, width: int, scale: int
) -> None:  # type: ignore[no-untyped-def]
    # 200 % zoom of a 1280-pixel-wide window lays the page out in 640 CSS pixels at twice the density.
    context = browser.new_context(viewport={"width": width, "height": 700}, device_scale_factor=scale)
    page = context.new_page()
    page.goto(server.survey_url())
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    box = page.locator("fieldset.scale label.o").first.bounding_box()
    assert box is not None and box["height"] >= 44  # touch target
    shot(page, f"survey-{width}px-x{scale}")
    context.close()


def _page_states(browser, server: LiveServer):  # type: ignore[no-untyped-def]
    """Every state a citizen can see, each in a fresh context that lets axe's script in."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, bypass_csp=True)
    page = context.new_page()
    url = server.survey_url()
    page.goto(url)
    yield "survey-vi", page
    page.goto(url + "?lang=en")
    yield "survey-en", page
    page.goto(url + "?lang=vi")
    page.locator("fieldset.scale").nth(0).locator("label.o").nth(0).click()
    page.locator("#dossier_code").fill("??")
    page.locator("button[type=submit]").click()
    page.locator(".error-summary").wait_for()
    yield "survey-errors", page
    page.goto(url)
    page.locator("#dossier_code").fill("")
    answer_everything(page)
    context.set_offline(True)
    page.locator("button[type=submit]").click()
    page.locator("#status").wait_for(state="visible")
    yield "survey-offline", page
    context.set_offline(False)
    expect(page).to_have_url(THANKS, timeout=15_000)
    yield "thanks", page
    page.goto(server.base_url + "/s/not-a-token")
    yield "qr-not-in-use", page
    context.close()
    # Without our script a stale session shows the kept answers with a notice (axe still needs JavaScript).
    context = browser.new_context(viewport={"width": 360, "height": 740}, bypass_csp=True)
    context.route("**/survey.js", lambda route: route.abort())
    page = context.new_page()
    page.goto(url)
    answer_everything(page)
    context.clear_cookies()
    page.locator("button[type=submit]").click()
    yield "survey-session-expired", page
    context.close()


def test_axe_finds_no_serious_or_critical_violations_in_any_state(browser, server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    found = {}
    for name, page in _page_states(browser, server):
        shot(page, f"axe-{name}")
        violations = axe_violations(page)
        if violations:
            found[name] = violations
    assert found == {}
