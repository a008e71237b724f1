"""The audit log in words: translated names of the recorded actions, of the keys in their details, and of the
codes those details hold. The stored events keep their stable English codes; only the page translates."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

ACTION_LABELS = {
    "agency.activated": _l("Agency reopened"),
    "agency.created": _l("Agency created"),
    "agency.deactivated": _l("Agency closed"),
    "agency.feedback_channel_updated": _l("Feedback channel changed"),
    "agency.renamed": _l("Agency renamed"),
    "api_token.created": _l("API token created"),
    "api_token.revoked": _l("API token revoked"),
    "auth.sign_in_failed": _l("Failed sign-in"),
    "auth.signed_in": _l("Signed in"),
    "auth.signed_out": _l("Signed out"),
    "auth.throttled": _l("Sign-in attempts slowed down"),
    "comment.assigned": _l("Comment assigned"),
    "comment.due": _l("Comment due date set"),
    "comment.published": _l("Comment published (“you said, we did”)"),
    "comment.unpublished": _l("Comment unpublished"),
    "comment.reply": _l("Reply note written"),
    "comment.status": _l("Comment status changed"),
    "comment.reviewed": _l("Comment marked handled"),
    "comments.purged": _l("Old comments deleted"),
    "counter.activated": _l("Counter reopened"),
    "counter.created": _l("Counter created"),
    "counter.deactivated": _l("Counter closed"),
    "counter.key_rotated": _l("Counter QR code renewed"),
    "counter.kiosk_key_rotated": _l("Kiosk link renewed"),
    "counter.kiosk_updated": _l("Kiosk mode changed"),
    "counter.updated": _l("Counter changed"),
    "export_job.created": _l("Export requested"),
    "export_job.downloaded": _l("Export downloaded"),
    "exports.purged": _l("Old exports deleted"),
    "notification.preferences": _l("Mail choices changed"),
    "par_report.generated": _l("PAR report generated"),
    "par_scheme.created": _l("PAR scheme created"),
    "par_scheme.updated": _l("PAR scheme changed"),
    "period.created": _l("Survey period created"),
    "period.deleted": _l("Survey period deleted"),
    "period.updated": _l("Survey period changed"),
    "public_results.disabled": _l("Public results page switched off"),
    "public_results.enabled": _l("Public results page switched on"),
    "response.excluded": _l("Response excluded"),
    "responses.exported": _l("Responses exported"),
    "seed.demo": _l("Demo data created"),
    "user.activated": _l("User reactivated"),
    "user.created": _l("User created"),
    "user.deactivated": _l("User deactivated"),
    "user.password_change_failed": _l("Password change refused"),
    "user.password_changed": _l("Password changed"),
    "user.password_reset": _l("Password reset"),
    "user.renamed": _l("User renamed"),
    "user.role_granted": _l("Role granted"),
    "user.role_removed": _l("Role removed"),
    "volumes.imported": _l("Transaction volumes imported"),
}

DETAIL_LABELS = {
    "agency": _l("Agency"),
    "agency_id": _l("Agency"),
    "reason": _l("Reason"),
    "role": _l("Role"),
    "code": _l("Code"),
    "kind": _l("Kind"),
    "name": _l("Name"),
    "format": _l("Format"),
    "rows": _l("Rows"),
    "from": _l("Before"),
    "to": _l("After"),
    "starts_on": _l("First day"),
    "ends_on": _l("Last day"),
    "with_note": _l("With a note"),
    "sessions_ended": _l("Sessions ended"),
    "instrument_id": _l("Questionnaire"),
    "key_version": _l("Key version"),
    "digest": _l("Digest"),
    "alert_mail": _l("Alert mail"),
    "year": _l("Year"),
}

VALUE_LABELS = {
    "staff_self_rating": _l("Staff rated their own service"),
    "test_or_training": _l("Test or training entry"),
    "duplicate": _l("Duplicate of another response"),
    "wrong_counter": _l("Given at the wrong counter or agency"),
    "other": _l("Other reason"),
    "wrong_password": _l("wrong password"),
    "wrong_current": _l("wrong current password"),
    "unknown_email": _l("unknown e-mail address"),
    "daily": _l("daily"),
    "weekly": _l("weekly"),
    "never": _l("never"),
}

TARGET_LABELS = {
    "agency": _l("Agency"),
    "api_token": _l("API token"),
    "counter": _l("Counter"),
    "export_job": _l("Export"),
    "file": _l("File"),
    "instrument": _l("Questionnaire"),
    "par_scheme": _l("PAR scheme"),
    "response": _l("Response"),
    "survey_period": _l("Survey period"),
    "user": _l("User"),
}


def action_label(action: str) -> str:
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action


def target_label(target_type: str | None) -> str:
    if not target_type:
        return ""
    label = TARGET_LABELS.get(target_type)
    return str(label) if label is not None else target_type


def _value(value: Any, agency_names: dict[int, str], key: str) -> str:
    if isinstance(value, bool):
        return str(_l("yes")) if value else str(_l("no"))
    if key == "agency_id" and isinstance(value, int):
        return agency_names.get(value, f"#{value}")
    if isinstance(value, dict):
        return "; ".join(f"{detail_label(k)}: {_value(v, agency_names, k)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_value(v, agency_names, key) for v in value)
    if value is None:
        return "–"
    label = VALUE_LABELS.get(str(value))
    return str(label) if label is not None else str(value)


def detail_label(key: str) -> str:
    label = DETAIL_LABELS.get(key)
    return str(label) if label is not None else key.replace("_", " ")


def details(raw: dict[str, Any] | None, agency_names: dict[int, str]) -> list[tuple[str, str]]:
    """The event's details as (label, value) lines in the reader's language; agency ids become names."""
    return [(detail_label(k), _value(v, agency_names, k)) for k, v in (raw or {}).items()]
