"""API token pages: list, create (the secret shown once, on the answer to the POST) and revoke."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from survey.account import bp
from survey.account.forms import RevokeForm, TokenForm
from survey.db import db
from survey.services.identity import api_tokens


def _page(form: TokenForm, new: api_tokens.NewToken | None = None, status: int = 200) -> ResponseReturnValue:
    tokens = api_tokens.tokens_of(db.session, current_user.id)
    return render_template(
        "account/tokens.html",
        form=form,
        revoke=RevokeForm(),
        tokens=[(t, api_tokens.status(t)) for t in tokens],
        new=new,
        api_url=request.url_root.rstrip("/") + "/api/v1",
    ), status


@bp.get("/tokens")
def tokens() -> ResponseReturnValue:
    return _page(TokenForm(formdata=None))


@bp.post("/tokens")
def create_token() -> ResponseReturnValue:
    form = TokenForm()
    if not form.validate_on_submit():
        return _page(form, status=422)
    lifetime = None if form.lifetime.data == "never" else int(form.lifetime.data or 0)
    try:
        new = api_tokens.create_token(current_user.id, form.name.data or "", lifetime)
    except api_tokens.TokenError:
        form.name.errors = [_("Enter what the token is for, like “R scripts on my laptop”")]
        return _page(form, status=422)
    # The secret is on this answer only: never in a redirect, a flash message or the session cookie.
    return _page(TokenForm(formdata=None), new=new)


@bp.post("/tokens/<int:token_id>/revoke")
def revoke_token(token_id: int) -> WerkzeugResponse:
    if not RevokeForm().validate_on_submit():
        abort(400)
    try:
        token = api_tokens.revoke_token(current_user.id, token_id)
    except api_tokens.TokenError:
        abort(404)
    flash(_("The token “%(name)s” has been revoked: it no longer works.", name=token.name), "info")
    return redirect(url_for("account.tokens"), code=303)
