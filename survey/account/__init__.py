"""The signed-in user's own account (``/account/…``): personal API tokens.

Guarded at registration (``survey.auth.protect``): every role may hold tokens, and each user sees and
revokes only their own.
"""

from flask import Blueprint

bp = Blueprint("account", __name__, url_prefix="/account")

from survey.account import views  # noqa: E402, F401  (routes register on bp)
