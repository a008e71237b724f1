"""Public views: thin — parse, call one service, render."""

from __future__ import annotations

import logging

from flask import abort, current_app, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import TooManyRequests
from werkzeug.wrappers import Response as WerkzeugResponse

from survey.errors import session_expired_page
from survey.extensions import limiter
from survey.models import Counter
from survey.public import bp
from survey.public.complete_form import read_complete_form
from survey.public.forms import SurveyFormBase, build_survey_form, prefill_dossier_code
from survey.services.administration import directory
from survey.services.administration.directory import CounterRef
from survey.services.submissions.bursts import BurstRule
from survey.services.submissions.links import counter_survey_path, counter_survey_url
from survey.services.submissions.store import (
    DuplicateDossierError,
    Submission,
    SubmissionError,
    store_submission,
)
from survey.services.submissions.tokens import read_counter_token
from survey.templating import current_locale

log = logging.getLogger(__name__)


@bp.get("/")
def index() -> str:
    agencies = directory.agencies_with_counters() if current_app.config["SHOW_COUNTER_DIRECTORY"] else []
    return render_template(
        "public/index.html",
        agencies=agencies,
        survey_url=counter_survey_url,
        survey_path=counter_survey_path,
        config=current_app.config,
    )


def _counter_or_error(token: str) -> CounterRef | tuple[str, int]:
    """The counter behind a QR token, or the "no longer in use" page (404 unknown, 410 revoked)."""
    ref = directory.resolve_counter(read_counter_token(current_app.config["SECRET_KEY"], token))
    return _unavailable(ref) if isinstance(ref, str) else ref


def _unavailable(status: str) -> tuple[str, int]:
    """The "no longer in use" page: 410 for a revoked token, 404 for an unknown one."""
    return render_template("public/counter_unavailable.html"), 410 if status == "revoked" else 404


def _submit_limit() -> str:
    return str(current_app.config["SUBMIT_RATE_LIMIT"])


def _counter_limit() -> str:
    return str(current_app.config["COUNTER_RATE_LIMIT"])


def _counter_key() -> str:
    """Rate-limit key for the counter behind the token (signed, so it cannot be varied at will)."""
    token = read_counter_token(current_app.config["SECRET_KEY"], (request.view_args or {}).get("token", ""))
    return f"counter:{token.counter_id}" if token else "counter:unknown"


def _stored(_response: WerkzeugResponse) -> bool:
    # Only stored responses use up a counter's allowance, so junk posts cannot lock a counter.
    return bool(g.get("submission_stored"))


def _survey_form(counter: Counter, formdata: object | None) -> SurveyFormBase:
    return build_survey_form(counter.instrument, directory.procedure_fields(), current_locale(), formdata)


def _render(
    form: SurveyFormBase, counter: Counter, status: int = 200, notice: str | None = None, **extra: str
) -> ResponseReturnValue:
    return render_template(
        "public/survey.html", form=form, counter=counter, instrument=counter.instrument, notice=notice, **extra
    ), status


def _thanks(token: str) -> WerkzeugResponse:
    return redirect(url_for("public.thanks", token=token), code=303)


@bp.route("/s/<token>", methods=["GET", "POST"])
@limiter.limit(_submit_limit, methods=["POST"])
@limiter.limit(_counter_limit, key_func=_counter_key, methods=["POST"], deduct_when=_stored)
def survey(token: str) -> ResponseReturnValue:
    if request.method == "POST":
        return _submit(token)
    ref = _counter_or_error(token)
    if isinstance(ref, tuple):
        return ref
    form = _survey_form(ref.counter, None)
    prefill_dossier_code(form, request.args.get("ma"))
    return _render(form, ref.counter)


def _submit(token: str) -> ResponseReturnValue:
    """A complete, valid form is stored straight from the posted fields; anything else takes the form path.

    The counter is looked up once, here; the form path gets the same look-up.
    """
    ref = _counter_or_error(token)
    if isinstance(ref, tuple):
        return ref
    data = read_complete_form(ref.rules, request.form, current_app.config["SECRET_KEY"])
    if data is None:
        return _submit_form(token, ref)
    try:
        return _store(token, ref, data)
    except DuplicateDossierError:
        return _submit_form(token, ref)  # renders the form with the dossier message


def _store(token: str, counter: CounterRef, data: Submission) -> WerkzeugResponse:
    """Store the submission and redirect to the thank-you page; 400 when it does not fit the questionnaire.

    :class:`DuplicateDossierError` is left to the caller, which shows the form with the message.
    """
    config = current_app.config
    try:
        stored = store_submission(counter, data, config["TIMEZONE"], burst_rule=BurstRule.from_config(config))
    except SubmissionError as exc:
        # The reason code only: the exception's text may quote what was posted (STYLE 11: no free text in logs).
        log.warning("submission refused", extra={"reason": exc.reason, "counter_id": counter.id})
        abort(400)
    g.submission_stored = stored.created
    return _thanks(token)


def _submit_form(token: str, ref: CounterRef) -> ResponseReturnValue:
    """The form path: messages for missing answers, 400 for forged values, the honeypot's silent thanks."""
    counter = ref.counter
    form = _survey_form(counter, request.form)
    if form.forged_fields():
        abort(400)
    if form.honeypot_filled():
        # Look like success so the bot learns nothing; store nothing.
        log.info("honeypot field filled at counter %s; submission dropped", counter.id)
        return _thanks(token)
    if not form.validate():
        return _render(form, counter, 422)
    try:
        return _store(token, ref, form.to_submission(current_app.config["SECRET_KEY"]))
    except DuplicateDossierError:
        form.dossier_code.errors = [
            _("This dossier has already been rated. Each dossier can be rated once; clear the code to send a rating.")
        ]
        return _render(form, counter, 409)


@bp.errorhandler(CSRFError)
def csrf_error(_exc: CSRFError) -> ResponseReturnValue:
    """A missing or stale CSRF token: show the form again with the posted answers and a fresh token."""
    token = (request.view_args or {}).get("token")
    ref = _counter_or_error(token) if request.endpoint == "public.survey" and token else None
    if not isinstance(ref, CounterRef):
        return session_expired_page()
    counter = ref.counter
    form = _survey_form(counter, request.form)
    return _render(
        form,
        counter,
        400,
        notice=_(
            "For your security the form needs to be sent again. Your answers are kept below: check them and send."
        ),
    )


@bp.errorhandler(429)
def rate_limited(_exc: TooManyRequests) -> ResponseReturnValue:
    """Too many submissions: show the form again with the answers kept and ask to wait (Retry-After is set)."""
    token = (request.view_args or {}).get("token")
    ref = _counter_or_error(token) if request.endpoint == "public.survey" and token else None
    if not isinstance(ref, CounterRef) or request.method != "POST":
        return render_template(
            "errors/error.html", title=_("Too many attempts"), message=_("Please wait a minute and try again.")
        ), 429
    return _render(
        _survey_form(ref.counter, request.form),
        ref.counter,
        429,
        notice=_(
            "Too many answers were sent from here just now. "
            "Your answers are kept below: wait a minute, then send them again."
        ),
        notice_title=_("Too many attempts"),
    )


@bp.get("/s/<token>/thanks")
def thanks(token: str) -> str | tuple[str, int]:
    ref = _counter_or_error(token)
    if isinstance(ref, tuple):
        return ref
    return render_template("public/thanks.html", counter=ref.counter, survey_link=url_for("public.survey", token=token))
