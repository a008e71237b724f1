"""Translated names of roles and agency kinds, shared by the administration pages."""

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


def role_label(role: str) -> str:
    label = ROLE_LABELS.get(role)
    return str(label) if label is not None else role


def kind_label(kind: str) -> str:
    label = KIND_LABELS.get(kind)
    return str(label) if label is not None else kind
