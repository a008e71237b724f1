"""Audit log viewer: read only, filterable by action and local date range."""

from __future__ import annotations

from flask import current_app, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import Length, Optional

from survey.admin import bp
from survey.auth import requires, scope
from survey.bounded_int import parse_page
from survey.db import db
from survey.form_dates import date_from_field
from survey.services.identity import audit_log as audit_service


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    action = SelectField(_l("Action"), choices=[], validate_choice=False)
    date_from = StringField(_l("From (YYYY-MM-DD)"), validators=[Optional(), Length(max=10)])
    date_to = StringField(_l("To (YYYY-MM-DD)"), validators=[Optional(), Length(max=10)])


@bp.get("/audit")
@requires("view_audit")
def audit_log() -> ResponseReturnValue:
    form = AuditFilterForm(request.args)
    # An auditor sees the events of their agency subtree; an unscoped one (no agency, or system_admin) all.
    agency_ids = scope("view_audit").filter_ids()
    known = audit_service.actions(db.session, agency_ids)
    form.action.choices = [SelectChoice("", _("All actions"))] + [SelectChoice(a, a) for a in known]
    action = form.action.data if form.action.data in known else None
    date_from, date_to = date_from_field(form.date_from), date_from_field(form.date_to)
    if form.errors:
        return render_template("admin/audit.html", form=form, listing=None), 400
    listing = audit_service.audit_events(
        db.session,
        current_app.config["TIMEZONE"],
        action=action,
        date_from=date_from,
        date_to=date_to,
        page=parse_page(request.args.get("page")),
        agency_ids=agency_ids,
    )
    return render_template("admin/audit.html", form=form, listing=listing)
