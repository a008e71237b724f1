"""Statisticians' and PAR downloads (``/downloads/…``): web exports with progress, codebooks, the PAR report.

Guarded at registration (``survey.auth.protect``); each view narrows the roles with ``requires``.
"""

from flask import Blueprint

bp = Blueprint("downloads", __name__, url_prefix="/downloads")

from survey.downloads import views  # noqa: E402, F401  (routes register on bp)
