"""Transaction volumes: upload a CSV or Excel file (validated as a whole), download a template, see what is stored."""

from __future__ import annotations

from flask import current_app, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from survey.admin import bp
from survey.admin.forms import VolumeUploadForm
from survey.auth import requires, scope
from survey.db import db
from survey.services.administration import volumes as volume_import


def _page(form: VolumeUploadForm, status: int = 200, **context: object) -> ResponseReturnValue:
    allowed = scope("import_volumes")
    context.setdefault("problems", None)
    context.setdefault("result", None)
    context.setdefault("file_name", None)
    context.setdefault("checked", None)
    return render_template(
        "admin/volumes.html",
        form=form,
        stored=volume_import.volume_summary(db.session, allowed),
        fields=volume_import.field_codes(db.session),
        max_mb=volume_import.MAX_FILE_BYTES // 2**20,
        max_rows=volume_import.MAX_ROWS,
        **context,
    ), status


@bp.route("/volumes", methods=["GET", "POST"])
@requires("import_volumes")
def volumes() -> ResponseReturnValue:
    form = VolumeUploadForm()
    if not form.is_submitted():
        return _page(form)
    if not form.validate():
        return _page(form, 400)
    upload = form.file.data
    if upload is None or not getattr(upload, "filename", ""):
        form.file.errors = [_("Choose a CSV or Excel file to import")]
        return _page(form, 422)
    data = upload.read(volume_import.MAX_FILE_BYTES + 1)
    if request.form.get("check_only"):
        try:
            rows = volume_import.check_volumes(db.session, scope("import_volumes"), upload.filename, data)
        except volume_import.VolumeImportError as exc:
            return _page(form, 422, problems=exc.problems, file_name=upload.filename)
        return _page(form, checked=rows, file_name=upload.filename)
    try:
        result = volume_import.import_volumes(
            db.session, scope("import_volumes"), upload.filename, data, current_user._get_current_object()
        )
    except volume_import.VolumeImportError as exc:
        return _page(form, 422, problems=exc.problems, file_name=upload.filename)
    return _page(VolumeUploadForm(formdata=None), result=result, file_name=upload.filename)


@bp.get("/volumes/template.csv")
@requires("import_volumes")
def volumes_template() -> ResponseReturnValue:
    data = volume_import.template_csv(db.session, scope("import_volumes"))
    return current_app.response_class(
        data,
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="transaction-volumes-template.csv"'},
    )
