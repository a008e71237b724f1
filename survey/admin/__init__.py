"""Administration pages (``/admin/…``): the audit log for auditors. Guarded at registration."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from survey.admin import views  # noqa: E402, F401  (routes register on bp)
