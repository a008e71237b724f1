"""Translated names of roles, agency kinds and questionnaire statuses, shared by the administration pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

ROLE_LABELS = {
    "system_admin": _l("System administrator"),
    "province_admin": _l("Province administrator"),
    "agency_manager": _l("Agency manager"),
    "agency_viewer": _l("Agency viewer"),
    "statistician": _l("Statistician"),
    "auditor": _l("Auditor"),
}

KIND_LABELS = {
    "ministry": _l("Ministry"),
    "province": _l("Province"),
    "department": _l("Department"),
    "commune": _l("Commune"),
    "service_centre": _l("Public administrative service centre"),
}


STATUS_LABELS = {
    "draft": _l("Draft"),
    "published": _l("Published"),
    "retired": _l("Retired"),
}


def status_label(status: str) -> str:
    """A questionnaire version's status, translated."""
    label = STATUS_LABELS.get(status)
    return str(label) if label is not None else status


def role_label(role: str) -> str:
    label = ROLE_LABELS.get(role)
    return str(label) if label is not None else role


def kind_label(kind: str) -> str:
    label = KIND_LABELS.get(kind)
    return str(label) if label is not None else kind
