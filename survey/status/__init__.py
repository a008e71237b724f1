"""Probes for load balancers and monitors: no auth, no cookie.

``/healthz`` is liveness (the process answers and its database answers ``SELECT 1``: nothing more, so a probe
every few seconds costs next to nothing); ``/readyz`` is readiness (the database is at the migration head and
Redis, when configured, answers): take the node out of the pool while it is 503, rather than restarting it.
"""

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue

from survey.services.operations.health import database_reachable
from survey.services.operations.readiness import readiness

bp = Blueprint("status", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    database = database_reachable()
    ok = database["status"] == "ok"
    response = jsonify(status="ok" if ok else "error", database=database)
    response.status_code = 200 if ok else 503
    return response


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    ready, body = readiness(current_app.config["REDIS_URL"])
    response = jsonify(body)
    response.status_code = 200 if ready else 503
    if not ready:
        response.headers["Retry-After"] = str(current_app.config["OUTAGE_RETRY_AFTER"])
    return response
