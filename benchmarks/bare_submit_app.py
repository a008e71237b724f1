"""The ceiling for benchmarks/submit_load.py: a bare route that stores the same rows, without forms.

It writes what a citizen's submission writes (a response, its answers and the sufficient-statistics
tallies, with the burst check, in one transaction through the same services) but skips the signed
token, CSRF, reading the form and the redirect. Served by gunicorn as ``benchmarks.bare_submit_app:app``.
"""

from __future__ import annotations

import json
import uuid

from flask import Response as FlaskResponse
from flask import request

from survey import create_app
from survey.services.administration.directory import counter_ref
from survey.services.submissions.bursts import BurstRule
from survey.services.submissions.store import Submission, store_submission

app = create_app()
# The bare route has no form, hence no CSRF token to check.
app.config["WTF_CSRF_ENABLED"] = False


@app.post("/bare/<int:counter_id>")
def bare_submit(counter_id: int) -> FlaskResponse:
    payload = json.loads(request.get_data())
    counter = counter_ref(counter_id)
    assert counter is not None
    stored = store_submission(
        counter,
        Submission(uuid.UUID(payload["submission_id"]), payload["answers"]),
        app.config["TIMEZONE"],
        burst_rule=BurstRule.from_config(app.config),
    )
    return FlaskResponse(status=201 if stored.created else 200)
