"""Counter administration and response exclusion: scoped, CSRF-protected, audited, tallies kept exact."""

from __future__ import annotations

from sqlalchemy import func, select

from survey.db import db
from survey.models import Agency, AuditEvent, Counter, Response, ResponseTally
from tests.conftest import hidden_fields


def _agency(code: str) -> Agency:
    agency = db.session.scalar(select(Agency).where(Agency.code == code))
    assert agency is not None
    return agency


def _last_action() -> str | None:
    return db.session.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc()))


def test_rotate_key_rename_and_close_are_audited(signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("agency_manager")
    agency = _agency("so-tu-phap")
    counter = db.session.scalar(select(Counter).where(Counter.agency_id == agency.id).order_by(Counter.id))
    assert counter is not None
    page = client.get("/agency/so-tu-phap/counters").get_data(as_text=True)
    token = hidden_fields(page)["csrf_token"]
    assert (
        client.post(f"/agency/so-tu-phap/counters/{counter.id}/rotate-key", data={"csrf_token": token}).status_code
        == 303
    )
    assert _last_action() == "counter.key_rotated"
    form = hidden_fields(client.get(f"/agency/so-tu-phap/counters/{counter.id}").get_data(as_text=True))
    reply = client.post(
        f"/agency/so-tu-phap/counters/{counter.id}",
        data={**form, "name_vi": "Quầy mới", "name_en": "", "instrument": str(counter.instrument_id)},
    )
    assert reply.status_code == 303
    assert _last_action() == "counter.updated"
    reply = client.post(f"/agency/so-tu-phap/counters/{counter.id}/active", data={"csrf_token": token, "active": "no"})
    assert reply.status_code == 303
    db.session.expire_all()
    assert (counter.key_version, counter.name_vi, counter.active) == (2, "Quầy mới", False)
    assert _last_action() == "counter.deactivated"


def test_rename_needs_a_name(signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("agency_manager")
    counter = db.session.scalar(select(Counter).where(Counter.agency_id == _agency("so-tu-phap").id))
    assert counter is not None
    form = hidden_fields(client.get(f"/agency/so-tu-phap/counters/{counter.id}").get_data(as_text=True))
    reply = client.post(f"/agency/so-tu-phap/counters/{counter.id}", data={**form, "name_vi": " ", "instrument": "1"})
    assert reply.status_code == 422
    assert 'class="error-summary"' in reply.get_data(as_text=True)


def test_posters_come_from_the_poster_service(signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("agency_manager")
    counter = db.session.scalar(select(Counter).where(Counter.agency_id == _agency("so-tu-phap").id))
    assert counter is not None
    poster = client.get(f"/agency/so-tu-phap/counters/{counter.id}/poster")
    assert poster.status_code == 200 and "<svg" in poster.get_data(as_text=True)
    archive = client.get("/agency/so-tu-phap/posters.zip")
    assert archive.status_code == 200 and archive.data[:2] == b"PK"


def _tally_total(agency_id: int) -> int:
    return int(db.session.scalar(select(func.sum(ResponseTally.n)).where(ResponseTally.agency_id == agency_id)) or 0)


def test_excluding_a_response_updates_the_tallies_and_the_audit_log(signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("agency_manager")
    agency = _agency("so-tu-phap")
    response = db.session.scalar(
        select(Response).where(Response.agency_id == agency.id, Response.status == "valid").order_by(Response.id)
    )
    assert response is not None
    before = _tally_total(agency.id)
    url = f"/agency/so-tu-phap/responses/{response.id}/exclude"
    form = hidden_fields(client.get(url).get_data(as_text=True))
    missing = client.post(url, data={**form, "reason": "other", "note": ""})
    assert missing.status_code == 422
    reply = client.post(url, data={**form, "reason": "staff_self_rating", "note": ""})
    assert reply.status_code == 303
    db.session.expire_all()
    assert (response.status, response.exclusion_reason) == ("excluded", "staff_self_rating")
    assert _tally_total(agency.id) == before - 1
    event = db.session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()))
    assert event is not None and event.action == "response.excluded" and event.details["reason"] == "staff_self_rating"


def test_auditor_filters_the_audit_log(signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("auditor")
    reply = client.get("/admin/audit", query_string={"action": "auth.signed_in"})
    html = reply.get_data(as_text=True)
    assert reply.status_code == 200 and "auth.signed_in" in html and "seed.demo</code>" not in html
    assert client.get("/admin/audit", query_string={"date_from": "yesterday"}).status_code == 400
