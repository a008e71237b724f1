"""Health check for load balancers and monitors: no auth, no cookie."""

from flask import Blueprint, jsonify

from survey.services.health import database_status

bp = Blueprint("status", __name__)


@bp.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    database = database_status()
    ok = database["status"] == "ok"
    response = jsonify(status="ok" if ok else "error", database=database)
    response.status_code = 200 if ok else 503
    return response
