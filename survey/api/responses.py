"""``/responses``: response-level data for statisticians (capability ``export_data``), paged by id.

The same plan, columns, labels and weights as the file exports (``survey.services.exports.responses``): the API is
an export read one page at a time. Pages are keyset-paged (``after`` = the last response id read), so a
page never shifts when responses arrive or are excluded while a client reads. The first page of a read
is recorded in the audit log like an export (who, scope, filters, row count).
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from analytics.tables import Column, RowBuilder
from survey.api import bp
from survey.api.auth import agency_or_404, capability_scope, user_id
from survey.api.params import PERIOD, QueryArgs
from survey.api.problems import invalid, json_response, no_data
from survey.db import db
from survey.services.exports import responses
from survey.services.identity import audit

CAPABILITY = "export_data"
DEFAULT_LIMIT = 500
MAX_LIMIT = 1000


def column_dict(column: Column) -> dict[str, Any]:
    return {
        "name": column.name,
        "label_vi": column.label_vi,
        "label_en": column.label_en,
        "kind": column.kind,
        "categories": [
            {"code": c.code, "value": c.value, "label_vi": c.label_vi, "label_en": c.label_en}
            for c in column.categories
        ],
        "note": column.note,
    }


@bp.get("/responses")
def list_responses() -> Response:
    held = capability_scope(CAPABILITY)
    args = QueryArgs(("agency", "instrument", *PERIOD, "status", "comments", "after", "limit"))
    codes = args.codes("agency")
    agencies = [agency_or_404(code, CAPABILITY) for code in codes]
    period = args.period(None)
    status = args.choice("status", responses.STATUSES, "valid") or "valid"
    comments = args.boolean("comments", False)
    after = args.integer("after", 0, 0, 2**62)
    limit = args.integer("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    instrument = args.raw("instrument")
    args.done()
    if agencies:
        ids = responses.agency_subtree(db.session, [a.code for a in agencies])
    else:
        ids = responses.all_agencies(db.session) if held.everything else held.agency_ids
    if not held.everything:
        ids = ids & held.agency_ids
    request = responses.ExportRequest(
        agency_ids=frozenset(ids),
        date_from=None if period is None else period.start,
        date_to=None if period is None else period.end,
        instrument=instrument,
        status=status,
        comments=comments,
    )
    try:
        plan = responses.plan_export(db.session, request)
    except responses.ExportUsageError as exc:
        raise invalid([{"name": "instrument", "in": "query", "detail": str(exc)}]) from None
    except responses.ExportError as exc:
        raise no_data(str(exc)) from None
    records = responses.records_after(db.session, plan, after, limit + 1)
    more = len(records) > limit
    records = records[:limit]
    rows = RowBuilder(plan.context, sanitise=False).rows(records)
    names = [c.name for c in plan.columns]
    items = [dict(zip(names, row, strict=True)) for row in rows]
    if after == 0:
        _audit(plan)
    return json_response(
        {
            "items": items,
            "total": plan.rows,
            "after": after,
            "limit": limit,
            "next_after": items[-1]["response_id"] if more else None,
            "columns": [column_dict(c) for c in plan.columns],
            "method": {
                "questionnaire": plan.instrument.label,
                "instrument": {"code": plan.instrument.code, "version": plan.instrument.version},
                "period": {"from": plan.date_from.isoformat(), "to": plan.date_to.isoformat()},
                "weighting": plan.weights.weighting,
                "design": plan.weights.design,
                "notes": list(plan.weights.notes),
                "filters": plan.filters(),
            },
        }
    )


def _audit(plan: responses.ExportPlan) -> None:
    with db.write() as session:
        audit.record(
            session,
            "responses.read_api",
            actor_user_id=user_id(),
            target_type="instrument",
            target_id=plan.instrument.label,
            agency_id=audit.common_agency(session, plan.request.agency_ids),
            details={"actor": "api", "rows": plan.rows, "filters": plan.filters(), "weighting": plan.weights.weighting},
        )
