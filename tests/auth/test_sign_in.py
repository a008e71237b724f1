"""Sign-in, throttling, session fixation, sign-out everywhere on password change, and their audit entries."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from survey.db import db
from survey.models import AuditEvent, User
from tests.conftest import hidden_fields, sign_in_client


def _post_sign_in(client, email: str, password: str):  # type: ignore[no-untyped-def]
    token = hidden_fields(client.get("/auth/sign-in").get_data(as_text=True))["csrf_token"]
    return client.post("/auth/sign-in", data={"csrf_token": token, "email": email, "password": password})


def _actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_sign_in_starts_a_new_session_and_is_audited(staff_app: Flask, logins) -> None:  # type: ignore[no-untyped-def]
    login = logins["agency_viewer"]
    client = staff_app.test_client()
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    sign_in_client(client, login.email, login.password)
    with client.session_transaction() as session:
        assert "planted" not in session
    assert client.get("/agency/hoa-lu/").status_code == 200
    assert _actions()[-1] == "auth.signed_in"


def test_wrong_password_is_refused_with_a_translated_message(staff_app: Flask, logins) -> None:  # type: ignore[no-untyped-def]
    reply = _post_sign_in(staff_app.test_client(), logins["agency_viewer"].email, "not the password")
    assert reply.status_code == 401
    assert "Địa chỉ thư điện tử hoặc mật khẩu không đúng" in reply.get_data(as_text=True)
    event = db.session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()))
    assert event is not None and event.action == "auth.sign_in_failed"
    assert event.details["reason"] == "bad_password"
    assert logins["agency_viewer"].email not in str(event.details)


def test_unknown_account_is_refused_the_same_way(staff_app: Flask) -> None:
    reply = _post_sign_in(staff_app.test_client(), "nobody@example.vn", "whatever password")
    assert reply.status_code == 401
    event = db.session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()))
    assert event is not None and event.details == {"reason": "unknown_account"}
    assert event.agency_id is None  # no agency: only auditors without an agency see it


REFUSED = "Địa chỉ thư điện tử hoặc mật khẩu không đúng, hoặc đã có quá nhiều lần thử"


def _post_from(client, address: str, email: str, password: str):  # type: ignore[no-untyped-def]
    client.environ_base["REMOTE_ADDR"] = address
    return _post_sign_in(client, email, password)


def test_unknown_and_known_accounts_get_the_same_answers(staff_app: Flask, logins) -> None:  # type: ignore[no-untyped-def]
    """ASVS 2.2: whether an account exists never shows, not even after the throttle engages."""
    threshold = staff_app.config["LOCKOUT_THRESHOLD"]
    answers = {}
    for email in (logins["agency_manager"].email, "nobody.here@demo.sipas.vn"):
        client = staff_app.test_client()
        replies = [_post_from(client, "198.51.100.20", email, "wrong password!") for _ in range(threshold + 2)]
        bodies = [r.get_data(as_text=True) for r in replies]
        assert all(REFUSED in body and "khóa" not in body for body in bodies)
        answers[email] = [(r.status_code, r.headers.get("Retry-After")) for r in replies]
    known, unknown = answers.values()
    assert known == unknown == [(401, None)] * (threshold + 2)
    # Throttled, the right password gets that same answer (and no hint that it was right).
    reply = _post_from(
        staff_app.test_client(), "198.51.100.20", logins["agency_manager"].email, logins["agency_manager"].password
    )
    assert reply.status_code == 401 and REFUSED in reply.get_data(as_text=True)


def test_an_attacker_address_cannot_lock_the_user_out(staff_app: Flask, logins) -> None:  # type: ignore[no-untyped-def]
    login = logins["agency_manager"]
    attacker = staff_app.test_client()
    for _ in range(3 * staff_app.config["LOCKOUT_THRESHOLD"]):
        assert _post_from(attacker, "198.51.100.7", login.email, "a guess that fails").status_code == 401
    # The real user, from another address, signs in at once with the right password.
    user = staff_app.test_client()
    assert _post_from(user, "203.0.113.5", login.email, login.password).status_code == 303
    assert user.get("/agency/").status_code == 200
    assert "auth.throttled" in _actions() and "auth.locked" not in _actions()


def test_empty_form_shows_an_error_summary(staff_app: Flask) -> None:
    client = staff_app.test_client()
    token = hidden_fields(client.get("/auth/sign-in").get_data(as_text=True))["csrf_token"]
    reply = client.post("/auth/sign-in", data={"csrf_token": token, "email": "", "password": ""})
    html = reply.get_data(as_text=True)
    assert reply.status_code == 422
    assert 'class="error-summary"' in html and "<title>Lỗi:" in html


def test_sign_in_without_a_csrf_token_fails(staff_app: Flask, logins) -> None:  # type: ignore[no-untyped-def]
    login = logins["agency_viewer"]
    reply = staff_app.test_client().post("/auth/sign-in", data={"email": login.email, "password": login.password})
    assert reply.status_code == 400


def test_next_only_redirects_within_the_site(staff_app: Flask, logins) -> None:  # type: ignore[no-untyped-def]
    login = logins["agency_viewer"]
    client = staff_app.test_client()
    token = hidden_fields(client.get("/auth/sign-in").get_data(as_text=True))["csrf_token"]
    reply = client.post(
        "/auth/sign-in?next=//evil.example/x",
        data={"csrf_token": token, "email": login.email, "password": login.password},
    )
    assert reply.headers["Location"] == "/agency/"


def test_password_change_signs_out_every_other_session(staff_app: Flask, logins) -> None:  # type: ignore[no-untyped-def]
    login = logins["agency_viewer"]
    first = sign_in_client(staff_app.test_client(), login.email, login.password)
    second = sign_in_client(staff_app.test_client(), login.email, login.password)
    token = hidden_fields(first.get("/auth/password").get_data(as_text=True))["csrf_token"]
    new = "a brand new long password"
    reply = first.post(
        "/auth/password", data={"csrf_token": token, "current": login.password, "new": new, "confirm": new}
    )
    assert reply.status_code == 303
    assert first.get("/agency/hoa-lu/").status_code == 200  # the session that changed it goes on
    stale = second.get("/agency/hoa-lu/")
    assert stale.status_code == 302 and "/auth/sign-in" in stale.headers["Location"]
    assert "user.password_changed" in _actions()
    sign_in_client(staff_app.test_client(), login.email, new)


def test_wrong_current_password_is_refused(signed_in, logins) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("agency_viewer")
    token = hidden_fields(client.get("/auth/password").get_data(as_text=True))["csrf_token"]
    new = "a brand new long password"
    reply = client.post("/auth/password", data={"csrf_token": token, "current": "nope", "new": new, "confirm": new})
    assert reply.status_code == 422
    assert "Mật khẩu hiện tại không đúng" in reply.get_data(as_text=True)


def test_deactivated_user_loses_the_session(staff_app: Flask, signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("agency_viewer")
    user = db.session.scalar(select(User).where(User.email == "xem.hoalu@demo.sipas.vn"))
    assert user is not None
    user.active = False
    db.session.commit()
    assert client.get("/agency/hoa-lu/").status_code == 302


def test_sign_out_ends_the_session(signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("agency_viewer")
    other_device = signed_in("agency_viewer")
    token = hidden_fields(client.get("/auth/password").get_data(as_text=True))["csrf_token"]
    assert client.post("/auth/sign-out", data={"csrf_token": token}).status_code == 303
    assert "Bạn đã đăng xuất trên mọi thiết bị." in client.get("/auth/sign-in").get_data(as_text=True)
    assert client.get("/agency/hoa-lu/").status_code == 302
    # Sign-out ends every session of the account (the page says so): the other device is signed out too.
    stale = other_device.get("/agency/hoa-lu/")
    assert stale.status_code == 302 and "/auth/sign-in" in stale.headers["Location"]


def test_auditor_lands_on_the_audit_log(staff_app: Flask, logins) -> None:  # type: ignore[no-untyped-def]
    login = logins["auditor"]
    client = staff_app.test_client()
    reply = _post_sign_in(client, login.email, login.password)
    assert reply.status_code == 303 and reply.headers["Location"] == "/admin/audit"
    home = client.get("/agency/")
    assert home.status_code == 303 and home.headers["Location"] == "/admin/audit"
    assert client.get(home.headers["Location"]).status_code == 200
    assert client.get("/auth/sign-in").headers["Location"] == "/admin/audit"


def test_dashboard_roles_still_land_on_their_agencies(staff_app: Flask, logins) -> None:  # type: ignore[no-untyped-def]
    login = logins["statistician"]
    reply = _post_sign_in(staff_app.test_client(), login.email, login.password)
    assert reply.status_code == 303 and reply.headers["Location"] == "/agency/"
