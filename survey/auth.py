"""Who may see what: roles, capabilities and agency scopes, enforced in one place.

Every staff blueprint is guarded at registration (:func:`protect`): nothing in it answers an anonymous
request. Per-view :func:`requires` only narrows which roles may use a page, and :func:`scope` tells the
service layer which agency ids a user may read or change for a capability. A role assignment covers
its agency and every descendant; a system administrator has every agency. Agencies outside a user's
scope answer 404 (their existence is not confirmed), pages a role may not use answer 403.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, abort, current_app, g, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.db import db
from survey.models import Agency, User

F = TypeVar("F", bound=Callable[..., Any])

#: Which roles hold each capability. Scope still applies: a role covers its agency subtree only.
CAPABILITIES: dict[str, frozenset[str]] = {
    # Read indices, the province comparison and counters of agencies in scope.
    "view_dashboard": frozenset({"system_admin", "province_admin", "agency_manager", "agency_viewer", "statistician"}),
    # Rename, (de)activate, rotate QR keys, choose instruments, print posters; exclude responses.
    "manage_counters": frozenset({"system_admin", "province_admin", "agency_manager"}),
    # The all-agencies comparison table of a province.
    "view_province": frozenset({"system_admin", "province_admin"}),
    # The audit log (read only).
    "view_audit": frozenset({"system_admin", "auditor"}),
    # Mark citizens' comments handled (reading them comes with view_dashboard).
    "handle_comments": frozenset({"system_admin", "province_admin", "agency_manager"}),
    # Response-level data: exports, the responses API, samples.
    "export_data": frozenset({"system_admin", "province_admin", "statistician"}),
    # Transaction volumes: import (file or API) and read.
    "import_volumes": frozenset({"system_admin", "province_admin", "agency_manager"}),
    # Staff accounts and their roles, within the manager's own subtree.
    "manage_users": frozenset({"system_admin", "province_admin", "agency_manager"}),
    # Create, rename and (de)activate agencies; named survey periods.
    "manage_agencies": frozenset({"system_admin", "province_admin"}),
    # PAR schemes per province and year, and the PAR report.
    "manage_par": frozenset({"system_admin", "province_admin"}),
    # Questionnaire versions: upload drafts (XLSForm or TOML), preview, publish, retire (the province's own).
    "manage_questionnaires": frozenset({"system_admin", "province_admin"}),
}


@dataclass(frozen=True)
class Scope:
    """The agencies a user may use for one capability: every agency, or an explicit id set."""

    everything: bool
    agency_ids: frozenset[int]

    def __contains__(self, agency_id: object) -> bool:
        return self.everything or agency_id in self.agency_ids

    @property
    def empty(self) -> bool:
        return not self.everything and not self.agency_ids

    def filter_ids(self) -> list[int] | None:
        """Ids for an ``IN`` filter, or None for "no filter" (everything)."""
        return None if self.everything else sorted(self.agency_ids)


NOTHING = Scope(False, frozenset())


def _children_map(session: Session) -> dict[int | None, list[int]]:
    children: dict[int | None, list[int]] = {}
    for agency_id, parent_id in session.execute(select(Agency.id, Agency.parent_id)):
        children.setdefault(parent_id, []).append(agency_id)
    return children


def subtree(children: dict[int | None, list[int]], roots: Iterable[int]) -> set[int]:
    """Every agency id at or below ``roots`` (the hierarchy is a forest; cycles are refused by walking once)."""
    seen: set[int] = set()
    stack = list(roots)
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        stack.extend(children.get(node, ()))
    return seen


def scope_for(session: Session, user: User | None, capability: str) -> Scope:
    """The agencies ``user`` may use for ``capability`` (NOTHING for anonymous or inactive users)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.active:
        return NOTHING
    roles = CAPABILITIES[capability]
    held = [r for r in user.roles if r.role in roles]
    # A role held without an agency (system_admin; a system auditor) covers every agency.
    if any(r.agency_id is None for r in held):
        return Scope(True, frozenset())
    roots = [r.agency_id for r in held if r.agency_id is not None]
    if not roots:
        return NOTHING
    return Scope(False, frozenset(subtree(_children_map(session), roots)))


