"""Managers' mail through a real SMTP server (aiosmtpd on a free local port): digests, alerts, unsubscribing."""

from __future__ import annotations

import datetime as dt
import email
import re
import socket
from collections.abc import Iterator
from email.message import Message
from email.policy import default as default_policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy import select

from survey.db import db
from survey.models import Agency, Instrument, NotificationSend, Response, User
from survey.services.notifications import digests
from survey.services.statistics import alerts
from survey.services.statistics.alerts import SeriesTest
from tests.conftest import add_comment_response, hidden_fields

TODAY = dt.date(2026, 12, 3)
COMMENT = "Phải chờ rất lâu ở quầy, cán bộ hướng dẫn chưa rõ ràng"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802  (aiosmtpd's hook name)
        self.messages.append(email.message_from_bytes(envelope.content, policy=default_policy))
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if m["To"] == address]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def inbox(staff_app: Flask) -> Iterator[Inbox]:
    handler = Inbox()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    staff_app.config["SMTP_URL"] = f"smtp://127.0.0.1:{port}"
    try:
        yield handler
    finally:
        controller.stop()


def _manager(logins: dict[str, Any]) -> tuple[User, Agency]:
    login = logins["agency_manager"]
    user = db.session.scalar(select(User).where(User.email == login.email))
    agency = db.session.scalar(select(Agency).where(Agency.code == login.agency))
    assert user is not None and agency is not None
    return user, agency


def _low_score_comment(agency: Agency, day: dt.date, comment: str = COMMENT) -> Response:
    return add_comment_response(agency.code, day, comment, score=1, gender="female", age_band="35-49")


def _body(message: Message) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def test_daily_digest_is_sent_once_in_vietnamese_and_the_link_turns_it_off(
    staff_app: Flask, inbox: Inbox, logins: dict[str, Any]
) -> None:
    user, agency = _manager(logins)
    digests.set_preferences(user.id, "daily", True, user.id, "test")
    _low_score_comment(agency, TODAY - dt.timedelta(days=1))
    _low_score_comment(agency, TODAY - dt.timedelta(days=3), "Một góp ý cũ hơn, ngoài kỳ")
    runner = staff_app.test_cli_runner()
    result = runner.invoke(args=["send-digests", "--today", TODAY.isoformat()])
    assert result.exit_code == 0, result.output
    mine = inbox.to(user.email)
    assert len(mine) == 1
    message = mine[0]
    assert "SIPAS" in message["Subject"] and "02/12/2026" in message["Subject"]
    body = _body(message)
    assert body.startswith(f"Kính gửi {user.display_name},")
    assert COMMENT in body and agency.name_vi in body and "02/12/2026" in body
    assert "Một góp ý cũ hơn" not in body  # outside yesterday
    # Nothing about the citizen beyond the comment excerpt, agency, counter, date and score.
    assert "female" not in body and "35-49" not in body
    links = re.findall(r"https://khaosat\.example\.vn/notifications/unsubscribe/\S+", body)
    assert len(links) == 1 and message["List-Unsubscribe"] == f"<{links[0]}>"
    sends = db.session.scalars(select(NotificationSend).where(NotificationSend.user_id == user.id)).all()
    assert [(s.kind, s.period_key) for s in sends] == [("digest", "daily:2026-12-02")]

    # The same period again: nothing new is sent.
    again = runner.invoke(args=["send-digests", "--today", TODAY.isoformat()])
    assert again.exit_code == 0 and len(inbox.to(user.email)) == 1
    assert "already sent before: 1" in again.output

    # The link works without signing in: a page with a button, then the digest is off.
    client = staff_app.test_client()
    path = links[0].removeprefix("https://khaosat.example.vn")
    page = client.get(path)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert digests.preference_of(db.session, user.id)[0] == "daily"  # a GET changes nothing
    done = client.post(path, data={"csrf_token": hidden_fields(page.get_data(as_text=True))["csrf_token"]})
    assert done.status_code == 200
    db.session.expire_all()
    assert digests.preference_of(db.session, user.id) == ("off", True)
    _low_score_comment(agency, TODAY)
    runner.invoke(args=["send-digests", "--today", (TODAY + dt.timedelta(days=1)).isoformat()])
    assert len(inbox.to(user.email)) == 1


def test_a_forged_or_altered_unsubscribe_link_is_refused(staff_app: Flask, logins: dict[str, Any]) -> None:
    user, _ = _manager(logins)
    settings = digests.MailSettings("smtp://127.0.0.1:1", "x@example.vn", "", staff_app.config["SECRET_KEY"])
    good = digests.unsubscribe_url(settings, user.id)
    client = staff_app.test_client()
    assert client.get(good).status_code == 200
    assert client.get(good[:-2] + ("AA" if not good.endswith("AA") else "BB")).status_code == 404
    other = digests.MailSettings("smtp://127.0.0.1:1", "x@example.vn", "", "another-secret-key-of-enough-length!!")
    assert client.get(digests.unsubscribe_url(other, user.id)).status_code == 404
    assert client.get("/notifications/unsubscribe/" + "x" * 300).status_code == 404


def test_an_alert_is_mailed_once_to_the_managers_of_its_agency(
    staff_app: Flask, inbox: Inbox, logins: dict[str, Any]
) -> None:
    user, agency = _manager(logins)
    province = db.session.scalar(select(Agency).where(Agency.code == "ninh-binh"))
    instrument = db.session.scalar(select(Instrument.id).order_by(Instrument.id))
    assert province is not None and instrument is not None
    drop = SeriesTest(instrument, f"agency:{agency.id}:overall", agency.id, None, "overall", 0.61, 0.84, -0.23,
                      (-0.33, -0.13), 1e-5)  # fmt: skip
    alerts.store_alerts(province.id, dt.date(2026, 10, 1), 40, [(drop, 4e-4)])
    runner = staff_app.test_cli_runner()
    result = runner.invoke(args=["send-digests", "--today", TODAY.isoformat()])
    assert result.exit_code == 0, result.output
    mine = inbox.to(user.email)
    assert len(mine) == 1
    assert "Cảnh báo" in mine[0]["Subject"]
    body = _body(mine[0])
    assert agency.name_vi in body and "84.0% → 61.0%" in body and "1/20" not in body
    assert "1 trên 20" in body
    # Another run (or compute-alerts) sends nothing more: the alert is marked notified.
    runner.invoke(args=["send-digests", "--today", TODAY.isoformat()])
    assert len(inbox.to(user.email)) == 1


def test_without_smtp_url_send_digests_stops_with_a_message(staff_app: Flask) -> None:
    staff_app.config["SMTP_URL"] = None
    result = staff_app.test_cli_runner().invoke(args=["send-digests"])
    assert result.exit_code != 0 and "SIPAS_SMTP_URL" in result.output
