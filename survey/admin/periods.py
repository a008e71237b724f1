"""Named survey periods per agency subtree: list, create, edit, delete (``manage_agencies``)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms import SelectChoice

from survey.admin import bp
from survey.admin.forms import ConfirmForm, PeriodForm
from survey.auth import requires, scope
from survey.db import db
from survey.form_dates import date_from_field
from survey.services.administration import agencies
from survey.services.statistics import periods as period_service
from survey.templating import current_locale


def _message(code: str) -> str:
    return {
        "name_required": _("Enter the name of the period (at most 120 characters)"),
        "name_taken": _("This agency already has a period with this name"),
        "end_before_start": _("The last day must be on or after the first day"),
        "too_long": _("Choose a period of at most five years"),
        "out_of_range": _("Choose dates between the years 2000 and 2100"),
        "not_found": _("Choose an agency"),
    }.get(code, _("This change is not possible"))


def _save(form: PeriodForm, period_id: int | None) -> bool:
    """Validate and store the form; False with errors on the form when refused."""
    if not form.validate_on_submit():
        return False
    starts_on, ends_on = date_from_field(form.starts_on, required=True), date_from_field(form.ends_on, required=True)
    if starts_on is None or ends_on is None:
        return False
    try:
        if period_id is None:
            period_service.create_period(
                scope("manage_agencies"),
                form.agency.data or "",
                form.name.data or "",
                starts_on,
                ends_on,
                current_user.id,
            )
        else:
            period_service.update_period(
                scope("manage_agencies"), period_id, form.name.data or "", starts_on, ends_on, current_user.id
            )
    except period_service.PeriodError as exc:
        if exc.code == "not_found" and period_id is not None:
            abort(404)
        target = {
            "name_required": form.name,
            "name_taken": form.name,
            "end_before_start": form.ends_on,
            "too_long": form.ends_on,
            "out_of_range": form.starts_on,
        }.get(exc.code) or getattr(form, "agency", form.name)
        target.errors = [*target.errors, _message(exc.code)]
        return False
    return True


@bp.route("/periods", methods=["GET", "POST"])
@requires("manage_agencies")
def periods() -> ResponseReturnValue:
    allowed = scope("manage_agencies")
    form = PeriodForm()
    form.agency.choices = [
        SelectChoice(r.agency.code, "— " * r.depth + r.agency.name(current_locale()))
        for r in agencies.agency_tree(db.session, allowed)
    ]
    status = 200
    if form.is_submitted():
        if _save(form, None):
            flash(_("The period has been saved."), "info")
            return redirect(url_for("admin.periods"), code=303)
        status = 422
    return render_template(
        "admin/periods.html",
        form=form,
        listing=period_service.periods_in_scope(db.session, allowed),
        confirm=ConfirmForm(),
    ), status


@bp.route("/periods/<int:period_id>", methods=["GET", "POST"])
@requires("manage_agencies")
def period(period_id: int) -> ResponseReturnValue:
    item = period_service.period_in_scope(db.session, scope("manage_agencies"), period_id)
    if item is None:
        abort(404)
    if request.method == "GET":
        form = PeriodForm(
            formdata=None, name=item.name, starts_on=item.starts_on.isoformat(), ends_on=item.ends_on.isoformat()
        )
    else:
        form = PeriodForm()
    del form.agency
    status = 200
    if form.is_submitted():
        if _save(form, item.id):
            flash(_("The period has been saved."), "info")
            return redirect(url_for("admin.periods"), code=303)
        status = 422
    return render_template("admin/period.html", form=form, period=item), status


@bp.post("/periods/<int:period_id>/delete")
@requires("manage_agencies")
def period_delete(period_id: int) -> WerkzeugResponse:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        period_service.delete_period(scope("manage_agencies"), period_id, current_user.id)
    except period_service.PeriodError:
        abort(404)
    flash(_("The period has been deleted."), "info")
    return redirect(url_for("admin.periods"), code=303)
