"""Flask extensions, created unbound and bound in the factory with ``init_app``."""

from flask import request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from survey.privacy import client_key

csrf = CSRFProtect()
babel = Babel()
login_manager = LoginManager()
# Keyed by a hash of the client address, never the address itself (survey/privacy.py).
limiter = Limiter(key_func=client_key, default_limits=[])


def select_locale() -> str:
    """The locale asked for by ``?lang=``, then the cookie, then the configured default."""
    from flask import current_app

    supported = ("vi", "en")
    asked = request.args.get("lang") or request.cookies.get("sipas_lang")
    if asked in supported:
        return asked
    return str(current_app.config["DEFAULT_LOCALE"])
