"""Agencies managed by province and system administrators: the tree in scope, new child agencies, renames
and (de)activation; and each agency's feedback channel, which its own managers set (with its counters).
Every change runs in one transaction with its audit event.

An agency is tied to an administrative unit valid on the day it is created: after the 2025 reorganisation
(1 July 2025) there are no districts, so only provinces and communes can be chosen. A child agency's
unit lies within its parent's unit (a department sits at the province, a commune's one-stop section at
its commune).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.auth import Scope
from survey.db import db
from survey.models import AdminUnit, Agency
from survey.models.agency import FEEDBACK_MAX_LENGTH, FEEDBACK_URL_MAX_LENGTH
from survey.models.codes import AGENCY_KINDS
from survey.services.administration.counters import CODE_PATTERN, MAX_CODE_LENGTH
from survey.services.administration.scope_queries import in_scope
from survey.services.identity import audit

MAX_NAME_LENGTH = 255
#: Kinds of agencies below another agency, and of top-level ones (created by system administrators only).
CHILD_KINDS = ("department", "service_centre", "commune")
ROOT_KINDS = ("province", "ministry")
assert set(CHILD_KINDS) | set(ROOT_KINDS) == set(AGENCY_KINDS)
#: Districts were abolished on this day (NQ 202/2025/QH15 and the two-level local government).
DISTRICTS_ABOLISHED = dt.date(2025, 7, 1)


class AgencyAdminError(ValueError):
    """Codes: ``not_found``, ``bad_code``, ``code_taken``, ``name_required``, ``bad_kind``, ``bad_unit``,
    ``parent_required``, ``feedback_too_long``, ``bad_url``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class TreeRow:
    agency: Agency
    depth: int


def _sibling_order(agency: Agency) -> tuple[int, str]:
    # Departments, then service centres, then communes, each alphabetically (as provinces list them).
    order = ("ministry", "province", "department", "service_centre", "commune")
    return (order.index(agency.kind) if agency.kind in order else len(order), agency.name_vi)


def agency_tree(session: Session, scope: Scope) -> list[TreeRow]:
    """Agencies in ``scope`` depth-first: a parent before its children, siblings by kind and name."""
    agencies = sorted(session.scalars(select(Agency).where(*in_scope(Agency.id, scope))), key=_sibling_order)
    ids = {a.id for a in agencies}
    children: dict[int | None, list[Agency]] = {}
    for agency in agencies:
        # A scope root's parent is outside the scope: it shows at the top level.
        children.setdefault(agency.parent_id if agency.parent_id in ids else None, []).append(agency)
    rows: list[TreeRow] = []
    stack = [(a, 0) for a in reversed(children.get(None, []))]
    while stack:
        agency, depth = stack.pop()
        rows.append(TreeRow(agency, depth))
        stack.extend((c, depth + 1) for c in reversed(children.get(agency.id, [])))
    return rows


def unit_choices(session: Session, parent: Agency | None, on: dt.date) -> list[AdminUnit]:
    """Administrative units a new agency may use on ``on``: valid that day, no districts after the
    reorganisation; within the parent's unit (itself or below it), or provinces for a top-level agency."""
    units = list(session.scalars(select(AdminUnit).order_by(AdminUnit.level.desc(), AdminUnit.name)))
    valid = [u for u in units if u.valid_on(on) and not (u.level == "district" and on >= DISTRICTS_ABOLISHED)]
    if parent is None:
        return [u for u in valid if u.level == "province"]
    by_id = {u.id: u for u in units}
    root = parent.admin_unit_id

    def within(unit: AdminUnit) -> bool:
        seen = 0
        current: AdminUnit | None = unit
        while current is not None and seen < 10:
            if current.id == root:
                return True
            current = by_id.get(current.parent_id) if current.parent_id is not None else None
            seen += 1
        return False

    return [u for u in valid if within(u)]


def _names(name_vi: str, name_en: str | None) -> tuple[str, str | None]:
    name_vi = name_vi.strip()
    name_en = (name_en or "").strip() or None
    if not name_vi or len(name_vi) > MAX_NAME_LENGTH or (name_en and len(name_en) > MAX_NAME_LENGTH):
        raise AgencyAdminError("name_required")
    return name_vi, name_en


