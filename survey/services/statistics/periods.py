"""Named survey periods ("Đợt khảo sát 2026"): defined on an agency, they apply to its whole subtree.

Dashboards and exports offer the periods of an agency and of its ancestors as presets. Every change
runs in one transaction with its audit event.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.auth import Scope
from survey.db import db
from survey.models import Agency, SurveyPeriod
from survey.services.administration.scope_queries import in_scope
from survey.services.identity import audit

MAX_NAME_LENGTH = 120
#: Longest period, in days (a little over five years, as the dashboard allows).
MAX_DAYS = 5 * 366
FIRST_YEAR, LAST_YEAR = 2000, 2100


class PeriodError(ValueError):
    """Codes: ``not_found``, ``name_required``, ``name_taken``, ``end_before_start``, ``too_long``,
    ``out_of_range``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def periods_in_scope(session: Session, scope: Scope) -> list[tuple[SurveyPeriod, Agency]]:
    """Periods defined on agencies in ``scope``, latest start first."""
    where = in_scope(SurveyPeriod.agency_id, scope)
    rows = session.execute(
        select(SurveyPeriod, Agency)
        .join(Agency, Agency.id == SurveyPeriod.agency_id)
        .where(*where)
        .order_by(SurveyPeriod.starts_on.desc(), SurveyPeriod.name)
    )
    return [(p, a) for p, a in rows]


def periods_for_agency(session: Session, agency_id: int) -> list[SurveyPeriod]:
    """Periods that apply to an agency: defined on it or on any of its ancestors, latest start first."""
    parents = dict(session.execute(select(Agency.id, Agency.parent_id)).all())
    chain: list[int] = []
    current: int | None = agency_id
    while current is not None and current not in chain:
        chain.append(current)
        current = parents.get(current)
    return list(
        session.scalars(
            select(SurveyPeriod)
            .where(SurveyPeriod.agency_id.in_(chain))
            .order_by(SurveyPeriod.starts_on.desc(), SurveyPeriod.name)
        )
    )


def period_in_scope(session: Session, scope: Scope, period_id: int) -> SurveyPeriod | None:
    period = session.get(SurveyPeriod, period_id)
    return period if period is not None and period.agency_id in scope else None


def _validate(name: str, starts_on: dt.date, ends_on: dt.date) -> str:
    name = name.strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise PeriodError("name_required")
    if not (FIRST_YEAR <= starts_on.year <= LAST_YEAR and FIRST_YEAR <= ends_on.year <= LAST_YEAR):
        raise PeriodError("out_of_range")
    if ends_on < starts_on:
        raise PeriodError("end_before_start")
    if (ends_on - starts_on).days > MAX_DAYS:
        raise PeriodError("too_long")
    return name


def _name_taken(session: Session, agency_id: int, name: str, other_than: int | None) -> bool:
    q = select(SurveyPeriod.id).where(SurveyPeriod.agency_id == agency_id, SurveyPeriod.name == name)
    if other_than is not None:
        q = q.where(SurveyPeriod.id != other_than)
    return session.scalar(q) is not None


def _details(period: SurveyPeriod, agency_code: str) -> dict[str, str]:
    return {
        "agency": agency_code,
        "name": period.name,
        "starts_on": period.starts_on.isoformat(),
        "ends_on": period.ends_on.isoformat(),
    }


def create_period(
    scope: Scope, agency_code: str, name: str, starts_on: dt.date, ends_on: dt.date, actor_user_id: int
) -> SurveyPeriod:
    """Define a period on an agency in scope. Audited as ``period.created``."""
    name = _validate(name, starts_on, ends_on)
    with db.write() as session:
        agency = session.scalar(select(Agency).where(Agency.code == agency_code))
        if agency is None or agency.id not in scope:
            raise PeriodError("not_found")
        if _name_taken(session, agency.id, name, None):
            raise PeriodError("name_taken")
        period = SurveyPeriod(agency_id=agency.id, name=name, starts_on=starts_on, ends_on=ends_on)
        session.add(period)
        session.flush()
        audit.record(
            session,
            "period.created",
            actor_user_id=actor_user_id,
            target_type="survey_period",
            agency_id=agency.id,
            target_id=period.id,
            details=_details(period, agency.code),
        )
    return period


def _load(session: Session, scope: Scope, period_id: int) -> tuple[SurveyPeriod, Agency]:
    period = session.scalar(select(SurveyPeriod).where(SurveyPeriod.id == period_id).with_for_update())
    if period is None or period.agency_id not in scope:
        raise PeriodError("not_found")
    agency = session.get(Agency, period.agency_id)
    assert agency is not None
    return period, agency


def update_period(
    scope: Scope, period_id: int, name: str, starts_on: dt.date, ends_on: dt.date, actor_user_id: int
) -> SurveyPeriod:
    """Rename a period or move its dates. Audited as ``period.updated`` (before and after)."""
    name = _validate(name, starts_on, ends_on)
    with db.write() as session:
        period, agency = _load(session, scope, period_id)
        if _name_taken(session, agency.id, name, period.id):
            raise PeriodError("name_taken")
        before = _details(period, agency.code)
        period.name, period.starts_on, period.ends_on = name, starts_on, ends_on
        after = _details(period, agency.code)
        if before != after:
            audit.record(
                session,
                "period.updated",
                actor_user_id=actor_user_id,
                target_type="survey_period",
                agency_id=agency.id,
                target_id=period.id,
                details={"from": before, "to": after},
            )
    return period


def delete_period(scope: Scope, period_id: int, actor_user_id: int) -> None:
    """Delete a period (responses are untouched: a period is only a named date range). Audited."""
    with db.write() as session:
        period, agency = _load(session, scope, period_id)
        details = _details(period, agency.code)
        session.delete(period)
        audit.record(
            session,
            "period.deleted",
            actor_user_id=actor_user_id,
            target_type="survey_period",
            agency_id=agency.id,
            target_id=period_id,
            details=details,
        )
