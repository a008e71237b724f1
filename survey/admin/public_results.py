"""Opting a province in to (or out of) the public results page: system and province administrators."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from survey.admin import bp
from survey.auth import agency_in_scope, requires
from survey.db import db
from survey.services.statistics import public_results as service


class PublishForm(FlaskForm):
    pass


@bp.route("/agencies/<code>/public-results", methods=["GET", "POST"])
@requires("manage_agencies")
def public_results_setting(code: str) -> ResponseReturnValue:
    """Whether the province publishes its results page (GET), and the change (POST ``publish=yes|no``)."""
    province = agency_in_scope(code, "manage_agencies")
    if province.parent_id is not None:
        abort(404)
    form = PublishForm()
    if request.method == "POST":
        choice = request.form.get("publish")
        if not form.validate_on_submit() or choice not in ("yes", "no"):
            abort(400)
        service.set_published(province, choice == "yes", current_user.id)
        flash(_("The results page is public now.") if choice == "yes" else _("The results page is not public."), "info")
        return redirect(url_for("admin.public_results_setting", code=code), code=303)
    published = service.is_published(db.session, province.id)
    return render_template("admin/public_results.html", agency=province, form=form, published=published)
