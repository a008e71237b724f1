"""The service worker script (static/js/sw.js), served from the site root so that it may control /s/."""

from __future__ import annotations

from pathlib import Path

from flask import Response, current_app, send_from_directory

from survey.public import bp

#: Seconds a browser may reuse the script; browsers re-check it on navigation regardless (updateViaCache).
MAX_AGE = 300


@bp.get("/sw.js")
def service_worker() -> Response:
    """The offline queue and page cache for the survey pages (registered with scope /s/)."""
    directory = Path(current_app.static_folder or "static") / "js"
    response = send_from_directory(directory, "sw.js", mimetype="text/javascript", max_age=MAX_AGE)
    # Served from the root its default scope is "/", but it is registered for the survey pages only.
    response.headers["Service-Worker-Allowed"] = "/s/"
    return response
