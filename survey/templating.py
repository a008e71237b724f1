"""Template globals and filters: locale, CSP nonce, QR codes, Vietnamese number formats."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Flask, request, url_for
from flask_babel import get_locale
from markupsafe import Markup
from werkzeug.routing import BuildError

from survey.qr import qr_svg
from survey.security import csp_nonce


def current_locale() -> str:
    return str(get_locale() or "vi")


def url_with_query(endpoint: str, query: Iterable[tuple[str, str]], **values: Any) -> str:
    """``url_for(endpoint, **values)`` with ``query`` URL-encoded after it.

    A query taken from the request must never be splatted into ``url_for``: keys such as ``endpoint``,
    ``code`` or ``_method`` would be read as its own arguments (a TypeError, a 500, or another page).
    """
    pairs = list(query)
    base = url_for(endpoint, **values)
    return f"{base}?{urlencode(pairs)}" if pairs else base


def switch_language_url(target: str) -> str:
    # Path arguments win over query arguments of the same name (``?year=x`` must not rebuild ``/<int:year>``).
    path_args = request.view_args or {}
    query = [(k, v) for k, v in request.args.items() if k != "lang" and k not in path_args]
    try:
        return url_with_query(request.endpoint or "public.index", [*query, ("lang", target)], **path_args)
    except (BuildError, ValueError):  # an error page for a URL that matched no rule, or odd arguments
        return url_for("public.index", lang=target)


@cache
def _static_file(folder: str, name: str) -> str:
    return (Path(folder) / name).read_text(encoding="utf-8")


def static_text(name: str) -> Markup:
    """A file of ``static/`` as page text, read once per process (the survey page inlines its CSS).

    Only for our own stylesheets: the content is trusted, so it is not escaped.
    """
    from flask import current_app

    return Markup(_static_file(str(current_app.static_folder), name))  # noqa: S704  (our own static file)


def init_templating(app: Flask) -> None:
    app.jinja_env.globals.update(
        csp_nonce=csp_nonce,
        current_locale=current_locale,
        static_text=static_text,
        switch_language_url=switch_language_url,
        qr_svg=lambda url: Markup(qr_svg(url)),  # noqa: S704  (qrcode's own SVG output, no user text)
    )

    @app.after_request
    def remember_language(response):  # type: ignore[no-untyped-def]
        asked = request.args.get("lang")
        if asked in ("vi", "en"):
            response.set_cookie(
                "sipas_lang",
                asked,
                max_age=365 * 24 * 3600,
                samesite="Lax",
                secure=app.config["SESSION_COOKIE_SECURE"],
                httponly=True,
            )
        return response
