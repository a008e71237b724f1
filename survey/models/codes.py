"""Closed code lists stored as short strings, each checked by a CheckConstraint.

Strings (not database enums) keep SQLite and PostgreSQL identical and let a code be added with a
one-line migration that replaces the check.
"""

from __future__ import annotations

from collections.abc import Iterable

ADMIN_LEVELS = ("province", "district", "commune")
SUCCESSION_KINDS = ("merge", "split", "rename", "transfer")
AGENCY_KINDS = ("ministry", "province", "department", "commune", "service_centre")
CHANNELS = ("in_person", "online", "postal")
COLLECTION_MODES = ("qr", "kiosk", "import")
RESPONDENT_TYPES = ("person", "organisation")
RESPONSE_STATUSES = ("valid", "excluded")
GENDERS = ("male", "female", "other")
#: Stored as is; exports write ``60+`` as ``over-60`` (``survey.services.exports.schema.EXPORT_VALUES``).
AGE_BANDS = ("18-24", "25-34", "35-49", "50-60", "60+")
EDUCATION_LEVELS = ("primary", "lower_secondary", "upper_secondary", "vocational", "university", "other")
OCCUPATIONS = ("retired", "not_working", "self_employed", "student", "private_sector", "public_sector", "other")
ROLES = ("system_admin", "province_admin", "agency_manager", "agency_viewer", "statistician", "auditor")
#: Roles that may be held without an agency (system_admin always is; an auditor without one reads everything).
UNSCOPED_ROLES = ("system_admin", "auditor")


def check_in(column: str, values: Iterable[str]) -> str:
    """SQL for ``column IN (...)``, for a CheckConstraint."""
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"
