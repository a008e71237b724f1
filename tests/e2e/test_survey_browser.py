"""The citizen's survey in a real browser: phone viewport, both languages, no JavaScript, offline, axe."""

from __future__ import annotations

import json
from collections.abc import Iterator
from unittest.mock import ANY

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import (
    ARTIFACTS,
    AXE,
    THANKS,
    WORKER_QUEUE_JS,
    WORKER_REPLAY_JS,
    answer_everything,
    shot,
    worker_ready,
)
from tests.e2e.live_server import LiveServer, live_server


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


def test_offline_submission_is_queued_by_the_service_worker_and_sent_once(phone, server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    page = phone.new_page()
    page.goto(server.survey_url())
    worker_ready(page)
    answer_everything(page, label_index=5)
    page.locator("#comment").fill("Gửi khi mất mạng")
    submission_id = page.locator("#submission_id").input_value()
    phone.set_offline(True)
    page.locator("button[type=submit]").click()
    status = page.locator("#status")
    expect(status).to_contain_text("đã được lưu trên điện thoại này")
    assert [entry["id"] for entry in page.evaluate(WORKER_QUEUE_JS)] == [submission_id]
    assert page.evaluate("localStorage.getItem('sipas:queue')") is None  # the worker holds it, not the page
    shot(page, "offline-queued")
    # A reload without connection still shows the form (from the worker's cache), the answers and the state.
    page.reload()
    expect(status).to_contain_text("đã được lưu trên điện thoại này")
    assert page.locator("#comment").input_value() == "Gửi khi mất mạng"
    assert page.locator("#submission_id").input_value() == submission_id
    shot(page, "offline-reloaded")
    assert server.count_responses(submission_id) == 0
    phone.set_offline(False)
    expect(page).to_have_url(THANKS, timeout=15_000)
    assert server.count_responses(submission_id) == 1
    # Only the id is remembered once it is stored (so a cached page never reuses it), not the answers.
    assert page.evaluate(WORKER_QUEUE_JS) == [{"id": submission_id, "url": ANY, "state": "sent", "t": ANY}]
    # A later visit starts afresh with a new id, and its queue flush sends nothing again.
    page.goto(server.survey_url())
    assert page.locator("#submission_id").input_value() != submission_id
    assert not page.locator("#comment").input_value()
    page.wait_for_timeout(300)
    assert server.count_responses(submission_id) == 1


def test_a_queued_submission_replayed_twice_is_stored_once(phone, server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    page = phone.new_page()
    page.goto(server.survey_url() + "?lang=en")
    worker_ready(page)
    answer_everything(page, label_index=3)
    submission_id = page.locator("#submission_id").input_value()
    phone.set_offline(True)
    page.locator("button[type=submit]").click()
    expect(page.locator("#status")).to_contain_text("saved on this phone")
    queued = page.evaluate(WORKER_QUEUE_JS)
    assert [entry["id"] for entry in queued] == [submission_id]
    phone.set_offline(False)
    expect(page).to_have_url(THANKS, timeout=15_000)
    assert server.count_responses(submission_id) == 1
    # The same queued entry replayed twice more (a second tab, a sync retry): nothing new is stored.
    for _ in range(2):
        page.evaluate(WORKER_REPLAY_JS, queued)
        for _ in range(100):
            if [e["state"] for e in page.evaluate(WORKER_QUEUE_JS)] == ["sent"]:
                break
            page.wait_for_timeout(100)
        assert [e["state"] for e in page.evaluate(WORKER_QUEUE_JS)] == ["sent"]
    assert server.count_responses(submission_id) == 1


def test_without_a_service_worker_the_page_queues_in_local_storage(browser, server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, service_workers="block")
    page = context.new_page()
    page.goto(server.survey_url())
    answer_everything(page, label_index=5)
    submission_id = page.locator("#submission_id").input_value()
    context.set_offline(True)
    page.locator("button[type=submit]").click()
    expect(page.locator("#status")).to_contain_text("đã được lưu trên điện thoại này")
    queue = json.loads(page.evaluate("localStorage.getItem('sipas:queue')"))
    assert [entry["id"] for entry in queue] == [submission_id]
    assert server.count_responses(submission_id) == 0
    context.set_offline(False)
    expect(page).to_have_url(THANKS, timeout=15_000)
    assert server.count_responses(submission_id) == 1
    assert page.evaluate("localStorage.getItem('sipas:queue')") == "[]"
    page.goto(server.survey_url())
    page.wait_for_timeout(300)
    assert server.count_responses(submission_id) == 1
    context.close()


@pytest.mark.parametrize("workers", ["allow", "block"], ids=["service-worker", "local-storage"])
def test_a_rate_limited_replay_waits_and_is_sent_later(browser, server: LiveServer, workers: str) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, service_workers=workers)
    page = context.new_page()
    page.goto(server.survey_url())
    if workers == "allow":
        worker_ready(page)
    answer_everything(page, label_index=2)
    submission_id = page.locator("#submission_id").input_value()
    context.set_offline(True)
    page.locator("button[type=submit]").click()
    expect(page.locator("#status")).to_contain_text("đã được lưu trên điện thoại này")
    refused: list[str] = []

    def too_many(route) -> None:  # type: ignore[no-untyped-def]
        if route.request.method != "POST":
            route.continue_()
            return
        refused.append(route.request.url)
        route.fulfill(status=429, headers={"Retry-After": "60"}, body="")

    context.route("**/s/*", too_many)
    context.set_offline(False)
    page.wait_for_function("() => navigator.onLine")
    page.evaluate("window.dispatchEvent(new Event('online'))")
    for _ in range(50):
        if refused:
            break
        page.wait_for_timeout(100)
    assert refused, "the queued submission was not retried"
    page.wait_for_timeout(300)
    # Still held on the phone, not lost, and the page did not move on.
    if workers == "allow":
        assert [e["state"] for e in page.evaluate(WORKER_QUEUE_JS)] == [""]
    else:
        assert [e["id"] for e in json.loads(page.evaluate("localStorage.getItem('sipas:queue')"))] == [submission_id]
    assert server.count_responses(submission_id) == 0
    context.unroute("**/s/*")
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page).to_have_url(THANKS, timeout=15_000)
    assert server.count_responses(submission_id) == 1
    context.close()