def scope(capability: str) -> Scope:
    """The signed-in user's scope for ``capability``, computed once per request."""
    cache: dict[str, Scope] = g.setdefault("sipas_scopes", {})
    if capability not in cache:
        cache[capability] = scope_for(db.session, current_user, capability)
    return cache[capability]


def can(capability: str) -> bool:
    """Whether the signed-in user holds ``capability`` over at least one agency."""
    return not scope(capability).empty


#: Where a signed-in user lands (after sign-in, and from ``/agency/`` without dashboards): the first page of
#: this list the user's roles may use; the password page (every account has one) otherwise.
LANDING_PAGES: tuple[tuple[str, str], ...] = (
    ("view_dashboard", "agency.home"),
    ("view_audit", "admin.audit_log"),
    ("manage_users", "admin.index"),
)


def landing_url() -> str:
    """The first page the signed-in user can use (an auditor lands on the audit log, not on a 403)."""
    for capability, endpoint in LANDING_PAGES:
        if can(capability) and endpoint in current_app.view_functions:
            return url_for(endpoint)
    return url_for("auth.password")


def requires(capability: str) -> Callable[[F], F]:
    """Refine a guarded view: 403 unless the user holds ``capability`` somewhere."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not can(capability):
                abort(403)
            return view(*args, **kwargs)

        wrapped.sipas_capability = capability  # type: ignore[attr-defined]  # the capability is read back by the route walk (tests/test_route_auth.py)
        return wrapped  # type: ignore[return-value]  # functools.wraps keeps the view's signature

    return decorate


def agency_in_scope(code: str, capability: str) -> Agency:
    """The agency with ``code`` if the user may use it for ``capability``; 404 otherwise (no existence leak)."""
    # A NUL byte (``%00`` in the URL) is no code, and PostgreSQL refuses it in a query (a 500, not a 404).
    agency = None if "\x00" in code else db.session.scalar(select(Agency).where(Agency.code == code))
    if agency is None or agency.id not in scope(capability):
        abort(404)
    return agency


def protect(bp: Blueprint, public_endpoints: Iterable[str] = ()) -> Blueprint:
    """Guard every view of ``bp``: anonymous requests go to sign-in (except ``public_endpoints``)."""
    open_endpoints = frozenset(public_endpoints)
    if getattr(bp, "sipas_protected", None) is not None:
        # Blueprints are module-level and every app (one per test) registers them again: guard once.
        if bp.sipas_protected != open_endpoints:  # type: ignore[attr-defined]  # a marker attribute set below on the blueprint
            raise RuntimeError(f"blueprint {bp.name} is already guarded with other public endpoints")
        return bp

    @bp.before_request
    def require_sign_in() -> Any:
        if request.endpoint in open_endpoints:
            return None
        if not current_user.is_authenticated:
            from survey.extensions import login_manager

            return login_manager.unauthorized()
        return None

    bp.sipas_protected = open_endpoints  # type: ignore[attr-defined]  # a marker attribute read when the blueprint is registered
    return bp


def load_user(user_id: str) -> User | None:
    """Flask-Login loader: ``"<id>:<security stamp>"``; a changed stamp ends the session."""
    raw_id, _, token = user_id.partition(":")
    if not raw_id.isdigit() or not token:
        return None
    user = db.session.get(User, int(raw_id))
    if user is None or not user.active or not user.session_token:
        return None
    if not hmac.compare_digest(user.session_token.encode(), token.encode()):
        return None
    return user


def init_login(manager: LoginManager) -> None:
    manager.user_loader(load_user)
    manager.login_view = "auth.sign_in"
    manager.login_message = _l("Sign in to see this page.")
    manager.login_message_category = "info"
