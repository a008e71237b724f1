"""The JSON API ``/api/v1``: agencies, counters, instruments, indices, responses, volumes, the PAR report.

Token-only (``Authorization: Bearer sipas_…``, see ``survey.api.auth``): no session cookie is read or
set and CSRF does not apply. Each token has its own rate limit (``SIPAS_API_RATE_LIMIT``). Errors are
``application/problem+json`` (``survey.api.problems``). The OpenAPI 3.1 document at
``/api/v1/openapi.json`` (``survey.api.openapi``) describes every route; a contract test checks real
responses against it. Views are thin: parse the query, check the scope, call a service, serialise.
"""

from typing import cast

from flask import Blueprint, Flask, current_app
from flask.blueprints import BlueprintSetupState

from survey.api.auth import TokenOnlySessions, guard, rate_limit_key
from survey.extensions import csrf, limiter

bp = Blueprint("api", __name__, url_prefix="/api/v1")

csrf.exempt(bp)
guard(bp, public_endpoints={"api.openapi"})
limiter.shared_limit(lambda: str(current_app.config["API_RATE_LIMIT"]), scope="api-v1", key_func=rate_limit_key)(bp)


@bp.record_once
def _token_only_sessions(state: BlueprintSetupState) -> None:
    app = cast(Flask, state.app)  # a Flask app: blueprints are only registered on one
    app.session_interface = TokenOnlySessions(app.session_interface)


@bp.after_request
def _vary_on_token(response):  # type: ignore[no-untyped-def]  # werkzeug's Response, typed by Flask's after_request
    response.vary.add("Authorization")
    return response


from survey.api import (  # noqa: E402, F401  (routes register on bp)
    agencies,
    indices,
    instruments,
    openapi,
    par,
    responses,
    volumes,
)
