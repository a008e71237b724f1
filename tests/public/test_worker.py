"""The service worker script: served at the root for the /s/ scope, as JavaScript, briefly cached, CSP-safe."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from survey.db import db
from survey.models import Counter
from survey.services.submissions.links import counter_survey_path

ROOT = Path(__file__).resolve().parents[2]
BUDGET_BYTES = 40 * 1024


def _counter() -> Counter:
    counters = db.session.scalars(select(Counter).order_by(Counter.id))
    return next(c for c in counters if c.instrument.code == "sipas-2017")


def test_service_worker_is_javascript_with_a_short_cache_lifetime(client: FlaskClient) -> None:
    with client.get("/sw.js") as response:
        body = response.get_data()
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert body == (ROOT / "static/js/sw.js").read_bytes()
    assert response.cache_control.max_age is not None and 0 < response.cache_control.max_age <= 600
    assert "no-store" not in response.headers["Cache-Control"]
    assert response.headers["Service-Worker-Allowed"] == "/s/"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    # A conditional request costs a phone nothing but the headers.
    with client.get("/sw.js", headers={"If-None-Match": response.headers["ETag"]}) as again:
        assert again.status_code == 304


@pytest.mark.parametrize("name", ["sw.js", "survey.js"])
def test_scripts_contact_no_other_host_and_evaluate_no_strings(name: str) -> None:
    script = (ROOT / "static/js" / name).read_text(encoding="utf-8")
    assert "http://" not in script and "https://" not in script
    for forbidden in ("eval(", "new Function", "importScripts(", 'setTimeout("', "document.write"):
        assert forbidden not in script


@pytest.mark.usefixtures("demo")
def test_survey_pages_name_the_worker_and_the_queued_states(client: FlaskClient) -> None:
    path = counter_survey_path(client.application.config, _counter())
    html = client.get(path).get_data(as_text=True)
    assert 'data-sw="/sw.js"' in html
    assert "đã được lưu trên điện thoại này và sẽ được gửi khi có kết nối trở lại" in html
    assert "Hệ thống đang bận" in html
    assert 'data-sw="/sw.js"' in client.get(path + "/thanks").get_data(as_text=True)


def test_script_and_worker_stay_within_their_share_of_the_budget() -> None:
    """HTML (about 21 KB) and the survey's own CSS rules (about 4 KB) leave the scripts 15 KiB."""
    assert (ROOT / "static/js/survey.js").stat().st_size + (ROOT / "static/js/sw.js").stat().st_size <= 15 * 1024


@pytest.mark.usefixtures("demo")
def test_survey_page_with_its_css_script_and_worker_fits_40_kib(client: FlaskClient) -> None:
    reply = client.get(counter_survey_path(client.application.config, _counter()))
    html = reply.get_data()
    # The stylesheet is inlined (one round trip on a slow connection) under the response's CSP nonce.
    nonce = re.search(r"'nonce-([^']+)'", reply.headers["Content-Security-Policy"].split("style-src")[1]).group(1)
    assert f'<style nonce="{nonce}">'.encode() in html
    assert b'rel="stylesheet"' not in html and b"css/staff.css" not in html
    assets = {p: (ROOT / p).stat().st_size for p in ("static/js/survey.js", "static/js/sw.js")}
    assert len(html) + sum(assets.values()) <= BUDGET_BYTES, (len(html), assets)


@pytest.mark.usefixtures("demo")
def test_staff_pages_link_the_staff_stylesheet(client: FlaskClient) -> None:
    page = client.get("/auth/sign-in").get_data(as_text=True)
    assert "css/sipas.css" in page and "css/staff.css" in page
