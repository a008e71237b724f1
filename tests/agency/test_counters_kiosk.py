"""Counters page: kiosk mode for a counter's tablet (its setup code), the counter's field, the feedback channel.

Only roles that manage counters use them, within their agencies: another agency's counter is 404, a role
without the capability 403, and nothing is changed by a refused request.
"""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from survey.db import db
from survey.models import Agency, AuditEvent, Counter
from survey.services.submissions.links import kiosk_path
from tests.conftest import hidden_fields

OWN, SIBLING = "so-tu-phap", "so-tai-chinh"


def _agency(code: str) -> Agency:
    agency = db.session.scalar(select(Agency).where(Agency.code == code))
    assert agency is not None
    return agency


def _counter(code: str = OWN) -> Counter:
    counter = db.session.scalar(select(Counter).where(Counter.agency_id == _agency(code).id).order_by(Counter.id))
    assert counter is not None
    return counter


def _token(client: FlaskClient) -> str:
    return hidden_fields(client.get("/auth/password").get_data(as_text=True))["csrf_token"]


def _last_action() -> str | None:
    return db.session.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc()))


def test_a_manager_switches_kiosk_mode_on_gets_the_setup_code_and_can_retire_the_link(signed_in, staff_app) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("agency_manager")
    counter = _counter()
    url = f"/agency/{OWN}/counters/{counter.id}"
    page = client.get(url).get_data(as_text=True)
    assert 'id="kiosk"' in page and "<svg" not in page  # off: no setup code yet
    token = hidden_fields(page)["csrf_token"]
    reply = client.post(url + "/kiosk", data={"csrf_token": token, "enabled": "y", "reset_seconds": "45"})
    assert reply.status_code == 303 and reply.headers["Location"].endswith(url + "#kiosk")
    db.session.expire_all()
    assert (counter.kiosk_enabled, counter.kiosk_reset_seconds) == (True, 45)
    assert _last_action() == "counter.kiosk_updated"
    page = client.get(url).get_data(as_text=True)
    link = kiosk_path(staff_app.config, counter)
    assert staff_app.config["BASE_URL"] + link in page and page.count("<svg") == 1
    assert re.search(r'<div class="qr" role="img" aria-label="[^"]+">', page)
    # The setup code opens the kiosk's survey; the counters table says the tablet is on.
    citizen = staff_app.test_client()
    assert 'data-kiosk="45"' in citizen.get(link).get_data(as_text=True)
    assert "Bật" in client.get(f"/agency/{OWN}/counters").get_data(as_text=True)
    # A new link retires the old one.
    assert client.post(url + "/kiosk/new-link", data={"csrf_token": token}).status_code == 303
    assert _last_action() == "counter.kiosk_key_rotated"
    assert citizen.get(link).status_code == 410
    db.session.expire_all()
    fresh = kiosk_path(staff_app.config, counter)
    assert citizen.get(fresh).status_code == 200
    # Switching kiosk mode off retires the link for good: switched on again, the tablet needs the new code.
    assert client.post(url + "/kiosk", data={"csrf_token": token, "reset_seconds": "45"}).status_code == 303
    assert citizen.get(fresh).status_code == 410
    client.post(url + "/kiosk", data={"csrf_token": token, "enabled": "y", "reset_seconds": "45"})
    assert citizen.get(fresh).status_code == 410


@pytest.mark.parametrize("seconds", ["", "9", "601", "abc", "1.5", "٣٠", "9" * 40, "-30"])
def test_the_reset_delay_must_be_whole_seconds_in_range(signed_in, seconds: str) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("agency_manager")
    counter = _counter()
    url = f"/agency/{OWN}/counters/{counter.id}"
    reply = client.post(url + "/kiosk", data={"csrf_token": _token(client), "enabled": "y", "reset_seconds": seconds})
    html = reply.get_data(as_text=True)
    assert reply.status_code == 422
    assert 'class="error-summary"' in html and 'href="#reset_seconds"' in html
    db.session.expire_all()
    assert (counter.kiosk_enabled, counter.kiosk_reset_seconds) == (False, 30)


