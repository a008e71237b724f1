"""Structured logs: one JSON object per line on stdout, and one line per request.

The request line carries a request id, the method, the matched route *pattern* (``/s/<token>``, never
the path itself, which may hold a counter token), the status and the duration. Never an IP address,
a query string, a token, a comment or a dossier code (README, Privacy; STYLE 11).
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from typing import Any

from flask import Flask, Response, g, request

from survey.gunicorn_conf import JsonLineFormatter

#: Attributes every LogRecord has; anything else came in through ``extra={…}``.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
#: A request id from the proxy is reused only if it looks like one (no free text in our logs).
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

request_log = logging.getLogger("survey.request")


class JsonFormatter(JsonLineFormatter):
    """gunicorn's line shape (``{"time", "level", "logger", "message"}``) plus ``extra={…}`` and the request id."""

    def add_fields(self, record: logging.LogRecord, entry: dict[str, Any]) -> None:
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")})
        request_id = g.get("request_id") if _in_request() else None
        if request_id and "request_id" not in entry:
            entry["request_id"] = request_id


def _in_request() -> bool:
    from flask import has_request_context

    return has_request_context()


def configure_logging(app: Flask) -> None:
    """JSON lines on stdout for the ``survey`` loggers and libraries' warnings, and the per-request line.

    gunicorn's own messages are JSON lines of the same shape through ``survey/gunicorn_conf.py``.
    """
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("survey")
    logger.handlers[:] = [handler]
    logger.setLevel(app.config["LOG_LEVEL"])
    logger.propagate = False
    # Libraries' warnings (flask-limiter when Redis is down, SQLAlchemy, …) go through the root logger:
    # without a handler there Python prints them as plain text, breaking "every line is JSON".
    root = logging.getLogger()
    root.handlers[:] = [h for h in root.handlers if not getattr(h, "_sipas", False)]
    library_handler = logging.StreamHandler(sys.stdout)
    library_handler.setFormatter(JsonFormatter())
    library_handler.setLevel(logging.WARNING)
    library_handler._sipas = True  # type: ignore[attr-defined]  # a marker so configure_logging adds its handler once
    root.addHandler(library_handler)

    @app.before_request
    def start_request_clock() -> None:
        g.request_started = time.perf_counter()
        asked = request.headers.get("X-Request-ID", "")
        g.request_id = asked if _REQUEST_ID.match(asked) else uuid.uuid4().hex

    @app.after_request
    def log_request(response: Response) -> Response:
        started = g.get("request_started")
        if started is None or request.endpoint == "static":
            return response
        response.headers["X-Request-ID"] = g.request_id
        request_log.info(
            "request",
            extra={
                "request_id": g.request_id,
                "method": request.method,
                # The rule pattern, not the path: /s/<token> must not put a counter token in the logs.
                "route": request.url_rule.rule if request.url_rule is not None else None,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        return response
