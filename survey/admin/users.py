"""Users and roles: list the accounts in the manager's scope, create them, rename, (de)activate, reset
passwords, grant and remove roles. The rules live in ``survey.services.identity.user_admin``."""

from __future__ import annotations

from typing import cast

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms import SelectChoice

from survey.admin import bp
from survey.admin.forms import ConfirmForm, PasswordResetForm, RoleGrantForm, UserCreateForm, UserNameForm
from survey.admin.labels import role_label
from survey.auth import requires, scope
from survey.db import db
from survey.models import User
from survey.services.administration import agencies as agency_admin
from survey.services.identity import user_admin
from survey.services.identity.users import MIN_PASSWORD_LENGTH
from survey.templating import current_locale


def _message(code: str) -> str:
    return {
        "bad_email": _("Enter an e-mail address like name@example.gov.vn"),
        "email_taken": _("An account with this e-mail address already exists"),
        "name_required": _("Enter the person's name (at most 255 characters)"),
        "password_too_short": _("The password must be at least %(n)d characters long", n=MIN_PASSWORD_LENGTH),
        "password_too_long": _("The password must be at most 200 characters long"),
        "role_not_allowed": _("You may not give this role at this agency"),
        "agency_required": _("Choose the agency the role applies to"),
        "role_exists": _("The user already has this role at this agency"),
        "self_deactivate": _("You cannot deactivate your own account"),
        "last_managing_role": _("You cannot remove your own last role that manages users"),
        "account_out_of_reach": _(
            "This account has roles beyond the agencies you manage: ask an administrator above you"
        ),
    }.get(code, _("This change is not possible"))


def _actor() -> User:
    return cast(User, current_user._get_current_object())


def _choices(role_field, agency_field) -> None:  # type: ignore[no-untyped-def]  # WTForms fields carry no types
    roles, _agencies = user_admin.grant_choices(db.session, scope("manage_users"), _actor())
    role_field.choices = [SelectChoice("", _("Choose a role"))] + [SelectChoice(r, role_label(r)) for r in roles]
    rows = agency_admin.agency_tree(db.session, scope("manage_users"))
    agency_field.choices = [SelectChoice("", _("No agency (system administrators and system auditors)"))] + [
        SelectChoice(row.agency.code, "— " * row.depth + row.agency.name(current_locale())) for row in rows
    ]


@bp.get("/users")
@requires("manage_users")
def users() -> ResponseReturnValue:
    listing = user_admin.users_in_scope(db.session, scope("manage_users"), _actor())
    return render_template("admin/users.html", listing=listing, agencies=_agency_names())


def _agency_names() -> dict[int, str]:
    return {
        row.agency.id: row.agency.name(current_locale())
        for row in agency_admin.agency_tree(db.session, scope("manage_users"))
    }


@bp.route("/users/new", methods=["GET", "POST"])
@requires("manage_users")
def user_new() -> ResponseReturnValue:
    form = UserCreateForm()
    _choices(form.role, form.agency)
    status = 200
    if form.validate_on_submit():
        if not form.role.data:
            form.role.errors = [_("Choose a role")]
            status = 422
        else:
            try:
                user, password = user_admin.create_managed_user(
                    _actor(),
                    form.email.data or "",
                    form.display_name.data or "",
                    form.role.data,
                    form.agency.data or None,
                    form.password.data or None,
                )
            except user_admin.UserAdminError as exc:
                target = {
                    "bad_email": form.email,
                    "email_taken": form.email,
                    "name_required": form.display_name,
                    "password_too_short": form.password,
                    "password_too_long": form.password,
                    "agency_required": form.agency,
                }.get(exc.code, form.role)
                target.errors = [_message(exc.code)]
                status = 422
            else:
                return render_template(
                    "admin/password_shown.html",
                    user=user,
                    password=password if not form.password.data else None,
                    created=True,
                )
    elif form.is_submitted():
        status = 422
    return render_template("admin/user_new.html", form=form), status


def _managed_or_404(user_id: int) -> user_admin.Managed:
    managed = user_admin.managed_user(db.session, scope("manage_users"), _actor(), user_id)
    if managed is None:
        abort(404)
    return managed