def test_the_counters_field_is_saved_and_checked(signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("agency_manager")
    counter = _counter()
    url = f"/agency/{OWN}/counters/{counter.id}"
    form = hidden_fields(client.get(url).get_data(as_text=True))
    data = {**form, "name_vi": counter.name_vi, "name_en": "Counter 1", "instrument": str(counter.instrument_id)}
    assert client.post(url, data={**data, "field": "ly-lich-tu-phap"}).status_code == 303
    db.session.expire_all()
    assert counter.field_code == "ly-lich-tu-phap"
    refused = client.post(url, data={**data, "field": "no-such-field"})
    assert refused.status_code == 422 and 'href="#field"' in refused.get_data(as_text=True)
    assert client.post(url, data={**data, "field": ""}).status_code == 303
    db.session.expire_all()
    assert counter.field_code is None


def test_a_manager_sets_the_feedback_channel_citizens_see_after_answering(signed_in, staff_app) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("agency_manager")
    page = client.get(f"/agency/{OWN}/counters").get_data(as_text=True)
    token = hidden_fields(page)["csrf_token"]
    assert 'action="/agency/so-tu-phap/counters/feedback"' in page
    data = {
        "csrf_token": token,
        "channel_vi": "Đường dây nóng 0229 3 888 999",
        "channel_en": "Hotline 0229 3 888 999",
        "url": "https://stp.ninhbinh.example.vn/gop-y",
    }
    assert client.post(f"/agency/{OWN}/counters/feedback", data=data).status_code == 303
    assert _last_action() == "agency.feedback_channel_updated"
    agency = _agency(OWN)
    db.session.refresh(agency)
    assert (agency.feedback_channel_vi, agency.feedback_url) == (data["channel_vi"], data["url"])
    event = db.session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()))
    assert event is not None and data["channel_vi"] not in str(event.details)  # which parts changed, not the text
    from survey.services.submissions.links import counter_survey_path

    thanks = staff_app.test_client().get(counter_survey_path(staff_app.config, _counter()) + "/thanks")
    assert data["channel_vi"] in thanks.get_data(as_text=True)


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "http://plain.example.vn", "https://", "https://[::1", "https://a b.vn", "x" * 600]
)
def test_the_feedback_address_must_be_https(signed_in, url: str) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("agency_manager")
    reply = client.post(f"/agency/{OWN}/counters/feedback", data={"csrf_token": _token(client), "url": url})
    assert reply.status_code == 422 and 'href="#url"' in reply.get_data(as_text=True)
    db.session.expire_all()
    assert _agency(OWN).feedback_url is None


def test_an_overlong_feedback_text_is_refused(signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("agency_manager")
    reply = client.post(
        f"/agency/{OWN}/counters/feedback", data={"csrf_token": _token(client), "channel_vi": "x" * 501}
    )
    assert reply.status_code == 422 and 'href="#channel_vi"' in reply.get_data(as_text=True)


#: (role, agency it holds a role at or above): what each role gets on these pages of its own agency.
ROLES = [
    ("system_admin", 200),
    ("province_admin", 200),
    ("agency_manager", 200),
    ("agency_viewer", 403),
    ("statistician", 403),
    ("auditor", 403),
]


@pytest.mark.parametrize(("role", "expected"), ROLES, ids=[r for r, _ in ROLES])
def test_each_role_on_the_kiosk_and_feedback_pages_of_its_agency(signed_in, role: str, expected: int) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(role)
    own = "hoa-lu" if role == "agency_viewer" else OWN
    counter = _counter(own)
    token = _token(client)
    base = f"/agency/{own}/counters"
    assert client.get(f"{base}/{counter.id}").status_code == expected
    posts = [
        (f"{base}/{counter.id}/kiosk", {"enabled": "y", "reset_seconds": "20"}),
        (f"{base}/{counter.id}/kiosk/new-link", {}),
        (f"{base}/feedback", {"channel_vi": "Đường dây nóng"}),
    ]
    for url, data in posts:
        reply = client.post(url, data={"csrf_token": token, **data})
        assert reply.status_code == (303 if expected == 200 else 403), (url, reply.status_code)
    db.session.expire_all()
    changed = (counter.kiosk_enabled, counter.kiosk_key_version) != (False, 1)
    assert changed == (expected == 200)


@pytest.mark.parametrize("role", ["agency_manager", "province_admin"])
def test_another_agencys_counters_are_404_and_unchanged(signed_in, role: str) -> None:  # type: ignore[no-untyped-def]
    """A department's manager cannot reach a sibling department; a province admin's province is all of the demo,
    so a counter id of another agency under its own agency's code is the foreign one here."""
    client = signed_in(role)
    token = _token(client)
    foreign = _counter(SIBLING)
    code = SIBLING if role == "agency_manager" else OWN  # own code with a foreign counter id: still not found
    urls = [
        (f"/agency/{code}/counters/{foreign.id}/kiosk", {"enabled": "y", "reset_seconds": "20"}),
        (f"/agency/{code}/counters/{foreign.id}/kiosk/new-link", {}),
    ]
    if role == "agency_manager":
        urls.append((f"/agency/{code}/counters/feedback", {"channel_vi": "Đường dây nóng"}))
    for url, data in urls:
        assert client.post(url, data={"csrf_token": token, **data}).status_code == 404, url
    assert client.get(f"/agency/{code}/counters/{foreign.id}").status_code == 404
    db.session.expire_all()
    assert (foreign.kiosk_enabled, foreign.kiosk_key_version) == (False, 1)
    assert _agency(SIBLING).feedback_channel_vi is None
