"""Adding a counter to an agency (``manage_counters``): code, names and questionnaire; audited by the service."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from survey.agency import bp
from survey.auth import agency_in_scope, requires
from survey.db import db
from survey.services.administration import counters as counter_service
from survey.templating import current_locale


class CounterCreateForm(FlaskForm):
    code = StringField(
        _l("Counter code (lowercase letters, digits and hyphens, e.g. quay-05)"),
        validators=[DataRequired(_l("Enter the counter code")), Length(max=counter_service.MAX_CODE_LENGTH)],
    )
    name_vi = StringField(
        _l("Name in Vietnamese"),
        validators=[
            DataRequired(_l("Enter the counter's name in Vietnamese")),
            Length(max=counter_service.MAX_NAME_LENGTH),
        ],
    )
    name_en = StringField(
        _l("Name in English (optional)"), validators=[Optional(), Length(max=counter_service.MAX_NAME_LENGTH)]
    )
    instrument = SelectField(_l("Questionnaire citizens answer at this counter"), choices=[], validate_choice=False)


@bp.route("/<code>/counters/new", methods=["GET", "POST"])
@requires("manage_counters")
def counter_new(code: str) -> ResponseReturnValue:
    agency = agency_in_scope(code, "manage_counters")
    form = CounterCreateForm()
    form.instrument.choices = [
        SelectChoice(str(i.id), f"{i.name(current_locale())} ({i.label})")
        for i in counter_service.instrument_choices(db.session, agency.id)
    ]
    status = 200
    if form.validate_on_submit():
        raw = form.instrument.data or ""
        try:
            counter = counter_service.create_counter(
                agency.id,
                form.code.data or "",
                form.name_vi.data or "",
                form.name_en.data,
                int(raw) if raw.isdigit() else -1,
                current_user.id,
            )
        except counter_service.CounterError as exc:
            if exc.code == "not_found":
                abort(404)
            field, message = {
                "bad_code": (form.code, _("Use lowercase letters, digits and single hyphens, at most 40 characters")),
                "code_taken": (form.code, _("This agency already has a counter with this code")),
                "no_instrument": (form.instrument, _("Choose a questionnaire")),
            }.get(exc.code, (form.name_vi, _("Enter the counter's name in Vietnamese (at most 255 characters)")))
            field.errors = [message]
            status = 422
        else:
            flash(
                _(
                    "The counter %(name)s has been added: print its poster and hang it at the counter.",
                    name=counter.name_vi,
                ),
                "info",
            )
            return redirect(url_for("agency.counters", code=agency.code), code=303)
    elif form.is_submitted():
        status = 422
    return render_template("agency/counter_new.html", agency=agency, form=form), status
