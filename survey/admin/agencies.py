"""Agencies: the tree in scope, new child agencies, renames and (de)activation (``manage_agencies``)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms import SelectChoice

from survey.admin import bp
from survey.admin.forms import AgencyCreateForm, AgencyNameForm, ConfirmForm
from survey.admin.labels import kind_label
from survey.auth import agency_in_scope, requires, scope
from survey.bounded_int import parse_id
from survey.db import db
from survey.services.administration import agencies as agency_admin
from survey.templating import current_locale


def _today() -> dt.date:
    return dt.datetime.now(ZoneInfo(current_app.config["TIMEZONE"])).date()


def _message(code: str) -> str:
    return {
        "bad_code": _("Use lowercase letters, digits and single hyphens, at most 40 characters (e.g. so-tu-phap)"),
        "code_taken": _("Another agency already has this code"),
        "name_required": _("Enter the agency's name in Vietnamese (at most 255 characters)"),
        "bad_kind": _("Choose the kind of agency"),
        "bad_unit": _("Choose an administrative unit that exists today, within the parent agency's unit"),
        "parent_required": _("Choose the parent agency"),
        "not_found": _("Choose the parent agency"),
    }.get(code, _("This change is not possible"))


@bp.get("/agencies")
@requires("manage_agencies")
def agencies() -> ResponseReturnValue:
    return render_template(
        "admin/agencies.html",
        rows=agency_admin.agency_tree(db.session, scope("manage_agencies")),
        confirm=ConfirmForm(),
    )


@bp.route("/agencies/new", methods=["GET", "POST"])
@requires("manage_agencies")
def agency_new() -> ResponseReturnValue:
    allowed = scope("manage_agencies")
    form = AgencyCreateForm()
    rows = agency_admin.agency_tree(db.session, allowed)
    top = [SelectChoice("", _("None: a new province or ministry"))] if allowed.everything else []
    form.parent.choices = top + [
        SelectChoice(r.agency.code, "— " * r.depth + r.agency.name(current_locale())) for r in rows
    ]
    if request.method == "GET" and request.args.get("parent"):
        form.parent.data = request.args["parent"]
    parent = None
    if form.parent.data:
        parent = next((r.agency for r in rows if r.agency.code == form.parent.data), None)
    elif request.method == "GET" and not allowed.everything and rows:
        parent = rows[0].agency
        form.parent.data = parent.code
    kinds = agency_admin.CHILD_KINDS if parent is not None else agency_admin.ROOT_KINDS
    form.kind.choices = [SelectChoice(k, kind_label(k)) for k in kinds]
    units = agency_admin.unit_choices(db.session, parent, _today())
    form.admin_unit.choices = [SelectChoice(str(u.id), u.name) for u in units]
    status = 200
    if form.validate_on_submit():
        unit_id = parse_id(form.admin_unit.data)
        try:
            agency = agency_admin.create_agency(
                allowed,
                form.parent.data or None,
                form.code.data or "",
                form.kind.data or "",
                form.name_vi.data or "",
                form.name_en.data,
                unit_id,
                current_user.id,
                _today(),
            )
        except agency_admin.AgencyAdminError as exc:
            target = {
                "bad_code": form.code,
                "code_taken": form.code,
                "name_required": form.name_vi,
                "bad_kind": form.kind,
                "bad_unit": form.admin_unit,
            }.get(exc.code, form.parent)
            target.errors = [_message(exc.code)]
            status = 422
        else:
            flash(_("The agency %(name)s has been created.", name=agency.name(current_locale())), "info")
            return redirect(url_for("admin.agencies"), code=303)
    elif form.is_submitted():
        status = 422
    return render_template("admin/agency_new.html", form=form), status


@bp.route("/agencies/<code>", methods=["GET", "POST"])
@requires("manage_agencies")
def agency(code: str) -> ResponseReturnValue:
    item = agency_in_scope(code, "manage_agencies")
    form = AgencyNameForm(obj=None if request.method == "POST" else item)
    status = 200
    if form.validate_on_submit():
        try:
            agency_admin.rename_agency(
                scope("manage_agencies"), code, form.name_vi.data or "", form.name_en.data, current_user.id
            )
        except agency_admin.AgencyAdminError as exc:
            if exc.code == "not_found":
                abort(404)
            form.name_vi.errors = [_message(exc.code)]
            status = 422
        else:
            flash(_("The agency has been saved."), "info")
            return redirect(url_for("admin.agencies"), code=303)
    elif form.is_submitted():
        status = 422
    return render_template("admin/agency.html", agency=item, form=form, confirm=ConfirmForm()), status


@bp.post("/agencies/<code>/active")
@requires("manage_agencies")
def agency_active(code: str) -> WerkzeugResponse:
    agency_in_scope(code, "manage_agencies")
    form = ConfirmForm()
    if not form.validate_on_submit() or form.active.data not in ("yes", "no"):
        abort(400)
    try:
        item = agency_admin.set_agency_active(
            scope("manage_agencies"), code, form.active.data == "yes", current_user.id
        )
    except agency_admin.AgencyAdminError:
        abort(404)
    flash(_("The agency is open again.") if item.active else _("The agency has been closed; its data is kept."), "info")
    return redirect(url_for("admin.agencies"), code=303)
