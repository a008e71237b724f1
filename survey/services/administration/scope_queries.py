"""Agencies as pages and the API list them: those in a user's scope, and agencies by code or id.

The one place the "agencies in scope" filter is written (:func:`in_scope`): a :class:`~survey.auth.Scope` of
every agency adds no criterion, any other scope an ``IN`` over its ids (an empty scope matches nothing).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from survey.auth import Scope
from survey.models import Agency


def in_scope(agency_id: Any, scope: Scope) -> list[ColumnElement[bool]]:
    """The criteria keeping rows whose ``agency_id`` column is in ``scope``: ``select(…).where(*in_scope(…))``."""
    return [] if scope.everything else [agency_id.in_(scope.filter_ids() or [-1])]


def agencies_in_scope(session: Session, scope: Scope) -> list[Agency]:
    """The agencies in ``scope``: top-level ones (provinces, ministries) first, then the others, each by
    Vietnamese name."""
    query = select(Agency).where(*in_scope(Agency.id, scope))
    return list(session.scalars(query.order_by(Agency.parent_id.is_not(None), Agency.name_vi)))


def provinces_in_scope(session: Session, scope: Scope) -> list[Agency]:
    """The top-level agencies (provinces and ministries) in ``scope``, by Vietnamese name."""
    query = select(Agency).where(Agency.parent_id.is_(None), *in_scope(Agency.id, scope))
    return list(session.scalars(query.order_by(Agency.name_vi)))


def top_of_scope(session: Session, scope: Scope) -> list[Agency]:
    """The agencies in ``scope`` whose parent is not (a province, a department …), by code."""
    query = select(Agency).where(*in_scope(Agency.id, scope)).order_by(Agency.code)
    return [a for a in session.scalars(query) if a.parent_id is None or a.parent_id not in scope]


def agency_by_code(session: Session, code: str) -> Agency | None:
    """The agency with ``code``, if any. A NUL byte is no code (PostgreSQL would refuse it in a query)."""
    return None if "\x00" in code else session.scalar(select(Agency).where(Agency.code == code))


def agencies_by_ids(session: Session, agency_ids: Iterable[int]) -> list[Agency]:
    """The agencies with these ids, in no particular order."""
    return list(session.scalars(select(Agency).where(Agency.id.in_(list(agency_ids)))))


def agency_codes(session: Session, agency_ids: Iterable[int]) -> dict[int, str]:
    """Agency id → code, for these ids."""
    query = select(Agency.id, Agency.code).where(Agency.id.in_(list(agency_ids)))
    return dict(session.execute(query).all())
