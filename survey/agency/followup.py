"""Follow-up of one comment (assignee, status, reply, due date), the overdue list, and publishing an action.

Reading needs ``view_dashboard``; changing needs ``handle_comments``. The comment must belong to the page's
agency (or an agency below it) and to the user's scope (the service checks both): otherwise 404.
"""

from __future__ import annotations

import datetime as dt

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, SelectChoice, SelectField, TextAreaField
from wtforms.validators import Length, Optional

from survey.agency import bp
from survey.auth import agency_in_scope, requires, scope
from survey.db import db
from survey.models import Agency
from survey.models.followup import PUBLISHED_MAX_LENGTH, REPLY_MAX_LENGTH
from survey.services.review import followup as service
from survey.services.statistics.dashboard import agency_subtree_ids
from survey.templating import current_locale


def status_labels() -> dict[str, str]:
    return {"received": _("Received"), "in_progress": _("In progress"), "resolved": _("Resolved")}


class FollowUpForm(FlaskForm):
    status = SelectField(_l("Status"), choices=[])
    assignee = SelectField(_l("Assigned to"), choices=[])
    due_on = DateField(
        _l("Due date (optional)"),
        validators=[Optional()],
        format="%Y-%m-%d",
    )
    reply_note = TextAreaField(
        _l("Reply or note on what was done (no personal data)"),
        validators=[Optional(), Length(max=REPLY_MAX_LENGTH, message=_l("Write at most %(max)d characters"))],
    )


class PublishForm(FlaskForm):
    text = TextAreaField(
        _l("What you did, in your own words, for the public page"),
        validators=[Length(max=PUBLISHED_MAX_LENGTH, message=_l("Write at most %(max)d characters"))],
    )


def _today() -> dt.date:
    return dt.date.today()


def _ids(agency: Agency) -> list[int]:
    return agency_subtree_ids(db.session, agency)


def _message(code: str) -> str:
    return {
        "bad_status": _("Choose a status from the list"),
        "bad_assignee": _("Choose a person of this agency"),
        "reply_too_long": _("Write at most %(max)d characters", max=REPLY_MAX_LENGTH),
        "not_resolved": _("Only a resolved comment can be published"),
        "text_empty": _("Write what was done before publishing"),
        "text_too_long": _("Write at most %(max)d characters", max=PUBLISHED_MAX_LENGTH),
    }.get(code, _("Check the form"))


@bp.route("/<code>/comments/<bigint:response_id>/follow-up", methods=["GET", "POST"])
@requires("view_dashboard")
def comment_followup(code: str, response_id: int) -> ResponseReturnValue:
    """One comment's follow-up: who handles it, its status, the reply, the due date; publishing an action."""
    agency = agency_in_scope(code, "view_dashboard")
    ids = _ids(agency)
    view = service.followup_of(db.session, scope("view_dashboard"), ids, response_id, current_locale())
    if view is None:
        abort(404)
    may_edit = view.agency_id in scope("handle_comments")
    if request.method == "POST" and not may_edit:
        abort(403)
    people = service.assignable_users(db.session, view.agency_id)
    form = FollowUpForm(
        data=None
        if request.method == "POST"
        else {
            "status": view.status,
            "assignee": str(view.assignee_id or ""),
            "due_on": view.due_on,
            "reply_note": view.reply_note,
        }
    )
    form.status.choices = [SelectChoice(k, v) for k, v in status_labels().items()]
    form.assignee.choices = [SelectChoice("", _("Nobody yet"))] + [
        SelectChoice(str(u.id), u.display_name) for u in people
    ]
    publish = PublishForm(formdata=None)
    status = 200
    if form.validate_on_submit():
        raw = form.assignee.data or ""
        try:
            steps = service.update_followup(
                scope("handle_comments"),
                ids,
                response_id,
                current_user.id,
                status=form.status.data or "",
                assignee_id=int(raw) if raw.isdigit() else None,
                reply_note=form.reply_note.data,
                due_on=form.due_on.data,
            )
        except service.FollowUpError as exc:
            if exc.code == "not_found":
                abort(404)
            target = form.assignee if exc.code == "bad_assignee" else form.reply_note
            target.errors = [_message(exc.code)]
            status = 422
        else:
            flash(_("The follow-up is saved.") if steps else _("Nothing changed."), "info")
            return redirect(url_for("agency.comment_followup", code=code, response_id=response_id), code=303)
    elif form.is_submitted():
        status = 422
    return render_template(
        "agency/comment_followup.html",
        agency=agency,
        view=view,
        form=form,
        publish=publish,
        may_edit=may_edit,
        labels=status_labels(),
        today=_today(),
    ), status


@bp.post("/<code>/comments/<bigint:response_id>/publish")
@requires("handle_comments")
def comment_publish(code: str, response_id: int) -> ResponseReturnValue:
    """Publish (or withdraw) the "you said, we did" entry of a resolved comment."""
    agency = agency_in_scope(code, "handle_comments")
    ids = _ids(agency)
    form = PublishForm()
    if request.form.get("action") == "withdraw":
        if not form.validate_on_submit():
            abort(400)
        try:
            service.unpublish_action(scope("handle_comments"), ids, response_id, current_user.id)
        except service.FollowUpError:
            abort(404)
        flash(_("The entry is no longer on the public page."), "info")
        return redirect(url_for("agency.comment_followup", code=code, response_id=response_id), code=303)
    error = None
    if form.validate_on_submit():
        try:
            service.publish_action(scope("handle_comments"), ids, response_id, form.text.data or "", current_user.id)
        except service.FollowUpError as exc:
            if exc.code == "not_found":
                abort(404)
            error = _message(exc.code)
        else:
            flash(_("The entry is published on the public results page."), "info")
            return redirect(url_for("agency.comment_followup", code=code, response_id=response_id), code=303)
    elif form.is_submitted() and form.text.errors:
        error = str(form.text.errors[0])
    else:
        abort(400)
    view = service.followup_of(db.session, scope("view_dashboard"), ids, response_id, current_locale())
    if view is None:
        abort(404)
    edit = FollowUpForm(
        formdata=None,
        data={"status": view.status, "assignee": str(view.assignee_id or ""), "due_on": view.due_on,
              "reply_note": view.reply_note},
    )  # fmt: skip
    edit.status.choices = [SelectChoice(k, v) for k, v in status_labels().items()]
    edit.assignee.choices = [SelectChoice("", _("Nobody yet"))] + [
        SelectChoice(str(u.id), u.display_name) for u in service.assignable_users(db.session, view.agency_id)
    ]
    form.text.errors = [error]
    return render_template(
        "agency/comment_followup.html",
        agency=agency,
        view=view,
        form=edit,
        publish=form,
        may_edit=True,
        labels=status_labels(),
        today=_today(),
    ), 422


@bp.get("/<code>/comments/overdue")
@requires("view_dashboard")
def comments_overdue(code: str) -> ResponseReturnValue:
    """Comments past their due date and not yet resolved."""
    agency = agency_in_scope(code, "view_dashboard")
    rows = service.overdue(db.session, scope("view_dashboard"), _ids(agency), _today(), current_locale())
    return render_template("agency/comments_overdue.html", agency=agency, rows=rows, labels=status_labels())
