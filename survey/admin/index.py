"""The administration home page: what the signed-in user may manage."""

from __future__ import annotations

from flask import abort, current_app, render_template
from flask.typing import ResponseReturnValue

from survey.admin import bp
from survey.admin.labels import kind_label, role_label, status_label
from survey.auth import can

#: Capabilities that open a section of the administration area.
ADMIN_CAPABILITIES = (
    "import_volumes",
    "manage_users",
    "manage_agencies",
    "view_audit",
    "manage_par",
    "manage_questionnaires",
)


@bp.app_context_processor
def admin_helpers() -> dict[str, object]:
    return {"role_label": role_label, "kind_label": kind_label, "status_label": status_label, "admin_nav": _admin_nav}


def _admin_nav() -> bool:
    """Whether the staff navigation shows the administration link."""
    return any(can(c) for c in ADMIN_CAPABILITIES)


@bp.get("/")
def index() -> ResponseReturnValue:
    if not _admin_nav():
        abort(403)
    return render_template(
        "admin/index.html",
        par_endpoint="admin.par_schemes" if "admin.par_schemes" in current_app.view_functions else None,
    )
