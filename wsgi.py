"""WSGI entry point: ``gunicorn wsgi:app`` and ``flask --app wsgi …``. The only module that builds an app at import."""

import sys

from survey import ConfigError, create_app

try:
    app = create_app()
except ConfigError as exc:
    # One line naming the variable and the reason; no traceback for a configuration mistake.
    print(f"SIPAS configuration error: {exc}", file=sys.stderr)  # noqa: T201
    sys.exit(2)
