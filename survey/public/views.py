"""Public views: thin — parse, call one service, render."""

from __future__ import annotations

import logging

from flask import abort, current_app, redirect, render_template, request, url_for

from survey.extensions import limiter
from survey.models import Counter
from survey.public import bp
from survey.public.forms import build_survey_form
from survey.services import directory
from survey.services.links import counter_survey_path, counter_survey_url
from survey.services.submissions import SubmissionError, store_submission
from survey.services.tokens import read_counter_token
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


def _counter_or_error(token: str) -> Counter | tuple[str, int]:
    """The counter behind a QR token, or the "no longer in use" page (404 unknown, 410 revoked)."""
    lookup = directory.resolve_counter(read_counter_token(current_app.config["SECRET_KEY"], token))
    if lookup.counter is not None:
        return lookup.counter
    status = 410 if lookup.status == "revoked" else 404
    return render_template("public/counter_unavailable.html"), status


def _submit_limit() -> str:
    return str(current_app.config["SUBMIT_RATE_LIMIT"])


@bp.route("/s/<token>", methods=["GET", "POST"])
@limiter.limit(_submit_limit, methods=["POST"])
def survey(token: str):  # type: ignore[no-untyped-def]
    counter = _counter_or_error(token)
    if isinstance(counter, tuple):
        return counter
    locale = current_locale()
    fields = directory.procedure_fields()
    form = build_survey_form(counter.instrument, fields, locale, request.form if request.method == "POST" else None)
    if request.method == "POST":
        if form.forged_fields():
            abort(400)
        if form.validate():
            try:
                store_submission(counter, form.to_submission(), current_app.config["TIMEZONE"])
            except SubmissionError as exc:
                log.warning("submission refused: %s", exc)
                abort(400)
            return redirect(url_for("public.thanks", token=token), code=303)
    return render_template("public/survey.html", form=form, counter=counter, instrument=counter.instrument), (
        422 if form.errors else 200
    )


@bp.get("/s/<token>/thanks")
def thanks(token: str) -> str | tuple[str, int]:
    counter = _counter_or_error(token)
    if isinstance(counter, tuple):
        return counter
    return render_template("public/thanks.html", counter=counter, survey_link=url_for("public.survey", token=token))
