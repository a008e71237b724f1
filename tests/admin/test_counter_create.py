"""Adding a counter: scoped to manage_counters, validated, audited, CSRF-protected."""

from __future__ import annotations

from sqlalchemy import select

from survey.db import db
from survey.models import Counter, Instrument
from tests.admin.helpers import agency, csrf, last_event


def _post(client, code: str = "quay-moi", **fields: str):  # type: ignore[no-untyped-def]
    instrument = db.session.scalar(select(Instrument).order_by(Instrument.code.desc()))
    assert instrument is not None
    data = {
        "csrf_token": csrf(client),
        "code": code,
        "name_vi": "Quầy mới",
        "name_en": "",
        "instrument": str(instrument.id),
    }
    data.update(fields)
    return client.post("/agency/so-tu-phap/counters/new", data=data)


def test_add_a_counter(signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("agency_manager")
    listing = client.get("/agency/so-tu-phap/counters").get_data(as_text=True)
    assert 'href="/agency/so-tu-phap/counters/new"' in listing
    page = client.get("/agency/so-tu-phap/counters/new").get_data(as_text=True)
    assert "<h1>Thêm quầy</h1>" in page
    reply = _post(client)
    assert reply.status_code == 303
    counter = db.session.scalar(
        select(Counter).where(Counter.agency_id == agency("so-tu-phap").id, Counter.code == "quay-moi")
    )
    assert counter is not None and counter.active and counter.key_version == 1
    event = last_event()
    assert event is not None and event.action == "counter.created" and event.target_id == str(counter.id)
    # Its poster is available straight away.
    assert client.get(f"/agency/so-tu-phap/counters/{counter.id}/poster").status_code == 200


def test_bad_counters_are_refused(signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("agency_manager")
    for code, fields, message in [
        ("quay-01", {}, "Cơ quan này đã có quầy mang mã này"),
        ("Quầy 7", {}, "Chỉ dùng chữ thường không dấu"),
        ("quay-07", {"instrument": "999999"}, "Chọn phiếu khảo sát"),
        ("quay-07", {"name_vi": ""}, "Hãy nhập tên quầy bằng tiếng Việt"),
    ]:
        reply = _post(client, code, **fields)
        assert reply.status_code == 422, code
        assert message in reply.get_data(as_text=True), code
    assert _post(client, csrf_token="").status_code == 400
    assert db.session.scalar(select(Counter).where(Counter.code.in_(["quay-07", "quay-moi"]))) is None


def test_other_agencies_and_roles_are_refused(signed_in) -> None:  # type: ignore[no-untyped-def]
    manager = signed_in("agency_manager")
    assert manager.get("/agency/so-tai-chinh/counters/new").status_code == 404
    assert signed_in("agency_viewer").get("/agency/hoa-lu/counters/new").status_code == 403
    english = signed_in("province_admin").get("/agency/so-tu-phap/counters/new?lang=en").get_data(as_text=True)
    assert "<h1>Add a counter</h1>" in english
