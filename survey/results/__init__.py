"""The public results page (``/results/…``): no sign-in; only provinces that opted in, only presented figures.

Not guarded (citizens read it); every view answers 404 for an agency whose province does not publish.
"""

from flask import Blueprint

bp = Blueprint("results", __name__, url_prefix="/results")

from survey.results import views  # noqa: E402, F401
