"""Questionnaire versions (``/admin/questionnaires``): upload a draft, preview it as citizens will see it,
publish it, retire it, download it as XLSForm or TOML. Thin views over ``instrument_authoring``."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from survey.admin import bp
from survey.admin.forms import ConfirmForm, QuestionnaireUploadForm
from survey.auth import requires, scope
from survey.db import db
from survey.models import Instrument
from survey.public.forms import build_survey_form
from survey.services.administration import directory
from survey.services.administration import instrument_authoring as authoring
from survey.services.administration.instrument_documents import (
    MAX_FILE_BYTES,
    XLSFormError,
    spec_of,
    to_toml,
    to_xlsform,
)
from survey.services.administration.instruments import InstrumentFileError
from survey.templating import current_locale

CAPABILITY = "manage_questionnaires"


def _message(error: authoring.AuthoringError) -> str:
    messages = {
        "frozen": _(
            "This version is published: its wording can no longer change. Upload the change as version %(n)d.",
            n=error.count,
        ),
        "not_yours": _("Only the province that wrote this version (or a system administrator) can change it."),
        "not_draft": _("Only a draft can be published or deleted."),
        "not_published": _("Only a published version can be retired."),
        "in_use": _(
            "%(n)d open counters still use this version: give them another questionnaire first.", n=error.count
        ),
        "has_responses": _("This version has responses and cannot be deleted."),
        "not_found": _("No such questionnaire version."),
    }
    return messages.get(error.code, error.code)


def _list(form: QuestionnaireUploadForm, status: int = 200, problems: list[str] | None = None) -> ResponseReturnValue:
    return render_template(
        "admin/questionnaires.html",
        form=form,
        rows=authoring.versions(db.session, scope(CAPABILITY)),
        problems=problems,
        max_mb=MAX_FILE_BYTES // 2**20,
    ), status


@bp.route("/questionnaires", methods=["GET", "POST"])
@requires(CAPABILITY)
def questionnaires() -> ResponseReturnValue:
    form = QuestionnaireUploadForm()
    if not form.is_submitted():
        return _list(form)
    if not form.validate():
        return _list(form, 400)
    upload = form.file.data
    if upload is None or not getattr(upload, "filename", ""):
        form.file.errors = [_("Choose an XLSForm (.xlsx) or a data file (.toml)")]
        return _list(form, 422)
    data = upload.read(MAX_FILE_BYTES + 1)
    try:
        instrument, replaced = authoring.save_draft(scope(CAPABILITY), current_user.id, upload.filename, data)
    except XLSFormError as exc:
        return _list(form, 422, [str(p) for p in exc.problems])
    except InstrumentFileError as exc:
        return _list(form, 422, [str(exc)])
    except authoring.AuthoringError as exc:
        form.file.errors = [_message(exc)]
        return _list(form, 409)
    flash(
        _("Draft %(label)s replaced.", label=instrument.label)
        if replaced
        else _("Draft %(label)s saved. Preview it, then publish it.", label=instrument.label),
        "info",
    )
    return redirect(url_for("admin.questionnaire", instrument_id=instrument.id), code=303)


def _version_or_404(instrument_id: int) -> Instrument:
    instrument = authoring.version_for(db.session, scope(CAPABILITY), instrument_id)
    if instrument is None:
        abort(404)
    return instrument


@bp.get("/questionnaires/<int:instrument_id>")
@requires(CAPABILITY)
def questionnaire(instrument_id: int) -> ResponseReturnValue:
    instrument = _version_or_404(instrument_id)
    rows = {row.instrument.id: row for row in authoring.versions(db.session, scope(CAPABILITY))}
    return render_template(
        "admin/questionnaire.html", instrument=instrument, row=rows[instrument.id], form=ConfirmForm()
    )


@bp.post("/questionnaires/<int:instrument_id>/publish")
@requires(CAPABILITY)
def questionnaire_publish(instrument_id: int) -> ResponseReturnValue:
    return _step(instrument_id, "publish")


@bp.post("/questionnaires/<int:instrument_id>/retire")
@requires(CAPABILITY)
def questionnaire_retire(instrument_id: int) -> ResponseReturnValue:
    return _step(instrument_id, "retire")


@bp.post("/questionnaires/<int:instrument_id>/delete")
@requires(CAPABILITY)
def questionnaire_delete(instrument_id: int) -> ResponseReturnValue:
    return _step(instrument_id, "delete")


def _step(instrument_id: int, step: str) -> ResponseReturnValue:
    instrument = _version_or_404(instrument_id)
    label = instrument.label
    if not ConfirmForm().validate_on_submit():
        abort(400)
    action = {"publish": authoring.publish, "retire": authoring.retire, "delete": authoring.delete_draft}[step]
    try:
        action(scope(CAPABILITY), current_user.id, instrument_id)
    except authoring.AuthoringError as exc:
        db.session.rollback()
        flash(_message(exc), "error")
        return redirect(url_for("admin.questionnaire", instrument_id=instrument_id), code=303)
    done = {
        "publish": _("%(label)s is published: it can now be chosen for counters.", label=label),
        "retire": _("%(label)s is retired: its responses and reports stay.", label=label),
        "delete": _("Draft %(label)s deleted.", label=label),
    }[step]
    flash(done, "info")
    if step == "delete":
        return redirect(url_for("admin.questionnaires"), code=303)
    return redirect(url_for("admin.questionnaire", instrument_id=instrument_id), code=303)


@bp.get("/questionnaires/<int:instrument_id>/xlsform.xlsx")
@requires(CAPABILITY)
def questionnaire_xlsform(instrument_id: int) -> ResponseReturnValue:
    return _download(instrument_id, "xlsx")


@bp.get("/questionnaires/<int:instrument_id>/data-file.toml")
@requires(CAPABILITY)
def questionnaire_toml(instrument_id: int) -> ResponseReturnValue:
    return _download(instrument_id, "toml")


def _download(instrument_id: int, kind: str) -> ResponseReturnValue:
    instrument = _version_or_404(instrument_id)
    spec = spec_of(instrument)
    if kind == "xlsx":
        data, mimetype = to_xlsform(spec), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        data, mimetype = to_toml(spec).encode("utf-8"), "application/toml"
    name = f"{instrument.code}-v{instrument.version}.{kind}"
    return current_app.response_class(
        data, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@dataclass(frozen=True)
class _PreviewAgency:
    name_vi: str
    name_en: str

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_vi


@dataclass(frozen=True)
class _PreviewCounter:
    """What the survey page's header shows, for a version no counter uses yet (nothing is stored)."""

    agency: _PreviewAgency
    name_vi: str
    name_en: str
    kiosk_reset_seconds: int = 0

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_vi

    def service_area(self, locale: str) -> str:
        return ""


