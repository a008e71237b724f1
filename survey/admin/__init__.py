"""Administration pages (``/admin/…``): volumes, users and roles, agencies, survey periods and the audit log.
Guarded at registration; each view names its capability."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

# Routes register on bp as each module is imported.
import survey.admin.par  # noqa: E402, F401  (PAR schemes)
import survey.admin.public_results  # noqa: E402, F401  (the public results page's opt-in)
import survey.admin.questionnaires  # noqa: E402, F401  (questionnaire versions: drafts, preview, publish)
from survey.admin import agencies, index, periods, users, views, volumes  # noqa: E402, F401
