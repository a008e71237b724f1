"""gunicorn settings for SIPAS: ``gunicorn -c survey/gunicorn_conf.py wsgi:app`` (``make run``, docs/production.md).

Loaded by the gunicorn master by file path, so it must not import the ``survey`` package: a module the
master has imported is inherited by every worker it forks, and ``kill -HUP`` would then no longer load
new application code. So the JSON line formatter lives here, with the standard library only, and
``survey.logging_setup`` extends it (the dependency goes that way, never back).

* **Logs.** gunicorn's own messages are JSON lines on stdout in the shape of the app's
  (``{"time", "level", "logger", "message"}``). gunicorn's access log is off: the app writes one JSON
  line per request itself, with the route pattern instead of the path (which holds the counter token).
* **Rate limits.** Without ``SIPAS_REDIS_URL`` the limits are counted in memory, per process: with
  several worker processes each would count alone and a client would get ``workers ×`` the configured
  limit. The master refuses to start then, with one line; use threads (``--workers 1 --threads 4``)
  or set ``SIPAS_REDIS_URL``.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from typing import Any

#: The app writes its own request line (survey/logging_setup.py); gunicorn's would repeat it as plain text.
accesslog = None
errorlog = "-"


class JsonLineFormatter(logging.Formatter):
    """gunicorn's records as the app's JSON lines: ``{"time", "level", "logger", "message"}``."""

    converter = time.gmtime  # type: ignore[assignment]  # logging.Formatter.converter accepts time.gmtime (UTC timestamps)

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        self.add_fields(record, entry)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)

    def add_fields(self, record: logging.LogRecord, entry: dict[str, Any]) -> None:
        """Extra keys for ``entry`` (the app adds its ``extra={…}`` fields and the request id)."""


logconfig_dict: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "root": {"level": "INFO", "handlers": []},
    "formatters": {"json": {"()": JsonLineFormatter}},
    "handlers": {
        "stdout": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"},
    },
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["stdout"], "propagate": False, "qualname": "gunicorn.error"},
        "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": False, "qualname": "gunicorn.access"},
    },
}

#: One line on stderr and exit status 1 when rate limits could not be enforced as configured.
SHARED_LIMITS_MESSAGE = (
    "SIPAS configuration error: gunicorn --workers {workers} without SIPAS_REDIS_URL: rate limits kept in "
    "memory would be counted per worker ({workers} × the configured limit); "
    "use --workers 1 --threads N or set SIPAS_REDIS_URL"
)


def memory_limits_problem(workers: int, environ: dict[str, str] | os._Environ[str]) -> str | None:
    """The refusal message when several worker processes would each count rate limits in memory."""
    if workers > 1 and not environ.get("SIPAS_REDIS_URL", "").strip():
        return SHARED_LIMITS_MESSAGE.format(workers=workers)
    return None


def on_starting(server: Any) -> None:
    problem = memory_limits_problem(server.cfg.workers, os.environ)
    if problem:
        sys.stderr.write(problem + "\n")
        sys.stderr.flush()
        sys.exit(1)
