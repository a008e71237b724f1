"""The citizens' side: the landing page and the survey behind each counter's QR code."""

from flask import Blueprint

bp = Blueprint("public", __name__)

from survey.public import views, worker  # noqa: E402, F401  (routes register on bp)
