"""Staff pages per agency (``/agency/…``): dashboards, the province table, counters and responses.

Guarded at registration (``survey.auth.protect``); each view names its capability and resolves the
agency through ``survey.auth.agency_in_scope`` (404 outside the user's scope).
"""

from flask import Blueprint

bp = Blueprint("agency", __name__, url_prefix="/agency")

# Routes and template helpers register on bp (counter_create: adding counters).
from survey.agency import counter_create, formatting, views  # noqa: E402, F401
