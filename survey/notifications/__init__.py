"""Mail settings of staff (``/notifications/…``): the digest preference, and the unsubscribe link of a digest.

Guarded at registration, except :func:`views.unsubscribe`, which a signed token opens without signing in.
"""

from flask import Blueprint

bp = Blueprint("notifications", __name__, url_prefix="/notifications")

from survey.notifications import views  # noqa: E402, F401
