"""Follow-up of comments: assignee of the same agency, status, reply, due date, overdue list, publishing; audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask
from sqlalchemy import select

from survey.db import db
from survey.models import AuditEvent, CommentFollowUp, PublishedAction, Response, User
from tests.conftest import add_comment_response, hidden_fields

SIBLING = "so-tai-chinh"


def _comment(code: str, text: str = "Thủ tục còn rườm rà, mong được rút gọn") -> Response:
    return add_comment_response(code, dt.date(2026, 10, 20), text)


def _form(client: Any, url: str) -> dict[str, str]:
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    return hidden_fields(page.get_data(as_text=True))


def test_manager_follows_a_comment_up_to_publishing(signed_in: Any, logins: dict[str, Any]) -> None:
    manager = logins["agency_manager"]
    code = manager.agency
    response = _comment(code)
    me = db.session.scalar(select(User).where(User.email == manager.email))
    assert me is not None
    client = signed_in("agency_manager")
    url = f"/agency/{code}/comments/{response.id}/follow-up"
    token = _form(client, url)["csrf_token"]
    saved = client.post(
        url,
        data={
            "csrf_token": token,
            "status": "in_progress",
            "assignee": str(me.id),
            "due_on": "2026-10-25",
            "reply_note": "Đã chuyển bộ phận chuyên môn, gọi 0912 345 678",
        },
    )
    assert saved.status_code == 303
    follow = db.session.get(CommentFollowUp, response.id)
    assert follow is not None and (follow.status, follow.assignee_id) == ("in_progress", me.id)
    assert follow.due_on == dt.date(2026, 10, 25)
    assert follow.reply_note is not None and "0912" not in follow.reply_note  # scrubbed like every staff note
    actions = set(
        db.session.scalars(
            select(AuditEvent.action).where(
                AuditEvent.target_type == "response", AuditEvent.target_id == str(response.id)
            )
        )
    )
    assert {"comment.assigned", "comment.status", "comment.reply", "comment.due"} <= actions
    overdue = client.get(f"/agency/{code}/comments/overdue").get_data(as_text=True)
    assert f"/comments/{response.id}/follow-up" in overdue

    publish_url = f"/agency/{code}/comments/{response.id}/publish"
    early = client.post(publish_url, data={"csrf_token": token, "action": "publish", "text": "Đã rút gọn hồ sơ"})
    assert early.status_code == 422 and "Chỉ góp ý đã giải quyết" in early.get_data(as_text=True)
    client.post(url, data={"csrf_token": token, "status": "resolved", "assignee": str(me.id), "due_on": ""})
    done = client.post(publish_url, data={"csrf_token": token, "action": "publish", "text": "Đã bỏ bớt hai giấy tờ"})
    assert done.status_code == 303
    entry = db.session.scalar(select(PublishedAction).where(PublishedAction.response_id == response.id))
    assert entry is not None and entry.text == "Đã bỏ bớt hai giấy tờ"
    assert f"/comments/{response.id}/follow-up" not in client.get(f"/agency/{code}/comments/overdue").get_data(
        as_text=True
    )
    client.post(publish_url, data={"csrf_token": token, "action": "withdraw"})
    assert db.session.scalar(select(PublishedAction).where(PublishedAction.response_id == response.id)) is None


def test_bad_input_is_a_form_error_not_a_crash(signed_in: Any, logins: dict[str, Any]) -> None:
    code = logins["agency_manager"].agency
    response = _comment(code)
    outsider = db.session.scalar(
        select(User).where(User.email == logins["agency_viewer"].email)
    )  # a user of another agency (hoa-lu)
    assert outsider is not None
    client = signed_in("agency_manager")
    url = f"/agency/{code}/comments/{response.id}/follow-up"
    token = _form(client, url)["csrf_token"]
    for data in (
        {"status": "received", "assignee": str(outsider.id)},
        {"status": "closed", "assignee": ""},
        {"status": "received", "assignee": "", "due_on": "31/12/2026"},
        {"status": "received", "assignee": "", "reply_note": "x" * 1001},
    ):
        reply = client.post(url, data={"csrf_token": token, **data})
        assert reply.status_code == 422, data
        assert "error-summary" in reply.get_data(as_text=True)
    assert db.session.get(CommentFollowUp, response.id) is None


def test_other_agencies_and_read_only_roles_are_refused(signed_in: Any, logins: dict[str, Any]) -> None:
    code = logins["agency_manager"].agency
    foreign = _comment(SIBLING, "Góp ý của sở khác")
    client = signed_in("agency_manager")
    # The sibling's comment through the manager's own agency, and through the sibling's code.
    assert client.get(f"/agency/{code}/comments/{foreign.id}/follow-up").status_code == 404
    assert client.get(f"/agency/{SIBLING}/comments/{foreign.id}/follow-up").status_code == 404
    viewer = signed_in("agency_viewer")
    own = _comment(logins["agency_viewer"].agency)
    url = f"/agency/{logins['agency_viewer'].agency}/comments/{own.id}/follow-up"
    page = viewer.get(url)
    assert page.status_code == 200 and "Lưu thông tin xử lý" not in page.get_data(as_text=True)
    csrf = hidden_fields(viewer.get("/auth/password").get_data(as_text=True))["csrf_token"]
    assert viewer.post(url, data={"csrf_token": csrf, "status": "resolved"}).status_code == 403


def test_comments_page_links_each_comment_to_its_follow_up(
    staff_app: Flask, signed_in: Any, logins: dict[str, Any]
) -> None:
    code = logins["agency_manager"].agency
    response = _comment(code)
    page = signed_in("agency_manager").get(f"/agency/{code}/comments?period=month&month=2026-10")
    assert page.status_code == 200
    assert f"/agency/{code}/comments/{response.id}/follow-up" in page.get_data(as_text=True)
