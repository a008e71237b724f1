"""Follow-up of a citizen's comment: an assignee of the same agency, a status, a reply note, a due date.

Status moves received → in progress → resolved (and may move back). Every change is one audit event per
step (``comment.assigned``, ``comment.status``, ``comment.reply``, ``comment.due``, ``comment.published``,
``comment.unpublished``), with ids and codes only: the reply and the published text are free text and stay out
of the log. Every read and write takes the user's scope and an agency subtree: a comment outside both is
``not_found`` (the view's 404). A manager may publish a "you said, we did" entry from a resolved comment:
their own text, never the comment unless they copy it in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from survey.auth import Scope
from survey.db import db, utcnow
from survey.models import Agency, CommentFollowUp, Counter, PublishedAction, Response, RoleAssignment, User
from survey.models.followup import FOLLOWUP_STATUSES, PUBLISHED_MAX_LENGTH, REPLY_MAX_LENGTH
from survey.services.administration.scope_queries import in_scope
from survey.services.identity import audit
from survey.services.submissions.scrub import scrub_personal_data

OVERDUE_LIMIT = 200


class FollowUpError(ValueError):
    """``not_found``, ``bad_status``, ``bad_assignee``, ``reply_too_long``, ``not_resolved``, ``text_empty`` or
    ``text_too_long``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class FollowUpView:
    response_id: int
    agency_id: int
    received_on: dt.date
    counter: str | None
    comment: str
    status: str
    assignee_id: int | None
    assignee: str | None
    reply_note: str | None
    due_on: dt.date | None
    published: str | None

    def overdue(self, today: dt.date) -> bool:
        return self.due_on is not None and self.due_on < today and self.status != "resolved"


def _comment_where(response_id: int, allowed: Scope, agency_ids: Sequence[int]) -> list[ColumnElement[bool]]:
    return [
        Response.id == response_id,
        Response.comment.is_not(None),
        Response.comment != "",
        Response.agency_id.in_(list(agency_ids)),
        *in_scope(Response.agency_id, allowed),
    ]


def followup_of(
    session: Session, allowed: Scope, agency_ids: Sequence[int], response_id: int, locale: str
) -> FollowUpView | None:
    """The comment and its follow-up, or None when it is not a comment of these agencies in ``allowed``."""
    row = session.execute(
        select(Response, Counter, CommentFollowUp, User, PublishedAction)
        .outerjoin(Counter, Counter.id == Response.counter_id)
        .outerjoin(CommentFollowUp, CommentFollowUp.response_id == Response.id)
        .outerjoin(User, User.id == CommentFollowUp.assignee_id)
        .outerjoin(PublishedAction, PublishedAction.response_id == Response.id)
        .where(*_comment_where(response_id, allowed, agency_ids))
    ).first()
    if row is None:
        return None
    response, counter, follow, assignee, published = row
    return FollowUpView(
        response_id=response.id,
        agency_id=response.agency_id,
        received_on=response.received_on,
        counter=counter.name(locale) if counter is not None else None,
        comment=response.comment or "",
        status=follow.status if follow is not None else "received",
        assignee_id=follow.assignee_id if follow is not None else None,
        assignee=assignee.display_name if assignee is not None else None,
        reply_note=follow.reply_note if follow is not None else None,
        due_on=follow.due_on if follow is not None else None,
        published=published.text if published is not None else None,
    )


def assignable_users(session: Session, agency_id: int) -> list[User]:
    """Active users holding a role at exactly this agency (the people who can be given its comments)."""
    return list(
        session.scalars(
            select(User)
            .where(
                User.active.is_(True),
                User.id.in_(select(RoleAssignment.user_id).where(RoleAssignment.agency_id == agency_id)),
            )
            .order_by(User.display_name, User.id)
        )
    )


def update_followup(
    allowed: Scope,
    agency_ids: Sequence[int],
    response_id: int,
    actor_user_id: int,
    *,
    status: str,
    assignee_id: int | None,
    reply_note: str | None,
    due_on: dt.date | None,
) -> list[str]:
    """Apply the changes; one audit event per step that changed. Returns the steps (audit actions) taken."""
    if status not in FOLLOWUP_STATUSES:
        raise FollowUpError("bad_status")
    note = scrub_personal_data((reply_note or "").strip()) or None
    if note is not None and len(note) > REPLY_MAX_LENGTH:
        raise FollowUpError("reply_too_long")
    with db.write() as session:
        agency_id = session.scalar(select(Response.agency_id).where(*_comment_where(response_id, allowed, agency_ids)))
        if agency_id is None:
            raise FollowUpError("not_found")
        if assignee_id is not None and assignee_id not in {u.id for u in assignable_users(session, agency_id)}:
            raise FollowUpError("bad_assignee")
        follow = session.get(CommentFollowUp, response_id)
        if follow is None:
            follow = CommentFollowUp(response_id=response_id, agency_id=agency_id, status="received")
            session.add(follow)
        steps: list[tuple[str, dict[str, object]]] = []
        if follow.assignee_id != assignee_id:
            steps.append(("comment.assigned", {"assignee_id": assignee_id}))
            follow.assignee_id = assignee_id
        if follow.status != status:
            steps.append(("comment.status", {"from": follow.status, "to": status}))
            follow.status = status
        if (follow.reply_note or None) != note:
            steps.append(("comment.reply", {"with_reply": note is not None}))
            follow.reply_note = note
        if follow.due_on != due_on:
            steps.append(("comment.due", {"due_on": due_on.isoformat() if due_on else None}))
            follow.due_on = due_on
        if not steps:
            if follow in session.new:
                session.expunge(follow)
            return []
        follow.updated_at, follow.updated_by_id = utcnow(), actor_user_id
        for action, details in steps:
            audit.record(
                session,
                action,
                actor_user_id=actor_user_id,
                target_type="response",
                target_id=response_id,
                details={"agency_id": agency_id, **details},
            )
    return [action for action, _ in steps]


