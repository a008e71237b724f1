"""Security headers on every response, in one place (error pages included)."""

from __future__ import annotations

import secrets

from flask import Flask, Response, abort, g, request

#: Stated on the privacy page; ``tests/multinode/test_tls_browser.py`` proves HTTPS form posts work with it.
REFERRER_POLICY = "same-origin"


def csp_nonce() -> str:
    """Per-request nonce for the few inline scripts (and the survey page's inlined stylesheet)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return str(g.csp_nonce)


def _has_nul(values: object) -> bool:
    return any("\x00" in key or "\x00" in value for key, value in values.items(multi=True))  # type: ignore[attr-defined]  # werkzeug's MultiDict.items(multi=True)


def init_security(app: Flask) -> None:
    https = app.config["BASE_URL"].startswith("https://")

    @app.before_request
    def refuse_nul_bytes() -> None:
        """A NUL byte is in no valid path, parameter or form field, and PostgreSQL refuses it in a query:
        answer 400 here, once, instead of a database error wherever the value would reach SQL."""
        if "\x00" in request.path or _has_nul(request.args):
            abort(400)
        # The citizen's form cleans its own text (control characters are dropped from comments, choices are
        # checked): a stray NUL pasted into a comment must not cost the citizen their answers.
        if request.method == "POST" and request.endpoint != "public.survey" and _has_nul(request.form):
            abort(400)

    @app.after_request
    def set_security_headers(response: Response) -> Response:
        nonce = csp_nonce()
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; "
            f"script-src 'self' 'nonce-{nonce}'; "
            f"style-src 'self' 'nonce-{nonce}'; "
            "img-src 'self' data:; "
            "connect-src 'self'; "
            "font-src 'self'; "
            "object-src 'none'; "
            "base-uri 'none'; "
            "form-action 'self'; "
            "frame-ancestors 'none'"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        # Survey URLs carry the counter token: no other site ever gets a Referer (nor our origin), but the
        # app's own requests carry one, which strict CSRF checking on HTTPS requires (Flask-WTF compares
        # the Referer with the host: with "no-referrer" every form POST over HTTPS was refused).
        response.headers["Referrer-Policy"] = REFERRER_POLICY
        response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()"
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        if https:
            response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        if request.endpoint != "static":
            response.headers.setdefault("Cache-Control", "no-store")
        if request.path.startswith("/s/"):
            response.headers["X-Robots-Tag"] = "noindex, nofollow"
        return response
