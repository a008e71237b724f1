"""The survey's corrections in a real browser: Back after errors is a normal page (POST/redirect/GET), the error
links show their question below the sticky progress bar, the scale shows its numbers, nothing is chosen ahead."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import THANKS, answer_everything, shot
from tests.e2e.live_server import LiveServer
from tests.e2e.test_survey_browser import axe_violations

#: What Chrome shows instead of a page when Back leads to the answer of a POST it may not send again.
RESUBMISSION = ("ERR_CACHE_MISS", "Confirm Form Resubmission", "chrome-error://")


def _normal_page(page, heading: str) -> None:  # type: ignore[no-untyped-def]
    assert not page.url.startswith("chrome-error://"), page.url
    html = page.content()
    assert not any(marker in html for marker in RESUBMISSION), page.url
    assert page.locator("h1").inner_text() == heading


def _checked(page, item: int) -> int | None:  # type: ignore[no-untyped-def]
    """The position (0-based) of the checked option of rating item ``item``, or None."""
    options = page.locator("fieldset.scale").nth(item).locator("input")
    return next((i for i in range(options.count()) if options.nth(i).is_checked()), None)


@pytest.mark.parametrize("javascript", [False, True], ids=["no-javascript", "javascript"])
def test_back_after_a_submission_with_errors_is_a_normal_page_and_the_answers_are_kept(
    browser, server: LiveServer, javascript: bool
) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 360, "height": 740}, java_script_enabled=javascript)
    page = context.new_page()
    page.goto(server.base_url + "/")
    page.goto(server.survey_url())
    page.locator("fieldset.scale").nth(0).locator("label.o").nth(1).click()
    page.locator("fieldset.scale").nth(3).locator("label.o").nth(4).click()
    page.locator("#comment").fill("Thủ tục nhanh")
    submission_id = page.locator("#submission_id").input_value()
    page.locator("button[type=submit]").click()
    page.locator(".error-summary").first.wait_for()
    # The page after the redirect (?f=…) keeps what was entered, with the same submission id.
    assert "?f=" in page.url and page.title().startswith("Lỗi: ")
    assert (_checked(page, 0), _checked(page, 3), _checked(page, 1)) == (1, 4, None)
    assert page.locator("#comment").input_value() == "Thủ tục nhanh"
    assert page.locator("#submission_id").input_value() == submission_id
    shot(page, f"prg-errors-{'js' if javascript else 'nojs'}")
    # Back from the corrections: an ordinary page (the form, or the page before it), never a resubmission prompt.
    page.go_back()
    _normal_page(
        page, "Ông/bà hài lòng như thế nào?" if not javascript else "Đánh giá sự hài lòng về dịch vụ hành chính công"
    )
    page.go_forward()
    _normal_page(page, "Ông/bà hài lòng như thế nào?")
    # The corrections were shown once; coming back to them is a fresh form (with the script: the draft).
    assert page.locator(".error-summary").count() == 0
    if javascript:
        assert _checked(page, 0) == 1 and page.locator("#comment").input_value() == "Thủ tục nhanh"
    answer_everything(page)
    page.locator("button[type=submit]").click()
    expect(page).to_have_url(THANKS)
    page.go_back()
    _normal_page(
        page, "Ông/bà hài lòng như thế nào?" if not javascript else "Đánh giá sự hài lòng về dịch vụ hành chính công"
    )
    shot(page, f"prg-back-after-thanks-{'js' if javascript else 'nojs'}")
    context.close()


def test_an_error_link_shows_its_whole_question_below_the_sticky_progress_bar(phone, server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    page = phone.new_page()
    page.goto(server.survey_url())
    page.locator("button[type=submit]").click()  # an empty submit: every question is listed
    summary = page.locator(".error-summary")
    summary.wait_for()
    links = summary.locator("a")
    assert links.count() == 22 + 2  # the 22 criteria, who answers, 18+
    for index in (9, 17, 21, 22):
        links.nth(index).click()
        target = links.nth(index).get_attribute("href")[1:]
        page.wait_for_function("id => document.activeElement && document.activeElement.id === id", arg=target)
        bar = page.locator(".prog").bounding_box()
        question = page.locator(f"#{target}").locator("xpath=ancestor::fieldset[1]").locator("legend")
        box = question.bounding_box()
        assert bar is not None and box is not None
        assert box["y"] >= bar["y"] + bar["height"], (target, box, bar)  # not under the sticky bar
        assert box["y"] + box["height"] <= 740  # and on screen
    shot(page, "prg-error-link-below-the-bar")
    # Following the links added no history entries (Back leaves the page, not a fragment).
    assert page.evaluate("history.length") <= 2


def test_the_scale_shows_its_numbers_and_nothing_is_chosen_in_advance(phone, server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    page = phone.new_page()
    page.goto(server.survey_url())
    # The numbers are part of each option's name, as screen readers and voice control say it.
    labels = ["Rất không hài lòng", "Không hài lòng", "Bình thường", "Hài lòng", "Rất hài lòng"]
    groups = page.locator("fieldset.scale")
    for level, label in enumerate(labels, 1):
        assert page.get_by_role("radio", name=f"{level} {label}", exact=True).count() == groups.count() == 22
    # "Not applicable" has no number.
    assert page.get_by_role("radio", name="Không áp dụng", exact=True).count() == page.locator("label.na").count() > 0
    assert page.locator("input[type=radio]:checked").count() == 0
    shot(page, "survey-numbered-scale")


def test_axe_on_the_landing_page_and_the_corrections_page(browser, server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 360, "height": 740}, bypass_csp=True)
    page = context.new_page()
    found = {}
    landing = page.goto(server.base_url + "/")
    assert landing is not None and len(landing.body()) < 40_000  # the demo's landing page weighed 844 KB
    page.locator("details").first.locator("summary").click()
    shot(page, "landing")
    found["landing"] = axe_violations(page)
    page.goto(server.survey_url())
    page.locator("button[type=submit]").click()
    page.locator(".error-summary").wait_for()
    found["corrections"] = axe_violations(page)
    context.close()
    assert found == {"landing": [], "corrections": []}
