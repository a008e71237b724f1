"""The ceiling for benchmarks/submit_load.py: a bare route that stores the same rows, without forms.

It writes what a citizen's submission writes (a response, its answers and the sufficient-statistics
tallies, in one transaction through the same services) but skips the signed token, CSRF, form
validation and HTML rendering. Served by gunicorn as ``benchmarks.bare_submit_app:app``.
"""

from __future__ import annotations

import json
import uuid

from flask import Response as FlaskResponse
from flask import request

from survey import create_app
from survey.db import db
from survey.models import Counter
from survey.services.submissions import Submission, store_submission

app = create_app()
# The bare route has no form, hence no CSRF token to check.
app.config["WTF_CSRF_ENABLED"] = False


@app.post("/bare/<int:counter_id>")
def bare_submit(counter_id: int) -> FlaskResponse:
    payload = json.loads(request.get_data())
    counter = db.session.get(Counter, counter_id)
    assert counter is not None
    stored = store_submission(
        counter, Submission(uuid.UUID(payload["submission_id"]), payload["answers"]), app.config["TIMEZONE"]
    )
    return FlaskResponse(status=201 if stored.created else 200)
