"""Public views: thin — parse, call one service, render.

A survey link is ``/s/<token>``: a QR poster's token (a citizen's phone) or a kiosk token (the counter's
tablet, kiosk mode), each signed under its own salt. Both lead to the same form; a kiosk link adds the
one-tap first screen, is rate-limited per tablet instead of per address, and records its responses as
collected by the kiosk.

A form with answers to correct is never answered with a page to its POST (Back would later land on the
browser's "Confirm form resubmission" page): it is kept server-side for a few minutes and the browser is
redirected to ``GET /s/<token>?f=<key>``, which shows the messages and the answers and forgets them
(POST/redirect/GET). The survey script, whose own ``fetch`` follows that redirect, only looks; the page it
then opens in place of the form is the one that uses the key up.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from flask import abort, current_app, g, redirect, render_template, request, send_from_directory, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError, generate_csrf
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import TooManyRequests
from werkzeug.wrappers import Response as WerkzeugResponse

from survey.db import db
from survey.errors import session_expired_page
from survey.extensions import limiter
from survey.models import Counter
from survey.public import bp
from survey.public.complete_form import read_complete_form
from survey.public.forms import HONEYPOT, SurveyFormBase, build_survey_form, prefill_dossier_code
from survey.services.administration import counters as counter_service
from survey.services.administration import directory
from survey.services.administration.directory import CounterRef
from survey.services.submissions.bursts import BurstRule
from survey.services.submissions.links import counter_survey_path
from survey.services.submissions.store import (
    DuplicateDossierError,
    Submission,
    SubmissionError,
    keep_returned_form,
    returned_form,
    store_submission,
)
from survey.services.submissions.tokens import read_counter_token, read_kiosk_token
from survey.templating import current_locale

log = logging.getLogger(__name__)

#: Seconds a browser may reuse the favicon (it never changes under one name).
FAVICON_MAX_AGE = 7 * 24 * 3600


@bp.get("/")
def index() -> str:
    agencies = directory.agencies_with_counters() if current_app.config["SHOW_COUNTER_DIRECTORY"] else []
    return render_template(
        "public/index.html",
        agencies=agencies,
        survey_path=counter_survey_path,
        config=current_app.config,
        signed_in=current_user.is_authenticated,
    )


@bp.get("/favicon.ico")
def favicon() -> WerkzeugResponse:
    """The site's icon (every page names it; browsers ask for this address anyway), cached for a week."""
    folder = current_app.static_folder or "static"
    return send_from_directory(folder, "favicon.ico", mimetype="image/x-icon", max_age=FAVICON_MAX_AGE)


@dataclass(frozen=True)
class Place:
    """Where a survey link leads: the counter, and whether the link is the counter's tablet (kiosk mode)."""

    ref: CounterRef
    kiosk: bool

    @property
    def counter(self) -> Counter:
        return self.ref.counter


def _place(token: str) -> Place | tuple[str, int]:
    """The counter behind a survey link, or the "no longer in use" page (404 unknown, 410 revoked)."""
    secret = current_app.config["SECRET_KEY"]
    qr = read_counter_token(secret, token)
    if qr is not None:
        ref = directory.resolve_counter(qr)
        return _unavailable(ref) if isinstance(ref, str) else Place(ref, kiosk=False)
    kiosk = read_kiosk_token(secret, token)
    if kiosk is not None:
        ref = counter_service.kiosk_counter(db.session, kiosk)
        return _unavailable(ref) if isinstance(ref, str) else Place(ref, kiosk=True)
    return _unavailable("unknown")


def _unavailable(status: str) -> tuple[str, int]:
    """The "no longer in use" page: 410 for a revoked token, 404 for an unknown one."""
    return render_template("public/counter_unavailable.html"), 410 if status == "revoked" else 404


# -- rate limits: per address for phones, per tablet for a kiosk link, per counter for both ---------------------


def _token() -> str:
    return str((request.view_args or {}).get("token", ""))


def _is_kiosk() -> bool:
    return read_kiosk_token(current_app.config["SECRET_KEY"], _token()) is not None


def _is_not_kiosk() -> bool:
    return not _is_kiosk()


def _submit_limit() -> str:
    return str(current_app.config["SUBMIT_RATE_LIMIT"])


def _kiosk_limit() -> str:
    return str(current_app.config["KIOSK_RATE_LIMIT"])


def _counter_limit() -> str:
    return str(current_app.config["COUNTER_RATE_LIMIT"])


