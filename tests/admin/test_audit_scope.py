"""Auditors see the audit events of their own agency subtree; unscoped events only system administrators
and system auditors (an auditor role without an agency)."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from survey.db import db
from survey.models import Agency, AuditEvent
from survey.services.identity import audit, audit_log
from survey.services.identity.users import create_user
from tests.conftest import sign_in_client


def _agency(code: str) -> Agency:
    agency = db.session.scalar(select(Agency).where(Agency.code == code))
    assert agency is not None
    return agency


def _events() -> dict[str, int | None]:
    """One marker event per place: a department, its sibling, the province itself, and no agency."""
    markers = {
        "test.about_tu_phap": _agency("so-tu-phap").id,
        "test.about_tai_chinh": _agency("so-tai-chinh").id,
        "test.about_province": _agency("ninh-binh").id,
        "test.about_nothing": None,
    }
    for action, agency_id in markers.items():
        audit.record(db.session, action, agency_id=agency_id)
    db.session.commit()
    return markers


def _shown(client) -> set[str]:  # type: ignore[no-untyped-def]
    html = client.get("/admin/audit").get_data(as_text=True)
    return {a for a in ("about_tu_phap", "about_tai_chinh", "about_province", "about_nothing") if a in html}


def test_the_log_is_filtered_by_the_auditors_subtree(staff_app: Flask, signed_in) -> None:  # type: ignore[no-untyped-def]
    _events()
    create_user("kiemtra.tuphap@demo.sipas.vn", "Kiểm tra Sở Tư pháp", "long enough pw 1", "auditor", "so-tu-phap")
    department = sign_in_client(staff_app.test_client(), "kiemtra.tuphap@demo.sipas.vn", "long enough pw 1")
    assert _shown(department) == {"about_tu_phap"}
    # The demo auditor's role is at the province: every department below it, not events about no agency.
    assert _shown(signed_in("auditor")) == {"about_tu_phap", "about_tai_chinh", "about_province"}
    assert _shown(signed_in("system_admin")) == {"about_tu_phap", "about_tai_chinh", "about_province", "about_nothing"}


def test_a_system_auditor_reads_the_whole_log_and_nothing_else(staff_app: Flask) -> None:
    _events()
    create_user("kiemtra.he-thong@demo.sipas.vn", "Kiểm tra hệ thống", "long enough pw 1", "auditor", None)
    client = sign_in_client(staff_app.test_client(), "kiemtra.he-thong@demo.sipas.vn", "long enough pw 1")
    assert _shown(client) == {"about_tu_phap", "about_tai_chinh", "about_province", "about_nothing"}
    # Reading the log is all the role gives: no dashboards, no administration.
    for url in ("/agency/ninh-binh/", "/admin/users", "/admin/agencies"):
        assert client.get(url).status_code in (403, 404), url


def test_only_a_system_administrator_grants_an_auditor_without_agency(staff_app: Flask, logins) -> None:  # type: ignore[no-untyped-def]
    from survey.services.identity import user_admin
    from survey.services.identity.users import UserError

    def actor(role: str):  # type: ignore[no-untyped-def]
        from survey.models import User

        return db.session.scalar(select(User).where(User.email == logins[role].email))

    user_admin.create_managed_user(actor("system_admin"), "sys.audit@demo.sipas.vn", "Sys", "auditor", None, None)
    try:
        user_admin.create_managed_user(actor("province_admin"), "p.audit@demo.sipas.vn", "P", "auditor", None, None)
    except user_admin.UserAdminError as exc:
        assert exc.code == "role_not_allowed"
    else:
        raise AssertionError("a province administrator granted a system-wide auditor")
    # Every other role still needs an agency.
    try:
        create_user("viewer.nowhere@demo.sipas.vn", "V", "long enough pw 1", "agency_viewer", None)
    except UserError as exc:
        assert "needs --agency" in str(exc)
    else:
        raise AssertionError("an agency viewer was created without an agency")


def test_the_action_filter_lists_only_actions_in_scope(staff_app: Flask) -> None:
    markers = _events()
    tu_phap = markers["test.about_tu_phap"]
    assert tu_phap is not None
    assert "test.about_tai_chinh" not in audit_log.actions(db.session, [tu_phap])
    assert "test.about_tu_phap" in audit_log.actions(db.session, [tu_phap])
    page = audit_log.audit_events(db.session, "Asia/Ho_Chi_Minh", agency_ids=[tu_phap])
    assert page.events and all(e.agency_id == tu_phap for e in page.events)


def test_events_name_the_agency_they_concern(staff_app: Flask, signed_in, logins) -> None:  # type: ignore[no-untyped-def]
    signed_in("agency_viewer")  # hoa-lu
    signed_in("system_admin")
    events = list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.signed_in")))
    by_agency = {e.agency_id for e in events[-2:]}
    assert by_agency == {_agency(logins["agency_viewer"].agency).id, None}
    # An event naming an agency in its details is scoped to it (counters, exclusions, comment reviews).
    event = audit.record(db.session, "counter.key_rotated", details={"agency_id": _agency("so-tu-phap").id})
    assert event.agency_id == _agency("so-tu-phap").id


def test_an_event_about_several_agencies_names_their_common_ancestor(staff_app: Flask) -> None:
    tu_phap, tai_chinh, province = (_agency(c).id for c in ("so-tu-phap", "so-tai-chinh", "ninh-binh"))
    assert audit.common_agency(db.session, [tu_phap, tai_chinh]) == province
    assert audit.common_agency(db.session, [tu_phap]) == tu_phap
    assert audit.common_agency(db.session, [tu_phap, province]) == province
    assert audit.common_agency(db.session, []) is None
