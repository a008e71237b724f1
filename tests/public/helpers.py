"""What a browser sees of a survey POST: a form sent back for corrections is a 303 to the page showing it."""

from __future__ import annotations

from flask.testing import FlaskClient
from werkzeug.test import TestResponse


def sent_back(response: TestResponse) -> bool:
    """Whether a survey POST was answered by sending the form back (POST/redirect/GET), not stored."""
    location = response.headers.get("Location", "")
    return response.status_code == 303 and "?f=" in location and not location.endswith("/thanks")


def followed(client: FlaskClient, response: TestResponse) -> TestResponse:
    """The page a browser lands on after a survey POST: the redirect of a form sent back is followed (the
    page then has the status of the problem: 422 answers to correct, 409 a dossier already rated)."""
    if sent_back(response):
        return client.get(response.headers["Location"])
    return response