def _user_page(user_id: int, status: int = 200, **forms: object) -> ResponseReturnValue:
    managed = _managed_or_404(user_id)
    name_form = forms.get("name_form") or UserNameForm(formdata=None, display_name=managed.user.display_name)
    grant_form = forms.get("grant_form") or RoleGrantForm(formdata=None)
    reset_form = forms.get("reset_form") or PasswordResetForm(formdata=None)
    _choices(grant_form.grant_role, grant_form.grant_agency)  # type: ignore[attr-defined]  # the grant fields are added to the form class at run time
    errors = [f for f in (name_form, grant_form, reset_form) if f.errors]  # type: ignore[attr-defined]  # WTForms forms carry no types
    return render_template(
        "admin/user.html",
        managed=managed,
        user=managed.user,
        name_form=name_form,
        grant_form=grant_form,
        reset_form=reset_form,
        confirm=ConfirmForm(),
        error_form=errors[0] if errors else None,
        agencies=_agency_names(),
    ), status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@requires("manage_users")
def user(user_id: int) -> ResponseReturnValue:
    if request.method == "GET":
        return _user_page(user_id)
    _managed_or_404(user_id)
    form = UserNameForm()
    if not form.validate_on_submit():
        return _user_page(user_id, 422, name_form=form)
    try:
        user_admin.rename_user(scope("manage_users"), _actor(), user_id, form.display_name.data or "")
    except user_admin.UserAdminError as exc:
        if exc.code == "not_found":
            abort(404)
        form.display_name.errors = [_message(exc.code)]
        return _user_page(user_id, 422, name_form=form)
    flash(_("The name has been saved."), "info")
    return redirect(url_for("admin.user", user_id=user_id), code=303)


@bp.post("/users/<int:user_id>/active")
@requires("manage_users")
def user_active(user_id: int) -> WerkzeugResponse:
    form = ConfirmForm()
    if not form.validate_on_submit() or form.active.data not in ("yes", "no"):
        abort(400)
    try:
        changed = user_admin.set_user_active(scope("manage_users"), _actor(), user_id, form.active.data == "yes")
    except user_admin.UserAdminError as exc:
        if exc.code == "not_found":
            abort(404)
        flash(_message(exc.code), "error")
        return redirect(url_for("admin.user", user_id=user_id), code=303)
    flash(
        _("The account is active again.")
        if changed.active
        else _("The account has been deactivated: it can no longer sign in."),
        "info",
    )
    return redirect(url_for("admin.user", user_id=user_id), code=303)


@bp.post("/users/<int:user_id>/password")
@requires("manage_users")
def user_password(user_id: int) -> ResponseReturnValue:
    _managed_or_404(user_id)
    form = PasswordResetForm()
    if not form.validate_on_submit():
        return _user_page(user_id, 422, reset_form=form)
    try:
        changed, password = user_admin.reset_password(
            scope("manage_users"), _actor(), user_id, form.new_password.data or None
        )
    except user_admin.UserAdminError as exc:
        if exc.code == "not_found":
            abort(404)
        form.new_password.errors = [_message(exc.code)]
        return _user_page(user_id, 422, reset_form=form)
    return render_template(
        "admin/password_shown.html",
        user=changed,
        password=password if not form.new_password.data else None,
        created=False,
    )


@bp.post("/users/<int:user_id>/roles")
@requires("manage_users")
def user_role_grant(user_id: int) -> ResponseReturnValue:
    _managed_or_404(user_id)
    form = RoleGrantForm()
    if not form.validate_on_submit():
        return _user_page(user_id, 422, grant_form=form)
    if not form.grant_role.data:
        form.grant_role.errors = [_("Choose a role")]
        return _user_page(user_id, 422, grant_form=form)
    try:
        user_admin.grant_role(
            scope("manage_users"), _actor(), user_id, form.grant_role.data, form.grant_agency.data or None
        )
    except user_admin.UserAdminError as exc:
        if exc.code == "not_found":
            abort(404)
        target = form.grant_agency if exc.code == "agency_required" else form.grant_role
        target.errors = [_message(exc.code)]
        return _user_page(user_id, 422, grant_form=form)
    flash(_("The role has been given."), "info")
    return redirect(url_for("admin.user", user_id=user_id), code=303)


@bp.post("/users/<int:user_id>/roles/<int:role_id>/remove")
@requires("manage_users")
def user_role_remove(user_id: int, role_id: int) -> WerkzeugResponse:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        user_admin.remove_role(scope("manage_users"), _actor(), user_id, role_id)
    except user_admin.UserAdminError as exc:
        if exc.code == "not_found":
            abort(404)
        if exc.code == "role_not_allowed":
            abort(403)
        flash(_message(exc.code), "error")
        return redirect(url_for("admin.user", user_id=user_id), code=303)
    flash(_("The role has been removed."), "info")
    return redirect(url_for("admin.user", user_id=user_id), code=303)
