"""POST/redirect/GET: a form with answers to correct is kept server-side and shown again after a redirect.

Pressing Back after such a page used to land on Chrome's "Confirm Form Resubmission" (ERR_CACHE_MISS):
the page was the answer to a POST. Now the POST is answered with a 303 to ``GET /s/<token>?f=<key>``,
the answers wait in the database (so any app node can show them), and the page that shows them uses
the key up; a used, expired, forged or foreign key is a fresh form, never an error.
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from survey.db import db, utcnow
from survey.models import Counter, Response, ReturnedForm
from survey.services.submissions.links import counter_survey_path
from survey.services.submissions.store import RETURNED_FORM_SECONDS
from tests.conftest import hidden_fields
from tests.public.helpers import sent_back

pytestmark = pytest.mark.usefixtures("demo")


def _counters() -> list[Counter]:
    return [c for c in db.session.scalars(select(Counter).order_by(Counter.id)) if c.instrument.code == "sipas-2017"]


def _kept() -> int:
    return db.session.scalar(select(func.count()).select_from(ReturnedForm)) or 0


def _send_incomplete(client: FlaskClient, counter: Counter, survey_answers, **extra: str):  # type: ignore[no-untyped-def]
    path = counter_survey_path(client.application.config, counter)
    data = survey_answers(counter.instrument, **hidden_fields(client.get(path).get_data(as_text=True)), **extra)
    del data["q_q10"], data["adult"]
    return path, data, client.post(path, data=data)


def test_answers_to_correct_are_redirected_and_shown_once_with_the_answers(client: FlaskClient, survey_answers) -> None:  # type: ignore[no-untyped-def]
    counter = _counters()[0]
    before = db.session.scalar(select(func.count()).select_from(Response))
    path, data, posted = _send_incomplete(client, counter, survey_answers, q_q05="2", comment="Chờ lâu", gender="male")
    assert sent_back(posted)
    location = posted.headers["Location"]
    assert urlsplit(location).path == path
    key = parse_qs(urlsplit(location).query)["f"][0]
    assert _kept() == 1
    # The key is not stored, only its digest: the table alone does not lead to the page.
    stored = db.session.scalar(select(ReturnedForm))
    assert stored is not None and key not in stored.key_digest and len(stored.key_digest) == 64
    assert "csrf_token" not in stored.fields and "website" not in stored.fields

    page = client.get(location)
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert re.search(r"<title>Lỗi: ", html) and 'href="#q_q10-0"' in html and 'href="#adult"' in html
    assert 'name="q_q05" value="2" checked>' in html and "Chờ lâu</textarea>" in html
    assert re.search(r'name="gender" value="male"[^>]* checked>', html)
    fresh = hidden_fields(html)
    assert fresh["submission_id"] == data["submission_id"] and fresh["csrf_token"]
    assert _kept() == 0  # shown, so forgotten
    assert db.session.scalar(select(func.count()).select_from(Response)) == before

    # Back (or a reload) to the same address later: a normal, fresh form, not an error.
    again = client.get(location)
    assert again.status_code == 200
    assert 'class="error-summary"' not in again.get_data(as_text=True)
    # The kept answers, sent again with the new token and the missing ones, are stored once.
    complete = {**data, **fresh, "q_q10": "4", "adult": "y"}
    assert client.post(path, data=complete).headers["Location"].endswith("/thanks")
    assert db.session.scalar(select(func.count()).select_from(Response)) == before + 1


def test_the_scripts_request_only_looks_and_the_page_it_opens_uses_the_key(client: FlaskClient, survey_answers) -> None:  # type: ignore[no-untyped-def]
    """survey.js posts with fetch, which follows the redirect (Sec-Fetch-Mode: cors); it then opens the page."""
    _path, _data, posted = _send_incomplete(client, _counters()[0], survey_answers)
    location = posted.headers["Location"]
    looked = client.get(location, headers={"Sec-Fetch-Mode": "cors"})
    assert looked.status_code == 422 and _kept() == 1
    shown = client.get(location, headers={"Sec-Fetch-Mode": "navigate"})
    assert shown.status_code == 422 and _kept() == 0


def test_a_duplicate_dossier_comes_back_as_409_with_its_message(client: FlaskClient, survey_answers) -> None:  # type: ignore[no-untyped-def]
    counter = _counters()[0]
    path = counter_survey_path(client.application.config, counter)
    for _attempt in range(2):
        data = survey_answers(
            counter.instrument, **hidden_fields(client.get(path).get_data(as_text=True)), dossier_code="H43-7777"
        )
        posted = client.post(path, data=data)
    assert sent_back(posted)
    page = client.get(posted.headers["Location"])
    html = page.get_data(as_text=True)
    assert page.status_code == 409
    assert "Hồ sơ này đã được đánh giá" in html and 'href="#dossier_code"' in html
    assert 'value="H43-7777"' in html


@pytest.mark.parametrize("key", ["", "short", "x" * 65, "a" * 24, "../../etc/passwd", "%00" * 8], ids=str)
def test_an_unknown_or_malformed_key_is_a_fresh_form(client: FlaskClient, key: str) -> None:
    path = counter_survey_path(client.application.config, _counters()[0])
    page = client.get(path + "?f=" + key)
    assert page.status_code in (200, 400)  # a NUL byte in the query is refused before the view (400)
    assert 'class="error-summary"' not in page.get_data(as_text=True)


def test_a_key_only_opens_its_own_counters_form(client: FlaskClient, survey_answers) -> None:  # type: ignore[no-untyped-def]
    first, second = _counters()[:2]
    _path, _data, posted = _send_incomplete(client, first, survey_answers, comment="Chỉ ở quầy này")
    key = parse_qs(urlsplit(posted.headers["Location"]).query)["f"][0]
    other = client.get(counter_survey_path(client.application.config, second) + "?f=" + key)
    assert other.status_code == 200 and "Chỉ ở quầy này" not in other.get_data(as_text=True)
    assert _kept() == 1  # still there for its own counter


def test_kept_forms_expire_and_are_purged_by_the_next_one(client: FlaskClient, survey_answers) -> None:  # type: ignore[no-untyped-def]
    counter = _counters()[0]
    _path, _data, posted = _send_incomplete(client, counter, survey_answers)
    old = db.session.scalar(select(ReturnedForm))
    assert old is not None
    assert old.expires_at - old.created_at == dt.timedelta(seconds=RETURNED_FORM_SECONDS)
    old.expires_at = utcnow() - dt.timedelta(seconds=1)
    db.session.commit()
    assert client.get(posted.headers["Location"]).status_code == 200  # expired: a fresh form
    _send_incomplete(client, counter, survey_answers)
    _send_incomplete(client, counter, survey_answers)
    assert _kept() == 2  # the expired one is gone, the two new ones wait


def test_an_oversized_comment_is_kept_cut_and_still_refused(client: FlaskClient, survey_answers) -> None:  # type: ignore[no-untyped-def]
    counter = _counters()[0]
    path = counter_survey_path(client.application.config, counter)
    data = survey_answers(counter.instrument, **hidden_fields(client.get(path).get_data(as_text=True)))
    posted = client.post(path, data={**data, "comment": "x" * 100_000})
    assert sent_back(posted)
    stored = db.session.scalar(select(ReturnedForm))
    assert stored is not None and len(stored.fields) < 6_000
    page = client.get(posted.headers["Location"])
    assert page.status_code == 422 and "Ý kiến chỉ được dài tối đa 2000 ký tự" in page.get_data(as_text=True)