@bp.route("/questionnaires/<int:instrument_id>/preview", methods=["GET", "POST"])
@requires(CAPABILITY)
def questionnaire_preview(instrument_id: int) -> ResponseReturnValue:
    """The citizen's page for this version, exactly as rendered for a counter; sending it checks the answers
    as the real page does and stores nothing."""
    instrument = _version_or_404(instrument_id)
    formdata = request.form if request.method == "POST" else None
    form = build_survey_form(
        instrument, directory.procedure_fields(), current_locale(), formdata, current_app.config["SECRET_KEY"]
    )
    notice = None
    status = 200
    if request.method == "POST":
        if form.validate():
            notice = _("Preview: these answers are complete and would be accepted. Nothing was stored.")
        else:
            status = 422
    counter = _PreviewCounter(
        _PreviewAgency(
            _("Preview of %(label)s", label=instrument.label), _("Preview of %(label)s", label=instrument.label)
        ),
        _("Counter (preview)"),
        _("Counter (preview)"),
    )
    return render_template(
        "public/survey.html",
        form=form,
        counter=counter,
        instrument=instrument,
        notice=notice,
        notice_title=_("Preview"),
        kiosk=False,
        fresh_link=url_for("admin.questionnaire_preview", instrument_id=instrument_id),
    ), status