def _kiosk_key() -> str:
    """Rate-limit key of a tablet: one tablet serves a queue of citizens from one address, so it is counted
    by its (signed) kiosk link, not by the address it shares with the office's phones."""
    token = read_kiosk_token(current_app.config["SECRET_KEY"], _token())
    return f"kiosk:{token.counter_id}:{token.key_version}" if token else "kiosk:unknown"


def _counter_key() -> str:
    """Rate-limit key for the counter behind the token (signed, so it cannot be varied at will)."""
    secret = current_app.config["SECRET_KEY"]
    token = read_counter_token(secret, _token()) or read_kiosk_token(secret, _token())
    return f"counter:{token.counter_id}" if token else "counter:unknown"


def _stored(_response: WerkzeugResponse) -> bool:
    # Only stored responses use up a counter's allowance, so junk posts cannot lock a counter.
    return bool(g.get("submission_stored"))


# -- pages ----------------------------------------------------------------------------------------------------


def _survey_form(counter: Counter, formdata: object | None) -> SurveyFormBase:
    secret = current_app.config["SECRET_KEY"]
    return build_survey_form(counter.instrument, directory.procedure_fields(), current_locale(), formdata, secret)


def _not_asked(_token: str) -> ResponseReturnValue:
    """400 for answers to criteria the server did not assign (a rotated questionnaire): a forged or stale form."""
    return render_template(
        "errors/error.html",
        title=_("This form cannot be sent"),
        message=_(
            "The form has answers to questions it did not ask. Open the survey link again and answer the "
            "questions shown."
        ),
    ), 400


def _render(
    form: SurveyFormBase, token: str, place: Place, status: int = 200, notice: str | None = None, **extra: str
) -> ResponseReturnValue:
    counter = place.counter
    return render_template(
        "public/survey.html",
        form=form,
        counter=counter,
        instrument=counter.instrument,
        notice=notice,
        kiosk=place.kiosk,
        fresh_link=_fresh_link(token, place),
        **extra,
    ), status


def _fresh_link(token: str, place: Place) -> str:
    """A kiosk's next form: the survey link in the default language (the next citizen starts there)."""
    if not place.kiosk:
        return url_for("public.survey", token=token)
    return url_for("public.survey", token=token, lang=current_app.config["DEFAULT_LOCALE"])


def _thanks(token: str) -> WerkzeugResponse:
    return redirect(url_for("public.thanks", token=token), code=303)


@bp.route("/s/<token>", methods=["GET", "POST"])
@limiter.limit(_submit_limit, methods=["POST"], exempt_when=_is_kiosk)
@limiter.limit(_kiosk_limit, key_func=_kiosk_key, methods=["POST"], exempt_when=_is_not_kiosk)
@limiter.limit(_counter_limit, key_func=_counter_key, methods=["POST"], deduct_when=_stored)
def survey(token: str) -> ResponseReturnValue:
    if request.method == "POST":
        return _submit(token)
    place = _place(token)
    if isinstance(place, tuple):
        return place
    key = request.args.get("f")
    if key:
        page = _returned(token, place, key)
        if page is not None:
            return page
    form = _survey_form(place.counter, None)
    prefill_dossier_code(form, request.args.get("ma"))
    return _render(form, token, place)


def _returned(token: str, place: Place, key: str) -> ResponseReturnValue | None:
    """The page of a form sent back for corrections, with its messages and answers; None when the key is
    unknown, expired or already used (the page is then a fresh form, never an error).

    Only a navigation uses the key up: the survey script's own request (it follows the redirect of its
    ``fetch``) reads it, then opens this address in place of the form.
    """
    navigation = request.headers.get("Sec-Fetch-Mode", "navigate") == "navigate"
    kept = returned_form(place.ref.id, key, consume=navigation)
    if kept is None:
        return None
    status, fields = kept
    formdata = MultiDict(fields)
    formdata["csrf_token"] = generate_csrf()  # checked when the form was posted; this page gets a fresh one
    form = _survey_form(place.counter, formdata)
    form.validate()
    if status == 409:
        form.dossier_code.errors = [_duplicate_dossier_message()]
    return _render(form, token, place, status)


def _submit(token: str) -> ResponseReturnValue:
    """A complete, valid form is stored straight from the posted fields; anything else takes the form path.

    The counter is looked up once, here; the form path gets the same look-up.
    """
    place = _place(token)
    if isinstance(place, tuple):
        return place
    data = read_complete_form(place.ref.rules, request.form, current_app.config["SECRET_KEY"])
    if data is None:
        return _submit_form(token, place)
    try:
        return _store(token, place, data)
    except DuplicateDossierError:
        return _submit_form(token, place)  # sends the form back with the dossier message


