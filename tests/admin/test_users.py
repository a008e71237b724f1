"""Users and roles: scoped listing, creation with a password shown once, role-escalation refused, audited."""

from __future__ import annotations

import re

from sqlalchemy import select

from survey.db import db
from survey.models import RoleAssignment, User
from tests.admin.helpers import agency, csrf, last_event
from tests.conftest import sign_in_client


def _user(email: str) -> User:
    db.session.expire_all()
    found = db.session.scalar(select(User).where(User.email == email))
    assert found is not None
    return found


def _create(client, role: str, agency_code: str, email: str = "moi@demo.sipas.vn", password: str = ""):  # type: ignore[no-untyped-def]
    return client.post(
        "/admin/users/new",
        data={
            "csrf_token": csrf(client),
            "email": email,
            "display_name": "Nguyễn Văn Mới",
            "role": role,
            "agency": agency_code,
            "password": password,
        },
    )


def test_create_a_user_with_a_generated_password_shown_once(signed_in, staff_app) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("agency_manager")
    reply = _create(client, "agency_viewer", "so-tu-phap")
    body = reply.get_data(as_text=True)
    assert reply.status_code == 200 and "<h1>Đã tạo tài khoản</h1>" in body
    password = re.search(r'<code class="secret">([^<]+)</code>', body)
    assert password is not None
    user = _user("moi@demo.sipas.vn")
    assert [(r.role, r.agency_id) for r in user.roles] == [("agency_viewer", agency("so-tu-phap").id)]
    event = last_event()
    assert event is not None and event.action == "user.created" and event.target_id == str(user.id)
    # The password works, and the page listing users shows the new account.
    sign_in_client(staff_app.test_client(), "moi@demo.sipas.vn", password.group(1))
    assert "moi@demo.sipas.vn" in client.get("/admin/users").get_data(as_text=True)


def test_agency_manager_cannot_escalate(signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("agency_manager")
    for role, code in [
        ("province_admin", "so-tu-phap"),
        ("auditor", "so-tu-phap"),
        ("system_admin", ""),
        ("agency_manager", "so-tai-chinh"),  # a sibling department
        ("agency_manager", "ninh-binh"),  # its parent
    ]:
        reply = _create(client, role, code, email=f"{role}.{code or 'x'}@demo.sipas.vn")
        assert reply.status_code == 422, (role, code)
        assert "Bạn không được cấp vai trò này tại cơ quan này" in reply.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.email.like("%.so-t%"))) is None
    # Granting an extra role to an account it manages is held to the same rule.
    _create(client, "agency_viewer", "so-tu-phap")
    user = _user("moi@demo.sipas.vn")
    token = csrf(client)
    reply = client.post(
        f"/admin/users/{user.id}/roles",
        data={"csrf_token": token, "grant_role": "province_admin", "grant_agency": "so-tu-phap"},
    )
    assert reply.status_code == 422
    reply = client.post(
        f"/admin/users/{user.id}/roles",
        data={"csrf_token": token, "grant_role": "statistician", "grant_agency": "so-tu-phap"},
    )
    assert reply.status_code == 303
    assert sorted(r.role for r in _user("moi@demo.sipas.vn").roles) == ["agency_viewer", "statistician"]
    assert last_event().action == "user.role_granted"  # type: ignore[union-attr]


def test_users_outside_scope_are_not_found(signed_in, logins) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("agency_manager")
    province_admin = _user(logins["province_admin"].email)
    listing = client.get("/admin/users").get_data(as_text=True)
    assert logins["province_admin"].email not in listing
    token = csrf(client)
    assert client.get(f"/admin/users/{province_admin.id}").status_code == 404
    reply = client.post(f"/admin/users/{province_admin.id}/active", data={"csrf_token": token, "active": "no"})
    assert reply.status_code == 404
    reply = client.post(f"/admin/users/{province_admin.id}/password", data={"csrf_token": token})
    assert reply.status_code == 404
    assert _user(logins["province_admin"].email).active


def test_accounts_reaching_beyond_the_manager_are_read_only(signed_in) -> None:  # type: ignore[no-untyped-def]
    admin = signed_in("province_admin")
    _create(admin, "agency_viewer", "so-tu-phap")
    user = _user("moi@demo.sipas.vn")
    admin.post(
        f"/admin/users/{user.id}/roles",
        data={"csrf_token": csrf(admin), "grant_role": "statistician", "grant_agency": "ninh-binh"},
    )
    manager = signed_in("agency_manager")
    page = manager.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert "chỉ quản trị viên cấp trên" in page
    reply = manager.post(f"/admin/users/{user.id}/active", data={"csrf_token": csrf(manager), "active": "no"})
    assert reply.status_code == 303
    assert _user("moi@demo.sipas.vn").active
    province_role = next(r for r in _user("moi@demo.sipas.vn").roles if r.role == "statistician")
    reply = manager.post(f"/admin/users/{user.id}/roles/{province_role.id}/remove", data={"csrf_token": csrf(manager)})
    assert reply.status_code == 403
    assert len(_user("moi@demo.sipas.vn").roles) == 2


