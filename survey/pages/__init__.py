"""Information pages for everyone: how the figures are made (methodology)."""

from flask import Blueprint, abort, render_template
from jinja2 import TemplateNotFound

from survey.templating import current_locale

bp = Blueprint("pages", __name__)


@bp.get("/methodology")
def methodology() -> str:
    """The default design for counter data, in the reader's language (long text: one template per language)."""
    try:
        return render_template(f"pages/methodology.{current_locale()}.html")
    except TemplateNotFound:  # pragma: no cover - both languages ship
        abort(404)
