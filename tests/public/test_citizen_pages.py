"""What citizens read: nothing chosen for them, the scale's numbers, one way of address, the header, the favicon,
and the next step on the thank-you page."""

from __future__ import annotations

import re

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po
from flask import Flask, g
from flask.testing import FlaskClient
from sqlalchemy import select

from survey.db import db
from survey.models import Agency, Counter
from survey.services.submissions.links import counter_survey_path, kiosk_path
from tests.conftest import ROOT, hidden_fields
from tests.public.helpers import followed

pytestmark = pytest.mark.usefixtures("demo")


def _counter() -> Counter:
    return next(
        c for c in db.session.scalars(select(Counter).order_by(Counter.id)) if c.instrument.code == "sipas-2017"
    )


def _page(client: FlaskClient, url: str) -> str:
    """A page's text; the test's requests share one app context, where Flask-Babel keeps the last locale."""
    g.pop("_flask_babel", None)
    return client.get(url).get_data(as_text=True)


def test_nothing_is_chosen_for_the_citizen_and_who_answers_is_asked(client: FlaskClient, survey_answers) -> None:  # type: ignore[no-untyped-def]
    counter = _counter()
    path = counter_survey_path(client.application.config, counter)
    html = client.get(path).get_data(as_text=True)
    assert " checked" not in html
    # Who answers is required (every response records it), so its section is not headed "optional".
    assert "Về ông/bà và thủ tục đã thực hiện</h2>" in html and "(không bắt buộc)</h2>" not in html
    assert "<legend>Ông/bà trả lời với tư cách</legend>" in html
    data = survey_answers(counter.instrument, **hidden_fields(html))
    del data["respondent_type"]
    page = followed(client, client.post(path, data=data))
    assert page.status_code == 422
    assert (
        'href="#respondent_type-0">Vui lòng chọn ông/bà là người dân hay người đại diện tổ chức</a>'
        in page.get_data(as_text=True)
    )


def test_the_error_summary_lists_every_missing_answer_in_page_order(client: FlaskClient) -> None:
    counter = _counter()
    path = counter_survey_path(client.application.config, counter)
    token = hidden_fields(client.get(path).get_data(as_text=True))
    page = followed(client, client.post(path, data=token))  # an empty submit
    html = page.get_data(as_text=True)
    summary = re.search(r'<div class="error-summary".*?</div>', html, re.S)
    assert summary is not None
    targets = re.findall(r'<li><a href="#([\w-]+)">', summary.group(0))
    items = [f"q_{item.code}-0" for item in counter.instrument.items if not item.optional]
    assert targets == [*items, "respondent_type-0", "adult"]


def test_each_level_of_the_scale_is_numbered_on_screen_not_applicable_is_not(client: FlaskClient) -> None:
    counter = _counter()
    html = client.get(counter_survey_path(client.application.config, counter)).get_data(as_text=True)
    # The hint says "from 1 to 5": the stylesheet writes each level's number before its label (part of its
    # accessible name, which a browser test checks), and none before "not applicable".
    css = (ROOT / "static/css/sipas.css").read_text(encoding="utf-8")
    for level in range(1, 6):
        assert f'.scale .o:nth-of-type({level})::before{{content:"{level}"}}' in css
    assert ".scale .na::before{content:none}" in css
    assert html.count('<label class="o na">') == sum(item.allows_na for item in counter.instrument.items)
    q08 = re.search(r'<fieldset class="q scale" id="q_q08">.*?</fieldset>', html, re.S)
    assert q08 is not None and re.findall(r'<label class="o( na)?">', q08.group(0)) == ["", "", "", "", "", " na"]
    # The error links leave room for the sticky progress bar above the question they scroll to.
    assert ".q,.fld{scroll-margin-top:" in css