def test_nobody_deactivates_themselves_or_drops_their_last_managing_role(signed_in, logins) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("agency_manager")
    me = _user(logins["agency_manager"].email)
    token = csrf(client)
    reply = client.post(
        f"/admin/users/{me.id}/active", data={"csrf_token": token, "active": "no"}, follow_redirects=True
    )
    assert "Bạn không thể vô hiệu hóa tài khoản của chính mình" in reply.get_data(as_text=True)
    [role] = me.roles
    reply = client.post(
        f"/admin/users/{me.id}/roles/{role.id}/remove", data={"csrf_token": token}, follow_redirects=True
    )
    assert "Bạn không thể gỡ vai trò quản lý người dùng cuối cùng của chính mình" in reply.get_data(as_text=True)
    me = _user(logins["agency_manager"].email)
    assert me.active and len(me.roles) == 1


def test_reset_password_ends_the_users_sessions(signed_in, staff_app) -> None:  # type: ignore[no-untyped-def]
    admin = signed_in("province_admin")
    _create(admin, "agency_viewer", "hoa-lu", password="mat-khau-ban-dau-1")
    user = _user("moi@demo.sipas.vn")
    theirs = sign_in_client(staff_app.test_client(), "moi@demo.sipas.vn", "mat-khau-ban-dau-1")
    assert theirs.get("/agency/hoa-lu/").status_code == 200
    reply = admin.post(f"/admin/users/{user.id}/password", data={"csrf_token": csrf(admin), "new_password": ""})
    body = reply.get_data(as_text=True)
    assert reply.status_code == 200 and "<h1>Đã đặt lại mật khẩu</h1>" in body and 'class="secret"' in body
    assert last_event().action == "user.password_reset"  # type: ignore[union-attr]
    after = theirs.get("/agency/hoa-lu/")
    assert after.status_code == 302 and "/auth/sign-in" in after.headers["Location"]
    short = admin.post(f"/admin/users/{user.id}/password", data={"csrf_token": csrf(admin), "new_password": "ngan"})
    assert short.status_code == 422 and "Mật khẩu phải có ít nhất 12 ký tự" in short.get_data(as_text=True)


def test_rename_deactivate_remove_role_are_audited(signed_in) -> None:  # type: ignore[no-untyped-def]
    admin = signed_in("province_admin")
    _create(admin, "statistician", "so-y-te")
    user = _user("moi@demo.sipas.vn")
    token = csrf(admin)
    assert (
        admin.post(f"/admin/users/{user.id}", data={"csrf_token": token, "display_name": "Trần Thị B"}).status_code
        == 303
    )
    assert last_event().action == "user.renamed"  # type: ignore[union-attr]
    assert admin.post(f"/admin/users/{user.id}/active", data={"csrf_token": token, "active": "no"}).status_code == 303
    assert last_event().action == "user.deactivated"  # type: ignore[union-attr]
    role_id = user.roles[0].id
    assert admin.post(f"/admin/users/{user.id}/roles/{role_id}/remove", data={"csrf_token": token}).status_code == 303
    assert last_event().action == "user.role_removed"  # type: ignore[union-attr]
    user = _user("moi@demo.sipas.vn")
    assert (user.display_name, user.active, user.roles) == ("Trần Thị B", False, [])
    assert db.session.scalar(select(RoleAssignment).where(RoleAssignment.id == role_id)) is None


def test_every_user_form_needs_its_csrf_token(signed_in, logins) -> None:  # type: ignore[no-untyped-def]
    admin = signed_in("province_admin")
    target = _user(logins["agency_viewer"].email)
    role_id = target.roles[0].id
    for url, data in [
        (
            "/admin/users/new",
            {"email": "x@demo.sipas.vn", "display_name": "X", "role": "statistician", "agency": "hoa-lu"},
        ),
        (f"/admin/users/{target.id}", {"display_name": "X"}),
        (f"/admin/users/{target.id}/active", {"active": "no"}),
        (f"/admin/users/{target.id}/password", {"new_password": ""}),
        (f"/admin/users/{target.id}/roles", {"grant_role": "statistician", "grant_agency": "hoa-lu"}),
        (f"/admin/users/{target.id}/roles/{role_id}/remove", {}),
    ]:
        assert admin.post(url, data=data).status_code == 400, url
    target = _user(logins["agency_viewer"].email)
    assert target.active and len(target.roles) == 1 and target.display_name != "X"


def test_users_page_in_english(signed_in) -> None:  # type: ignore[no-untyped-def]
    body = signed_in("system_admin").get("/admin/users?lang=en").get_data(as_text=True)
    assert "<h1>Users and roles</h1>" in body and "Province administrator" in body
    form = signed_in("system_admin").get("/admin/users/new?lang=en").get_data(as_text=True)
    assert "System administrator" in form and "Auditor" in form
    manager_form = signed_in("agency_manager").get("/admin/users/new?lang=en").get_data(as_text=True)
    assert (
        "Agency viewer" in manager_form
        and "Auditor" not in manager_form
        and "Province administrator" not in manager_form
    )
