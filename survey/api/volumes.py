"""``/volumes``: monthly transaction volumes (the weighting base), read and imported (capability ``import_volumes``).

An import is a CSV or Excel file sent as ``multipart/form-data`` in the field ``file``; it is checked as a
whole by :func:`survey.services.administration.volumes.import_volumes` and either stored entirely or refused with
every problem and its row number (422), nothing written.
"""

from __future__ import annotations

from flask import request
from werkzeug.wrappers import Response

from survey.api import bp
from survey.api.auth import agency_or_404, capability_scope
from survey.api.params import PAGING, QueryArgs
from survey.api.problems import INVALID_FILE, ApiProblem, json_response
from survey.db import db
from survey.services.administration import listings
from survey.services.administration import volumes as service
from survey.services.exports import responses

CAPABILITY = "import_volumes"


@bp.get("/volumes")
def list_volumes() -> Response:
    held = capability_scope(CAPABILITY)
    args = QueryArgs((*PAGING, "agency", "from", "to"))
    paging = args.paging()
    codes = args.codes("agency")
    agencies = [agency_or_404(code, CAPABILITY) for code in codes]
    month_from, month_to = args.month("from"), args.month("to")
    if month_from and month_to and month_to < month_from:
        args.error("to", "'to' must be on or after 'from'")
    args.done()
    ids = held.filter_ids()
    if agencies:
        requested = responses.agency_subtree(db.session, [a.code for a in agencies])
        ids = sorted(requested if held.everything else requested & held.agency_ids)
    items, total = listings.volumes(db.session, ids, month_from, month_to, paging.offset, paging.per_page)
    return json_response(paging.body(items, total))


@bp.post("/volumes")
def import_volumes() -> Response:
    from flask_login import current_user

    held = capability_scope(CAPABILITY)
    QueryArgs(()).done()
    # The service refuses files above its limit with a clear problem; the body may carry the multipart framing.
    request.max_content_length = service.MAX_FILE_BYTES + 64 * 1024
    upload = request.files.get("file") if request.mimetype == "multipart/form-data" else None
    if upload is None:
        raise ApiProblem(
            415 if request.mimetype != "multipart/form-data" else 422,
            "Send the CSV or Excel (.xlsx) file as multipart/form-data in a field named 'file'.",
            title="No file",
            type_=INVALID_FILE,
            errors=[{"name": "file", "in": "body", "detail": "missing"}],
        )
    try:
        data = upload.read(service.MAX_FILE_BYTES + 1)
        result = service.import_volumes(
            db.session, held, upload.filename or "upload", data, current_user._get_current_object()
        )
    except service.VolumeImportError as exc:
        raise ApiProblem(
            422,
            f"The file was refused; nothing was imported. {len(exc.problems)} problem(s), listed in 'errors'.",
            title="The file has problems",
            type_=INVALID_FILE,
            errors=[{"row": row, "detail": str(reason)} for row, reason in exc.problems],
        ) from None
    return json_response(
        {
            "rows_imported": result.rows_imported,
            "months_replaced": result.months_replaced,
            "agencies": list(result.agency_codes),
            "months": [f"{m:%Y-%m}" for m in result.months],
        }
    )