def publish_action(allowed: Scope, agency_ids: Sequence[int], response_id: int, text: str, actor_user_id: int) -> None:
    """Publish (or replace) the "you said, we did" text of a resolved comment on the public results page."""
    text = scrub_personal_data(" ".join(text.split()))
    if not text:
        raise FollowUpError("text_empty")
    if len(text) > PUBLISHED_MAX_LENGTH:
        raise FollowUpError("text_too_long")
    with db.write() as session:
        agency_id = session.scalar(select(Response.agency_id).where(*_comment_where(response_id, allowed, agency_ids)))
        if agency_id is None:
            raise FollowUpError("not_found")
        follow = session.get(CommentFollowUp, response_id)
        if follow is None or follow.status != "resolved":
            raise FollowUpError("not_resolved")
        entry = session.scalar(select(PublishedAction).where(PublishedAction.response_id == response_id))
        if entry is None:
            session.add(
                PublishedAction(
                    agency_id=agency_id,
                    response_id=response_id,
                    text=text,
                    published_by_id=actor_user_id,
                    published_at=utcnow(),
                )
            )
        else:
            entry.text, entry.published_by_id, entry.published_at = text, actor_user_id, utcnow()
        audit.record(
            session,
            "comment.published",
            actor_user_id=actor_user_id,
            target_type="response",
            target_id=response_id,
            details={"agency_id": agency_id},
        )


def unpublish_action(allowed: Scope, agency_ids: Sequence[int], response_id: int, actor_user_id: int) -> bool:
    """Take a published entry off the public page. Returns whether there was one."""
    with db.write() as session:
        agency_id = session.scalar(select(Response.agency_id).where(*_comment_where(response_id, allowed, agency_ids)))
        if agency_id is None:
            raise FollowUpError("not_found")
        entry = session.scalar(select(PublishedAction).where(PublishedAction.response_id == response_id))
        if entry is None:
            return False
        session.delete(entry)
        audit.record(
            session,
            "comment.unpublished",
            actor_user_id=actor_user_id,
            target_type="response",
            target_id=response_id,
            details={"agency_id": agency_id},
        )
    return True


@dataclass(frozen=True)
class OverdueRow:
    response_id: int
    agency: str
    received_on: dt.date
    due_on: dt.date
    status: str
    assignee: str | None
    excerpt: str


def overdue(
    session: Session, allowed: Scope, agency_ids: Sequence[int], today: dt.date, locale: str
) -> list[OverdueRow]:
    """Comments past their due date and not resolved, oldest due first."""
    rows = session.execute(
        select(CommentFollowUp, Response.received_on, Response.comment, Agency, User)
        .join(Response, Response.id == CommentFollowUp.response_id)
        .join(Agency, Agency.id == CommentFollowUp.agency_id)
        .outerjoin(User, User.id == CommentFollowUp.assignee_id)
        .where(
            CommentFollowUp.agency_id.in_(list(agency_ids)),
            *in_scope(CommentFollowUp.agency_id, allowed),
            CommentFollowUp.status != "resolved",
            CommentFollowUp.due_on.is_not(None),
            CommentFollowUp.due_on < today,
        )
        .order_by(CommentFollowUp.due_on, CommentFollowUp.response_id)
        .limit(OVERDUE_LIMIT)
    ).all()
    out = []
    for follow, received_on, comment, agency, user in rows:
        text = " ".join((comment or "").split())
        out.append(
            OverdueRow(
                follow.response_id,
                agency.name(locale),
                received_on,
                follow.due_on or today,
                follow.status,
                user.display_name if user is not None else None,
                text[:160] + ("…" if len(text) > 160 else ""),
            )
        )
    return out


def published_actions(session: Session, agency_id: int, limit: int = 20) -> list[PublishedAction]:
    """The agency's "you said, we did" entries, newest first."""
    return list(
        session.scalars(
            select(PublishedAction)
            .where(PublishedAction.agency_id == agency_id)
            .order_by(PublishedAction.published_at.desc(), PublishedAction.id.desc())
            .limit(limit)
        )
    )
