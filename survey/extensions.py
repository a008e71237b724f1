"""Flask extensions, created unbound and bound in the factory with ``init_app``."""

from flask import request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
babel = Babel()
login_manager = LoginManager()
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)


def select_locale() -> str:
    """The locale asked for by ``?lang=``, then the cookie, then the configured default."""
    from flask import current_app

    supported = ("vi", "en")
    asked = request.args.get("lang") or request.cookies.get("sipas_lang")
    if asked in supported:
        return asked
    return current_app.config["DEFAULT_LOCALE"]