def _store(token: str, place: Place, data: Submission) -> ResponseReturnValue:
    """Store the submission and redirect to the thank-you page; 400 when it does not fit the questionnaire.

    :class:`DuplicateDossierError` is left to the caller, which sends the form back with the message.
    """
    config = current_app.config
    # The overall rating is the tablet's question, and a rotated questionnaire's that declares it: another
    # phone form has none (a posted one is ignored).
    rotation = place.ref.rules.rotation
    asks_overall = place.kiosk or (rotation is not None and rotation.overall)
    data = replace(
        data,
        collection_mode="kiosk" if place.kiosk else "qr",
        overall_score=data.overall_score if asks_overall else None,
    )
    try:
        stored = store_submission(
            place.ref,
            data,
            config["TIMEZONE"],
            burst_rule=BurstRule.from_config(config),
            kiosk_burst_rule=BurstRule.kiosk_from_config(config),
        )
    except SubmissionError as exc:
        # The reason code only: the exception's text may quote what was posted (STYLE 11: no free text in logs).
        log.warning("submission refused", extra={"reason": exc.reason, "counter_id": place.ref.id})
        if exc.reason == "not_assigned":
            return _not_asked(token)
        abort(400)
    g.submission_stored = stored.created
    return _thanks(token)


def _submit_form(token: str, place: Place) -> ResponseReturnValue:
    """The form path: answers to correct are sent back (POST/redirect/GET), forged values get 400, the
    honeypot a silent thank-you."""
    form = _survey_form(place.counter, request.form)
    if form.forged_fields():
        abort(400)
    if form.unasked_posted:
        log.warning("submission refused", extra={"reason": "not_assigned", "counter_id": place.ref.id})
        return _not_asked(token)
    if form.honeypot_filled():
        # Look like success so the bot learns nothing; store nothing.
        log.info("honeypot field filled at counter %s; submission dropped", place.ref.id)
        return _thanks(token)
    if not form.validate():
        return _send_back(token, place, form, 422)
    try:
        return _store(token, place, form.to_submission(current_app.config["SECRET_KEY"]))
    except DuplicateDossierError:
        return _send_back(token, place, form, 409)


def _send_back(token: str, place: Place, form: SurveyFormBase, status: int) -> WerkzeugResponse:
    """Keep the posted answers for the redirect that shows them again with the messages (422, or 409)."""
    names = {field.name for field in form} - {"csrf_token", HONEYPOT}
    fields = [(name, value) for name, value in request.form.items(multi=True) if name in names]
    key = keep_returned_form(place.ref.id, status, fields)
    return redirect(url_for("public.survey", token=token, f=key), code=303)


def _duplicate_dossier_message() -> str:
    return _("This dossier has already been rated. Each dossier can be rated once; clear the code to send a rating.")


@bp.errorhandler(CSRFError)
def csrf_error(_exc: CSRFError) -> ResponseReturnValue:
    """A missing or stale CSRF token: show the form again with the posted answers and a fresh token."""
    token = (request.view_args or {}).get("token")
    place = _place(token) if request.endpoint == "public.survey" and token else None
    if not isinstance(place, Place):
        return session_expired_page()
    form = _survey_form(place.counter, request.form)
    return _render(
        form,
        token or "",
        place,
        400,
        notice=_(
            "For your security the form needs to be sent again. Your answers are kept below: check them and send."
        ),
    )


@bp.errorhandler(429)
def rate_limited(_exc: TooManyRequests) -> ResponseReturnValue:
    """Too many submissions: show the form again with the answers kept and ask to wait (Retry-After is set)."""
    token = (request.view_args or {}).get("token")
    place = _place(token) if request.endpoint == "public.survey" and token else None
    if not isinstance(place, Place) or request.method != "POST":
        return render_template(
            "errors/error.html", title=_("Too many attempts"), message=_("Please wait a minute and try again.")
        ), 429
    return _render(
        _survey_form(place.counter, request.form),
        token or "",
        place,
        429,
        notice=_(
            "Too many answers were sent from here just now. "
            "Your answers are kept below: wait a minute, then send them again."
        ),
        notice_title=_("Too many attempts"),
    )


@bp.get("/s/<token>/thanks")
def thanks(token: str) -> str | tuple[str, int]:
    place = _place(token)
    if isinstance(place, tuple):
        return place
    counter = place.counter
    return render_template(
        "public/thanks.html",
        counter=counter,
        agency=counter.agency,
        kiosk=place.kiosk,
        reset_seconds=counter.kiosk_reset_seconds,
        survey_link=url_for("public.survey", token=token),
        fresh_link=_fresh_link(token, place),
    )
