"""Staff pages per agency (``/agency/…``): dashboards, the province table, counters and responses.

Guarded at registration (``survey.auth.protect``); each view names its capability and resolves the
agency through ``survey.auth.agency_in_scope`` (404 outside the user's scope).
"""

from flask import Blueprint

bp = Blueprint("agency", __name__, url_prefix="/agency")

# Routes and template helpers register on bp (counter_create: adding counters).
import survey.agency.alerts  # noqa: E402, F401  (alerts)
import survey.agency.followup  # noqa: E402, F401  (comment follow-up)
from survey.agency import counter_create, formatting, views  # noqa: E402, F401
