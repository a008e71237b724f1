"""Staff sign-in, sign-out and password change (``/auth/…``). Guarded at registration except sign-in."""

from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/auth")

from survey.auth_views import views  # noqa: E402, F401  (routes register on bp)
