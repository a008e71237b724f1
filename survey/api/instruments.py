"""``/instruments``: the questionnaires, their elements and items, in Vietnamese and English.

Questionnaires are not agency data: any valid token may read them.
"""

from __future__ import annotations

from werkzeug.wrappers import Response

from survey.api import bp
from survey.api.params import PAGING, QueryArgs
from survey.api.problems import json_response
from survey.db import db
from survey.services.administration import listings


@bp.get("/instruments")
def list_instruments() -> Response:
    args = QueryArgs((*PAGING, "code"))
    paging = args.paging()
    code = args.raw("code")
    known = listings.instrument_codes(db.session)
    if code is not None and code not in known:
        args.error("code", f"unknown instrument {code!r} (known: {', '.join(known)})")
    args.done()
    items, total = listings.instruments(db.session, code, paging.offset, paging.per_page)
    return json_response(paging.body(items, total))