def test_the_header_names_the_agency_in_the_page_language_and_the_counters_field(client: FlaskClient) -> None:
    counter = _counter()
    agency = counter.agency
    agency.name_en = None  # no English name: the Vietnamese one, as a proper noun, with no half-translation
    counter.name_vi, counter.name_en, counter.field_code = "Quầy số 1 – Đất đai", "Counter 1", "dat-dai"
    db.session.commit()
    path = counter_survey_path(client.application.config, counter)
    english = _page(client, path + "?lang=en")
    assert f'<p class="where"><span lang="vi">{agency.name_vi}</span><br>Counter 1 · Land</p>' in english
    # "Quầy số 1 – Đất đai" already says its field: it is not repeated.
    assert f'<p class="where">{agency.name_vi}<br>Quầy số 1 – Đất đai</p>' in _page(client, path + "?lang=vi")
    agency.name_en, counter.name_en = "Department of Natural Resources", None
    db.session.commit()
    english = _page(client, path + "?lang=en")
    # A counter named only in Vietnamese keeps that name (lang="vi"); its field still says, in English, what it serves.
    assert (
        '<p class="where">Department of Natural Resources<br><span lang="vi">Quầy số 1 – Đất đai</span> · Land</p>'
        in english
    )


def _public_messages() -> set[str]:
    keywords = {"_": None, "gettext": None, "lazy_gettext": None, "_l": None}
    files = [*(ROOT / "templates/public").glob("*.html"), *(ROOT / "survey/public").glob("*.py")]
    found = set()
    for path in files:
        method = "python" if path.suffix == ".py" else "jinja2"
        for _line, message, _comments, _context in extract_from_file(method, str(path), keywords=keywords):
            found.add(message if isinstance(message, str) else message[0])
    return found


def test_citizens_are_addressed_as_ong_ba_everywhere(client: FlaskClient) -> None:
    with (ROOT / "translations/vi/LC_MESSAGES/messages.po").open("rb") as fh:
        catalog = {m.id: m.string for m in read_po(fh) if m.id}
    for message in _public_messages() | {"How we handle your answers"}:
        assert not re.search(r"\b[Bb]ạn\b", catalog[message]), (message, catalog[message])
    counter = _counter()
    counter.kiosk_enabled = True
    db.session.commit()
    config = client.application.config
    for path in (
        counter_survey_path(config, counter),
        kiosk_path(config, counter),
        kiosk_path(config, counter) + "/thanks",
    ):
        html = _page(client, path + "?lang=vi")
        assert not re.search(r"\b[Bb]ạn\b", html), path
    assert "Cách chúng tôi xử lý câu trả lời của ông/bà" in client.get(counter_survey_path(config, counter)).get_data(
        as_text=True
    )


def test_every_page_names_a_small_cached_favicon(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    assert '<link rel="icon" href="/favicon.ico">' in html
    icon = client.get("/favicon.ico")
    data, cache = icon.data, icon.headers["Cache-Control"]
    icon.close()
    assert icon.status_code == 200 and icon.mimetype == "image/x-icon"
    assert data[:4] == b"\x00\x00\x01\x00" and len(data) < 2048  # an ICO header; small
    assert "max-age=604800" in cache and "no-store" not in cache


def test_thanks_gives_the_agencys_feedback_channel_in_the_page_language(client: FlaskClient, app: Flask) -> None:
    counter = _counter()
    agency = db.session.get(Agency, counter.agency_id)
    assert agency is not None
    thanks = counter_survey_path(app.config, counter) + "/thanks"
    assert "Để phản ánh, kiến nghị" not in _page(client, thanks)  # none set: no empty box
    agency.feedback_channel_vi = "Đường dây nóng 0229 3 871 234"
    agency.feedback_channel_en = "Hotline 0229 3 871 234"
    agency.feedback_url = "https://dichvucong.example.vn/pakn"
    db.session.commit()
    html = _page(client, thanks + "?lang=vi")
    assert '<h2 id="next-title">Để phản ánh, kiến nghị hoặc góp ý</h2>' in html
    assert "Đường dây nóng 0229 3 871 234" in html and 'href="https://dichvucong.example.vn/pakn"' in html
    assert "Hotline 0229 3 871 234" in _page(client, thanks + "?lang=en")
    agency.feedback_channel_en = None
    db.session.commit()
    assert "Đường dây nóng 0229 3 871 234" in _page(client, thanks + "?lang=en")
    # On the counter's tablet the address is shown, not linked: the tablet stays on the survey.
    counter.kiosk_enabled = True
    db.session.commit()
    kiosk = _page(client, kiosk_path(app.config, counter) + "/thanks?lang=vi")
    assert "https://dichvucong.example.vn/pakn" in kiosk and 'href="https://dichvucong.example.vn/pakn"' not in kiosk
