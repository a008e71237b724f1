"""Information pages for everyone: how the figures are made (methodology) and what is kept (privacy)."""

from flask import Blueprint, abort, current_app, render_template
from jinja2 import TemplateNotFound

from survey.services.submissions.store import RETURNED_FORM_SECONDS
from survey.templating import current_locale

bp = Blueprint("pages", __name__)


@bp.get("/methodology")
def methodology() -> str:
    """The default design for counter data, in the reader's language (long text: one template per language)."""
    try:
        return render_template(f"pages/methodology.{current_locale()}.html")
    except TemplateNotFound:  # pragma: no cover - both languages ship
        abort(404)


@bp.get("/privacy")
def privacy() -> str:
    """What is collected and what is not, comment scrubbing and retention, who sees what (one template per language)."""
    try:
        return render_template(
            f"pages/privacy.{current_locale()}.html",
            retention_days=current_app.config["COMMENT_RETENTION_DAYS"],
            returned_form_minutes=RETURNED_FORM_SECONDS // 60,
        )
    except TemplateNotFound:  # pragma: no cover - both languages ship
        abort(404)
