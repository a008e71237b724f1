"""Audit log viewer: read only, in words, filterable by action, agency, user and local date range."""

from __future__ import annotations

from flask import current_app, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import Length, Optional

from survey.admin import audit_labels, bp
from survey.admin.audit_labels import action_label, target_label
from survey.auth import requires, scope
from survey.bounded_int import parse_id, parse_page
from survey.db import db
from survey.form_dates import date_from_field
from survey.services.administration import scope_queries
from survey.services.identity import audit_log as audit_service
from survey.templating import current_locale


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    action = SelectField(_l("Action"), choices=[], validate_choice=False)
    agency = SelectField(_l("Agency"), choices=[], validate_choice=False)
    user = SelectField(_l("By"), choices=[], validate_choice=False)
    date_from = StringField(_l("From (dd/mm/yyyy)"), validators=[Optional(), Length(max=10)])
    date_to = StringField(_l("To (dd/mm/yyyy)"), validators=[Optional(), Length(max=10)])


@bp.get("/audit")
@requires("view_audit")
def audit_log() -> ResponseReturnValue:
    form = AuditFilterForm(request.args)
    # An auditor sees the events of their agency subtree; an unscoped one (no agency, or system_admin) all.
    agency_ids = scope("view_audit").filter_ids()
    known = audit_service.actions(db.session, agency_ids)
    form.action.choices = [SelectChoice("", _("All actions"))] + sorted(
        (SelectChoice(a, action_label(a)) for a in known), key=lambda c: str(c.label).casefold()
    )
    action = form.action.data if form.action.data in known else None
    agencies = scope_queries.agencies_in_scope(db.session, scope("view_audit"))
    locale = current_locale()
    form.agency.choices = [SelectChoice("", _("Every agency"))] + [
        SelectChoice(str(a.id), a.name(locale)) for a in agencies
    ]
    agency_id = parse_id(form.agency.data)
    if agency_id is not None and agency_id not in {a.id for a in agencies}:
        agency_id = None
    people = audit_service.actors(db.session, agency_ids)
    form.user.choices = [SelectChoice("", _("Everyone"))] + [SelectChoice(str(i), name) for i, name in people]
    actor_id = parse_id(form.user.data)
    if actor_id is not None and actor_id not in {i for i, _name in people}:
        actor_id = None
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
        agency_id=agency_id,
        actor_user_id=actor_id,
        locale=locale,
    )
    return render_template(
        "admin/audit.html",
        form=form,
        listing=listing,
        action_label=action_label,
        target_label=target_label,
        detail_lines=audit_labels.details,
        dashboards=scope("view_dashboard"),
        agency_codes={a.id: a.code for a in agencies},
    )
