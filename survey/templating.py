"""Template globals and filters: locale, CSP nonce, QR codes, Vietnamese number formats; StrictUndefined; errors."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Flask, request, url_for
from flask_babel import get_locale
from jinja2 import StrictUndefined, pass_context
from jinja2.runtime import Context
from markupsafe import Markup
from werkzeug.routing import BuildError
from wtforms import Field, FieldList, Form, FormField

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


#: Context names under which views pass a problem that belongs to no field (sign-in, a PAR scheme, an
#: import's rows, the survey's expired session): each makes the page an error page like a field's error.
PROBLEM_NAMES = ("problem", "problems", "notice")


@pass_context
def page_has_errors(context: Context) -> bool:
    """Whether the page shows an error summary: its ``<title>`` then starts with "Error:" (base.html).

    Read from the page's own context: any WTForms form in it with errors, or a problem in
    ``PROBLEM_NAMES``; views pass their forms and problems, never an error flag of their own.
    """
    values = context.get_all()
    if any(values.get(name) for name in PROBLEM_NAMES):
        return True
    return any(isinstance(value, Form) and _has_errors(value) for value in values.values())


def _has_errors(item: Form | Field) -> bool:
    """Errors anywhere in a form, sub-forms and lists included. ``Form.errors`` is not enough: it is worked
    out once, so an error a view adds to a field after ``validate()`` (the PAR scheme's checks) is missing."""
    if isinstance(item, Form):
        return bool(getattr(item, "form_errors", None)) or any(_has_errors(field) for field in item)
    if isinstance(item, FormField):
        return _has_errors(item.form)
    if isinstance(item, FieldList):
        return any(_has_errors(entry) for entry in item.entries)
    return bool(item.errors)


def error_context() -> dict[str, Any]:
    """The one source of a page's error state for base.html (see ``page_has_errors``)."""
    return {"page_has_errors": page_has_errors}


def init_templating(app: Flask) -> None:
    # An undefined name or attribute is an error, not a silent blank: test with ``is defined`` instead.
    app.jinja_env.undefined = StrictUndefined
    app.context_processor(error_context)
    app.jinja_env.globals.update(
        csp_nonce=csp_nonce,
        current_locale=current_locale,
        static_text=static_text,
        switch_language_url=switch_language_url,
        qr_svg=lambda url: Markup(qr_svg(url)),  # noqa: S704  (qrcode's own SVG output, no user text)
    )

    @app.after_request
    def remember_language(response):  # type: ignore[no-untyped-def]  # werkzeug's Response, typed by Flask's after_request
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