def create_agency(
    scope: Scope,
    parent_code: str | None,
    code: str,
    kind: str,
    name_vi: str,
    name_en: str | None,
    admin_unit_id: int | None,
    actor_user_id: int,
    today: dt.date,
) -> Agency:
    """Create an active agency below ``parent_code`` (in scope), or a top-level one (everything-scope only)."""
    code = code.strip().lower()
    if not CODE_PATTERN.match(code) or len(code) > MAX_CODE_LENGTH:
        raise AgencyAdminError("bad_code")
    name_vi, name_en = _names(name_vi, name_en)
    with db.write() as session:
        parent = None
        if parent_code:
            parent = session.scalar(select(Agency).where(Agency.code == parent_code))
            if parent is None or parent.id not in scope:
                raise AgencyAdminError("not_found")
        elif not scope.everything:
            raise AgencyAdminError("parent_required")
        if kind not in (CHILD_KINDS if parent is not None else ROOT_KINDS):
            raise AgencyAdminError("bad_kind")
        unit = next((u for u in unit_choices(session, parent, today) if u.id == admin_unit_id), None)
        if unit is None or (kind == "commune" and unit.level != "commune"):
            raise AgencyAdminError("bad_unit")
        if session.scalar(select(Agency.id).where(Agency.code == code)) is not None:
            raise AgencyAdminError("code_taken")
        agency = Agency(
            code=code,
            kind=kind,
            name_vi=name_vi,
            name_en=name_en,
            parent_id=parent.id if parent is not None else None,
            admin_unit_id=unit.id,
        )
        session.add(agency)
        session.flush()
        audit.record(
            session,
            "agency.created",
            actor_user_id=actor_user_id,
            target_type="agency",
            target_id=agency.id,
            agency_id=agency.id,
            details={"code": code, "kind": kind, "parent": parent_code, "admin_unit": unit.code},
        )
    return agency


def _load(session: Session, scope: Scope, code: str) -> Agency:
    agency = session.scalar(select(Agency).where(Agency.code == code).with_for_update())
    if agency is None or agency.id not in scope:
        raise AgencyAdminError("not_found")
    return agency


def rename_agency(scope: Scope, code: str, name_vi: str, name_en: str | None, actor_user_id: int) -> Agency:
    """Change an agency's names (its code, and so every URL and import file, stays). Audited."""
    name_vi, name_en = _names(name_vi, name_en)
    with db.write() as session:
        agency = _load(session, scope, code)
        if (agency.name_vi, agency.name_en) != (name_vi, name_en):
            before = {"name_vi": agency.name_vi, "name_en": agency.name_en}
            agency.name_vi, agency.name_en = name_vi, name_en
            audit.record(
                session,
                "agency.renamed",
                actor_user_id=actor_user_id,
                target_type="agency",
                target_id=agency.id,
                agency_id=agency.id,
                details={"code": code, "from": before, "to": {"name_vi": name_vi, "name_en": name_en}},
            )
    return agency


def set_agency_active(scope: Scope, code: str, active: bool, actor_user_id: int) -> Agency:
    """Open or close an agency (its data stays). Audited as ``agency.activated`` / ``agency.deactivated``."""
    with db.write() as session:
        agency = _load(session, scope, code)
        if agency.active != active:
            agency.active = active
            audit.record(
                session,
                "agency.activated" if active else "agency.deactivated",
                actor_user_id=actor_user_id,
                target_type="agency",
                target_id=agency.id,
                agency_id=agency.id,
                details={"code": code},
            )
    return agency


def _feedback_url(raw: str | None) -> str | None:
    """An https address with a host, or None for an empty one; anything else is ``bad_url`` (no other scheme
    reaches the citizens' page: not ``javascript:``, not plain http)."""
    url = (raw or "").strip()
    if not url:
        return None
    try:
        parts = urlsplit(url)
        https = parts.scheme == "https" and bool(parts.hostname)
    except ValueError:  # an unclosed IPv6 bracket, a bad port: not an address
        https = False
    if not https or len(url) > FEEDBACK_URL_MAX_LENGTH or any(c.isspace() for c in url):
        raise AgencyAdminError("bad_url")
    return url


def set_feedback_channel(
    agency_id: int, channel_vi: str | None, channel_en: str | None, url: str | None, actor_user_id: int
) -> Agency:
    """Set where citizens can take a complaint or other feedback (shown on the thank-you page); empty clears it.

    The caller passes an agency the user may manage (``manage_counters``). Audited as
    ``agency.feedback_channel_updated`` (which parts changed, not the text).
    """
    texts = [(value or "").strip() or None for value in (channel_vi, channel_en)]
    if any(text is not None and len(text) > FEEDBACK_MAX_LENGTH for text in texts):
        raise AgencyAdminError("feedback_too_long")
    vi, en = texts
    address = _feedback_url(url)
    with db.write() as session:
        agency = session.scalar(select(Agency).where(Agency.id == agency_id).with_for_update())
        if agency is None:
            raise AgencyAdminError("not_found")
        before = (agency.feedback_channel_vi, agency.feedback_channel_en, agency.feedback_url)
        if before != (vi, en, address):
            agency.feedback_channel_vi, agency.feedback_channel_en, agency.feedback_url = vi, en, address
            changed = [
                name
                for name, old, new in zip(("vi", "en", "url"), before, (vi, en, address), strict=True)
                if old != new
            ]
            audit.record(
                session,
                "agency.feedback_channel_updated",
                actor_user_id=actor_user_id,
                target_type="agency",
                target_id=agency.id,
                agency_id=agency.id,
                details={"code": agency.code, "changed": changed},
            )
    return agency
