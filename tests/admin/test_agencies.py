"""Agencies: tree in scope, child agencies with today's administrative units, renames, (de)activation."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from survey.db import db
from survey.models import AdminUnit, Agency
from tests.admin.helpers import agency, csrf, last_event


def _unit(level: str, valid_today: bool = True) -> AdminUnit:
    today = dt.date.today()
    for unit in db.session.scalars(select(AdminUnit).where(AdminUnit.level == level).order_by(AdminUnit.id)):
        if unit.valid_on(today) == valid_today:
            return unit
    raise AssertionError(level)


def _new(client, **fields: str):  # type: ignore[no-untyped-def]
    data = {"csrf_token": csrf(client), "parent": "ninh-binh", "code": "xa-moi", "kind": "commune"}
    data.update({"name_vi": "UBND Xã Mới", "name_en": "", "admin_unit": str(_unit("commune").id)})
    data.update(fields)
    return client.post("/admin/agencies/new", data=data)


def test_tree_lists_the_scope_with_parents_first(signed_in) -> None:  # type: ignore[no-untyped-def]
    body = signed_in("province_admin").get("/admin/agencies").get_data(as_text=True)
    assert "<h1>Cơ quan</h1>" in body
    assert body.index("UBND tỉnh Ninh Bình") < body.index("Sở Tư pháp") < body.index("UBND Phường Hoa Lư")
    assert 'class="depth-1"' in body
    english = signed_in("province_admin").get("/admin/agencies?lang=en").get_data(as_text=True)
    assert "<h1>Agencies</h1>" in english and "Department of Justice" in english


def test_create_a_commune_agency(signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("province_admin")
    form = client.get("/admin/agencies/new").get_data(as_text=True)
    assert "Huyện" not in form  # no district after 2025-07-01
    reply = _new(client)
    assert reply.status_code == 303, reply.get_data(as_text=True)[:800]
    created = agency("xa-moi")
    assert (created.parent_id, created.kind, created.active) == (agency("ninh-binh").id, "commune", True)
    event = last_event()
    assert event is not None and event.action == "agency.created" and event.details["code"] == "xa-moi"


def test_bad_agencies_are_refused_with_a_reason(signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("province_admin")
    cases = [
        ({"code": "Xa Moi"}, "Chỉ dùng chữ thường không dấu"),
        ({"code": "so-tu-phap"}, "Mã này đã được cơ quan khác sử dụng"),
        ({"admin_unit": str(_unit("district", valid_today=False).id)}, "Chọn đơn vị hành chính đang tồn tại"),
        ({"kind": "province"}, "Chọn loại cơ quan"),
        ({"parent": "tinh-khac"}, "Chọn cơ quan cấp trên"),
        ({"name_vi": ""}, "Nhập tên cơ quan bằng tiếng Việt"),
    ]
    for fields, message in cases:
        reply = _new(client, **fields)
        body = reply.get_data(as_text=True)
        assert reply.status_code == 422, fields
        assert message in body and 'class="error-summary"' in body, fields
    assert db.session.scalar(select(Agency).where(Agency.code == "xa-moi")) is None


def test_rename_and_close_are_audited(signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("province_admin")
    token = csrf(client)
    reply = client.post(
        "/admin/agencies/so-y-te", data={"csrf_token": token, "name_vi": "Sở Y tế tỉnh", "name_en": "Health"}
    )
    assert reply.status_code == 303
    assert last_event().action == "agency.renamed"  # type: ignore[union-attr]
    assert client.post("/admin/agencies/so-y-te/active", data={"csrf_token": token, "active": "no"}).status_code == 303
    assert last_event().action == "agency.deactivated"  # type: ignore[union-attr]
    db.session.expire_all()
    health = agency("so-y-te")
    assert (health.name_vi, health.name_en, health.active) == ("Sở Y tế tỉnh", "Health", False)
    assert client.post("/admin/agencies/so-y-te/active", data={"active": "yes"}).status_code == 400  # no CSRF token
    assert client.post("/admin/agencies/so-y-te", data={"name_vi": "X"}).status_code == 400
    assert client.post("/admin/agencies/new", data={"code": "x"}).status_code == 400


def test_agency_roles_cannot_manage_agencies(signed_in) -> None:  # type: ignore[no-untyped-def]
    for role in ("agency_manager", "agency_viewer", "statistician", "auditor"):
        client = signed_in(role)
        assert client.get("/admin/agencies").status_code == 403
        assert client.get("/admin/agencies/so-tu-phap").status_code == 403


def test_system_admin_may_add_a_province(signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("system_admin")
    reply = _new(client, parent="", code="tinh-moi", kind="province", admin_unit=str(_unit("province").id))
    assert reply.status_code == 303
    assert agency("tinh-moi").parent_id is None
    # A province administrator may not.
    reply = _new(signed_in("province_admin"), parent="", code="tinh-khac", kind="province")
    assert reply.status_code == 422
