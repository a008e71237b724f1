"""Alert messages and daily or weekly digests for managers, each sent once and recorded.

Who gets mail: active users holding a manager role (:data:`MANAGER_ROLES`) with an e-mail address; each hears
about the agencies of their ``handle_comments`` scope only. A digest covers a closed period — yesterday
(``daily:2026-12-02``) or last ISO week (``weekly:2026-W48``) — so running ``flask send-digests`` twice, or
every hour, sends each digest once: the unique ``(user, kind, period)`` row of ``notification_sends`` is
checked before and written right after the message is accepted by the SMTP server. An empty digest is not sent.

Low-score comments are comments of valid responses whose mean answer (or one-tap overall rating) is at most
:data:`LOW_SCORE`; the message carries the excerpt (scrubbed of phone, ID and e-mail at storage), agency,
counter, date and score — nothing that identifies the citizen.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from zoneinfo import ZoneInfo

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from survey.auth import Scope, scope_for
from survey.db import db, utcnow
from survey.models import (
    Agency,
    Alert,
    Answer,
    Counter,
    NotificationPreference,
    NotificationSend,
    Response,
    RoleAssignment,
    User,
)
from survey.models.notification import DIGEST_FREQUENCIES
from survey.services.administration.scope_queries import in_scope
from survey.services.identity import audit
from survey.services.notifications.smtp import send_messages
from survey.services.notifications.tokens import unsubscribe_token
from survey.services.statistics.alerts import alert_rows

MANAGER_ROLES = ("province_admin", "agency_manager")
LOW_SCORE = 2.0
EXCERPT_LENGTH = 280
MAX_COMMENTS = 30
DEFAULT_DIGEST = "weekly"


@dataclass(frozen=True)
class MailSettings:
    smtp_url: str
    mail_from: str
    base_url: str
    secret_key: str


@dataclass(frozen=True)
class SendReport:
    sent: int
    skipped: int


@dataclass(frozen=True)
class DigestComment:
    received_on: dt.date
    agency: str
    counter: str | None
    score: float
    excerpt: str


def preference_of(session: Session, user_id: int) -> tuple[str, bool]:
    """``(digest frequency, alert mail on)`` of a user (the defaults without a row)."""
    pref = session.get(NotificationPreference, user_id)
    return (pref.digest, pref.alert_mail) if pref is not None else (DEFAULT_DIGEST, True)


def set_preferences(user_id: int, digest: str, alert_mail: bool, actor_user_id: int | None, via: str) -> bool:
    """Store a user's choices; audit-logged (``notification.preferences``). Returns whether anything changed."""
    if digest not in DIGEST_FREQUENCIES:
        raise ValueError(digest)
    with db.write() as session:
        if session.get(User, user_id) is None:
            return False
        pref = session.get(NotificationPreference, user_id)
        if pref is None:
            pref = NotificationPreference(user_id=user_id, digest=DEFAULT_DIGEST, alert_mail=True)
            session.add(pref)
        if (pref.digest, pref.alert_mail) == (digest, alert_mail):
            return False
        pref.digest, pref.alert_mail, pref.updated_at = digest, alert_mail, utcnow()
        audit.record_about_user(
            session,
            "notification.preferences",
            user_id,
            actor_user_id=actor_user_id,
            details={"digest": digest, "alert_mail": alert_mail, "via": via},
        )
    return True


def managers(session: Session) -> list[User]:
    """Active users with a manager role, in id order."""
    return list(
        session.scalars(
            select(User)
            .where(
                User.active.is_(True),
                User.id.in_(select(RoleAssignment.user_id).where(RoleAssignment.role.in_(MANAGER_ROLES))),
            )
            .order_by(User.id)
        )
    )


def digest_period(frequency: str, today: dt.date) -> tuple[str, dt.date, dt.date]:
    """The closed period a digest run on ``today`` covers: ``(key, first day, last day)``."""
    if frequency == "daily":
        day = today - dt.timedelta(days=1)
        return f"daily:{day.isoformat()}", day, day
    monday = today - dt.timedelta(days=today.weekday() + 7)
    year, week, _ = monday.isocalendar()
    return f"weekly:{year}-W{week:02d}", monday, monday + dt.timedelta(days=6)


def low_score_comments(session: Session, allowed: Scope, start: dt.date, end: dt.date) -> list[DigestComment]:
    """Comments of valid responses received in [start, end] in ``allowed`` whose score is at most LOW_SCORE."""
    mean = (
        select(Answer.response_id, func.avg(Answer.score).label("mean"))
        .where(Answer.score.is_not(None))
        .group_by(Answer.response_id)
        .subquery()
    )
    score = func.coalesce(Response.overall_score, mean.c.mean)
    rows = session.execute(
        select(Response.received_on, Agency, Counter, score, Response.comment)
        .join(Agency, Agency.id == Response.agency_id)
        .outerjoin(Counter, Counter.id == Response.counter_id)
        .outerjoin(mean, mean.c.response_id == Response.id)
        .where(
            Response.status == "valid",
            Response.comment.is_not(None),
            Response.comment != "",
            Response.received_on >= start,
            Response.received_on <= end,
            or_(Response.overall_score <= LOW_SCORE, mean.c.mean <= LOW_SCORE),
            *in_scope(Response.agency_id, allowed),
        )
        .order_by(Response.received_on.desc(), Response.id.desc())
        .limit(MAX_COMMENTS)
    ).all()
    out = []
    for received_on, agency, counter, value, comment in rows:
        text = " ".join(str(comment).split())
        excerpt = text if len(text) <= EXCERPT_LENGTH else text[: EXCERPT_LENGTH - 1].rstrip() + "…"
        out.append(
            DigestComment(
                received_on, agency.name("vi"), counter.name("vi") if counter else None, float(value), excerpt
            )
        )
    return out


