"""``/agencies``: the agencies a token may read (capability ``view_dashboard``) and their counters."""

from __future__ import annotations

from werkzeug.wrappers import Response

from survey.api import bp
from survey.api.auth import agency_or_404, capability_scope
from survey.api.params import PAGING, QueryArgs
from survey.api.problems import json_response
from survey.db import db
from survey.services.administration import listings

CAPABILITY = "view_dashboard"


@bp.get("/agencies")
def list_agencies() -> Response:
    held = capability_scope(CAPABILITY)
    args = QueryArgs(PAGING)
    paging = args.paging()
    args.done()
    items, total = listings.agencies(db.session, held.filter_ids(), paging.offset, paging.per_page)
    return json_response(paging.body(items, total))


@bp.get("/agencies/<code>")
def get_agency(code: str) -> Response:
    agency = agency_or_404(code, CAPABILITY)
    QueryArgs(()).done()
    return json_response(listings.agency_detail(db.session, agency, capability_scope(CAPABILITY).filter_ids()))


@bp.get("/agencies/<code>/counters")
def list_counters(code: str) -> Response:
    agency = agency_or_404(code, CAPABILITY)
    args = QueryArgs(PAGING)
    paging = args.paging()
    args.done()
    items, total = listings.counters(db.session, agency.id, paging.offset, paging.per_page)
    return json_response(paging.body(items, total))