@pytest.fixture(scope="module")
def limited_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A second server whose survey accepts one submission per address per minute."""
    with live_server(tmp_path_factory.mktemp("e2e-limited"), SIPAS_SUBMIT_RATE_LIMIT="1 per minute") as live:
        yield live


def test_rate_limited_form_comes_back_with_the_answers(browser, limited_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 360, "height": 740}, bypass_csp=True)
    page = context.new_page()
    page.goto(limited_server.survey_url())
    answer_everything(page)
    page.locator("button[type=submit]").click()
    expect(page).to_have_url(THANKS)
    page.goto(limited_server.survey_url())
    answer_everything(page, label_index=2)
    page.locator("#comment").fill("Lần thứ hai")
    submission_id = page.locator("#submission_id").input_value()
    page.locator("button[type=submit]").click()
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("Quá nhiều lượt gửi")
    assert page.title().startswith("Lỗi: ")
    assert page.evaluate("document.activeElement.className") == "error-summary"
    assert page.locator("fieldset.scale").nth(21).locator("input").nth(1).is_checked()
    assert page.locator("#comment").input_value() == "Lần thứ hai"
    assert page.locator("#submission_id").input_value() == submission_id
    assert limited_server.count_responses(submission_id) == 0
    shot(page, "survey-rate-limited")
    assert axe_violations(page) == []
    context.close()


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


# -- the split questionnaire (sipas-2022-short: 6 of 19 criteria, the overall question) -------------------------

SHORT = "sipas-2022-short "
SCREEN = 740


def _visible_questions(page) -> int:  # type: ignore[no-untyped-def]
    return page.evaluate("[...document.querySelectorAll('fieldset.q')].filter(f => f.checkVisibility()).length")


def test_the_short_form_is_at_most_8_questions_on_3_screens_and_is_sent(browser, server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 360, "height": SCREEN}, is_mobile=True, bypass_csp=True)
    page = context.new_page()
    page.goto(server.survey_url(SHORT))
    # 6 ratings, the overall question and who is answering; the optional questions are folded away.
    assert _visible_questions(page) == 8
    assert page.locator("fieldset.scale").count() == 6 + 1
    page.screenshot(path=str(ARTIFACTS / "short-form.png"), full_page=True)
    # From the top of the page to the bottom of the submit button (the footer below it is not the form).
    bottom = page.evaluate("document.querySelector('button[type=submit]').getBoundingClientRect().bottom + scrollY")
    assert bottom <= 3 * SCREEN, f"{bottom} px is {bottom / SCREEN:.2f} screens"
    assert axe_violations(page) == []
    # An empty submit: the error summary lists the 6 ratings, who is answering and the confirmation.
    page.locator("button[type=submit]").click()
    expect(page.locator(".error-summary")).to_be_visible()
    assert page.locator(".error-summary li").count() == 6 + 1 + 1
    assert axe_violations(page) == []
    answer_everything(page)
    submission_id = page.locator("#submission_id").input_value()
    page.locator("button[type=submit]").click()
    expect(page).to_have_url(THANKS)
    assert server.count_responses(submission_id) == 1
    context.close()


def test_the_short_form_without_javascript_and_through_the_offline_queue(browser, phone, server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(java_script_enabled=False, viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.goto(server.survey_url(SHORT))
    answer_everything(page)
    submission_id = page.locator("#submission_id").input_value()
    page.locator("button[type=submit]").click()
    expect(page).to_have_url(THANKS)
    assert server.count_responses(submission_id) == 1
    context.close()

    page = phone.new_page()
    page.goto(server.survey_url(SHORT))
    worker_ready(page)
    answer_everything(page, label_index=5)
    submission_id = page.locator("#submission_id").input_value()
    phone.set_offline(True)
    page.locator("button[type=submit]").click()
    expect(page.locator("#status")).to_contain_text("đã được lưu trên điện thoại này")
    assert server.count_responses(submission_id) == 0
    phone.set_offline(False)
    expect(page).to_have_url(THANKS, timeout=15_000)
    assert server.count_responses(submission_id) == 1  # the queued answers fit the server's assignment