def _alerts_between(session: Session, allowed: Scope, start: dt.date, end: dt.date) -> list[Alert]:
    zone = ZoneInfo(str(current_app.config.get("TIMEZONE", "Asia/Ho_Chi_Minh")))
    low = dt.datetime.combine(start, dt.time(), zone).astimezone(dt.UTC)
    high = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), zone).astimezone(dt.UTC)
    return list(
        session.scalars(
            select(Alert)
            .where(Alert.created_at >= low, Alert.created_at < high, *in_scope(Alert.agency_id, allowed))
            .order_by(Alert.q_value, Alert.id)
        )
    )


def _already_sent(session: Session, user_id: int, kind: str, key: str) -> bool:
    return (
        session.scalar(
            select(NotificationSend.id).where(
                NotificationSend.user_id == user_id, NotificationSend.kind == kind, NotificationSend.period_key == key
            )
        )
        is not None
    )


def _record(user_id: int, kind: str, keys: Sequence[str], items: int) -> None:
    for key in keys:
        try:
            with db.write() as session:
                session.add(NotificationSend(user_id=user_id, kind=kind, period_key=key, items=items, sent_at=utcnow()))
        except IntegrityError:
            continue  # another run recorded it first


def _message(settings: MailSettings, to: str, subject: str, body: str, unsubscribe: str | None) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="sipas")
    if unsubscribe:
        message["List-Unsubscribe"] = f"<{unsubscribe}>"
    message.set_content(body)
    return message


def unsubscribe_url(settings: MailSettings, user_id: int) -> str:
    return f"{settings.base_url}/notifications/unsubscribe/{unsubscribe_token(settings.secret_key, user_id)}"


def send_digests(session: Session, settings: MailSettings, today: dt.date) -> SendReport:
    """Send every due digest for the period before ``today`` (yesterday or last week); each once."""
    sent = skipped = 0
    for user in managers(session):
        frequency, _ = preference_of(session, user.id)
        if frequency == "off":
            continue
        key, start, end = digest_period(frequency, today)
        if _already_sent(session, user.id, "digest", key):
            skipped += 1
            continue
        allowed = scope_for(session, user, "handle_comments")
        comments = low_score_comments(session, allowed, start, end)
        alerts = alert_rows(session, _alerts_between(session, allowed, start, end), "vi")
        if not comments and not alerts:
            continue
        link = unsubscribe_url(settings, user.id)
        with force_locale("vi"):
            subject = render_template(
                "mail/digest_subject.txt", frequency=frequency, start=start, end=end, n=len(comments) + len(alerts)
            ).strip()
            body = render_template(
                "mail/digest.txt",
                user=user,
                frequency=frequency,
                start=start,
                end=end,
                comments=comments,
                alerts=alerts,
                unsubscribe=link,
                base_url=settings.base_url,
            )
        send_messages(settings.smtp_url, [_message(settings, user.email, subject, body, link)])
        _record(user.id, "digest", [key], len(comments) + len(alerts))
        sent += 1
    session.rollback()
    return SendReport(sent, skipped)


def send_alert_mails(session: Session, settings: MailSettings) -> SendReport:
    """One message per manager about the alerts of their scope not yet mailed; then the alerts are marked notified."""
    pending = list(session.scalars(select(Alert).where(Alert.notified_at.is_(None)).order_by(Alert.id)))
    if not pending:
        return SendReport(0, 0)
    sent = skipped = 0
    for user in managers(session):
        _, alert_mail = preference_of(session, user.id)
        if not alert_mail:
            continue
        allowed = scope_for(session, user, "handle_comments")
        mine = [
            a
            for a in pending
            if a.agency_id in allowed and not _already_sent(session, user.id, "alert", f"alert:{a.id}")
        ]
        if not mine:
            continue
        rows = alert_rows(session, mine, "vi")
        with force_locale("vi"):
            subject = render_template("mail/alert_subject.txt", n=len(rows)).strip()
            body = render_template("mail/alert.txt", user=user, alerts=rows, base_url=settings.base_url)
        send_messages(settings.smtp_url, [_message(settings, user.email, subject, body, None)])
        _record(user.id, "alert", [f"alert:{a.id}" for a in mine], len(mine))
        sent += 1
    ids = [a.id for a in pending]
    session.rollback()
    with db.write() as write:
        for alert in write.scalars(select(Alert).where(Alert.id.in_(ids))):
            alert.notified_at = utcnow()
    return SendReport(sent, skipped)
